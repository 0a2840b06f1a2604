import { decideBatch, type LimitCheck, type LimitOutcome, quotaKey } from './limits.ts';
import type { StateStore } from './store.ts';

interface Entry {
  value: number;
  expires: number;
}

/**
 * The embedded state store: one process, no persistence. Expired keys are removed when read
 * and swept periodically, so memory stays bounded by the keys live within their TTL; `maxKeys`
 * bounds it absolutely (the oldest-inserted keys go first, as an attacker spraying IPs must
 * not grow the gateway without limit).
 */
export class MemoryStore implements StateStore {
  readonly #map = new Map<string, Entry>();
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: { maxKeys?: number; now?: () => number; sweepMs?: number } = {}) {
    this.#maxKeys = options.maxKeys ?? 1_000_000;
    this.#now = options.now ?? Date.now;
    this.#sweeper = setInterval(() => this.sweep(), options.sweepMs ?? 10_000);
    this.#sweeper.unref();
  }

  get size(): number {
    return this.#map.size;
  }

  #live(key: string): Entry | undefined {
    const entry = this.#map.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires <= this.#now()) {
      this.#map.delete(key);
      return undefined;
    }
    return entry;
  }

  #put(key: string, entry: Entry): void {
    if (this.#map.size >= this.#maxKeys && !this.#map.has(key)) {
      this.sweep();
      if (this.#map.size >= this.#maxKeys) this.#map.delete(this.#map.keys().next().value!);
    }
    this.#map.set(key, entry);
  }

  async increment(key: string, ttlMs: number, by = 1): Promise<number> {
    const entry = this.#live(key);
    if (entry) {
      entry.value += by;
      return entry.value;
    }
    this.#put(key, { value: by, expires: this.#now() + ttlMs });
    return by;
  }

  /** Synchronous inside, so atomic: no other request runs between the read and the write. */
  async consume(checks: readonly LimitCheck[]): Promise<LimitOutcome> {
    const now = this.#now();
    const keys = checks.map((c) => (c.kind === 'rate' ? c.key : quotaKey(c, now)));
    const { outcome, writes } = decideBatch(checks, now, (i) => this.#live(keys[i]!)?.value);
    for (let i = 0; i < writes.length; i++) {
      const w = writes[i];
      if (w === undefined) continue;
      const entry = this.#live(keys[i]!);
      // A quota's window keeps its first expiry; a TAT's key lives as long as it is ahead.
      if (entry !== undefined && checks[i]!.kind === 'quota') entry.value = w.value;
      else this.#put(keys[i]!, { value: w.value, expires: now + w.ttlMs });
    }
    return outcome;
  }

  async count(key: string): Promise<number> {
    return this.#live(key)?.value ?? 0;
  }

  async setIfAbsent(key: string, ttlMs: number): Promise<boolean> {
    if (this.#live(key)) return false;
    this.#put(key, { value: 1, expires: this.#now() + ttlMs });
    return true;
  }

  async ttl(key: string): Promise<number> {
    const entry = this.#live(key);
    return entry ? entry.expires - this.#now() : 0;
  }

  async set(key: string, ttlMs: number): Promise<void> {
    this.#put(key, { value: 1, expires: this.#now() + ttlMs });
  }

  async delete(...keys: string[]): Promise<void> {
    for (const key of keys) this.#map.delete(key);
  }

  /** Drop expired keys. */
  sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#map) if (entry.expires <= now) this.#map.delete(key);
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#map.clear();
  }
}
