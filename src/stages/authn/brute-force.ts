import type { StateStore } from '../../store/store.ts';

export interface BruteForceOptions {
  readonly windowMs: number;
  readonly delayAfter: number;
  readonly delayMs: number;
  readonly maxDelayMs: number;
  readonly lockoutAfter: number;
  readonly lockoutMs: number;
}

/** What one failure led to. */
export interface FailureOutcome {
  /** Hold the 401 this long before answering (progressive delay). */
  readonly delayMs: number;
  /** This failure locked the client or credential out (a security event). */
  readonly lockedOut: boolean;
  readonly failures: number;
}

/**
 * Counts failed authentications per client IP and per credential id in the state store, so
 * every gateway instance sharing a Redis store sees the same counts. Past `delayAfter`
 * failures each further 401 is delayed (doubling, capped); at `lockoutAfter` the IP or the
 * credential is locked out for `lockoutMs`. A success clears the counts.
 */
export class BruteForceGuard {
  readonly #store: StateStore;
  readonly #o: BruteForceOptions;

  constructor(store: StateStore, options: BruteForceOptions) {
    this.#store = store;
    this.#o = options;
  }

  get options(): BruteForceOptions {
    return this.#o;
  }

  /** Milliseconds left of a lockout of this client IP (0: not locked out). */
  ipLockedFor(ip: string): Promise<number> {
    return this.#store.ttl(lockKey('ip', ip));
  }

  /** Milliseconds left of a lockout of this credential id (0: not locked out). */
  credentialLockedFor(credentialId: string): Promise<number> {
    return this.#store.ttl(lockKey('cred', credentialId));
  }

  /** Count a failure for the IP (and the credential, when one was named). */
  async fail(ip: string, credentialId: string | null): Promise<FailureOutcome> {
    const o = this.#o;
    const counts = await Promise.all([
      this.#store.increment(countKey('ip', ip), o.windowMs),
      credentialId === null ? 0 : this.#store.increment(countKey('cred', credentialId), o.windowMs),
    ]);
    const [ipCount, credCount] = counts;
    // At the threshold and past it: a failure after a lockout expired locks again at once, for as
    // long as the window still counts the earlier failures (a success clears them).
    let lockedOut = false;
    if (ipCount >= o.lockoutAfter) {
      await this.#store.set(lockKey('ip', ip), o.lockoutMs);
      lockedOut = true;
    }
    if (credentialId !== null && credCount >= o.lockoutAfter) {
      await this.#store.set(lockKey('cred', credentialId), o.lockoutMs);
      lockedOut = true;
    }
    const failures = Math.max(ipCount, credCount);
    return { delayMs: this.delayFor(failures), lockedOut, failures };
  }

  /** A verified credential: its failures (and the IP's) are forgiven. */
  async succeed(ip: string, credentialId: string | null): Promise<void> {
    const keys = [countKey('ip', ip)];
    if (credentialId !== null) keys.push(countKey('cred', credentialId));
    await this.#store.delete(...keys);
  }

  /** Failures on record for this IP (and credential): a success must clear them. */
  async failures(ip: string, credentialId: string | null = null): Promise<number> {
    if (credentialId === null) return this.#store.count(countKey('ip', ip));
    const [a, b] = await Promise.all([
      this.#store.count(countKey('ip', ip)),
      this.#store.count(countKey('cred', credentialId)),
    ]);
    return a + b;
  }

  delayFor(failures: number): number {
    const o = this.#o;
    if (failures <= o.delayAfter) return 0;
    const doublings = Math.min(failures - o.delayAfter - 1, 30);
    return Math.min(o.delayMs * 2 ** doublings, o.maxDelayMs);
  }
}

// Credential ids are client-chosen strings: hashing is not needed for safety (keys are opaque to
// the store), but they are capped so a huge one cannot bloat the store.
function countKey(kind: 'ip' | 'cred', id: string): string {
  return `authn:fail:${kind}:${id.slice(0, 256)}`;
}

function lockKey(kind: 'ip' | 'cred', id: string): string {
  return `authn:lock:${kind}:${id.slice(0, 256)}`;
}
