import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign,
  timingSafeEqual,
  verify,
} from 'node:crypto';

/**
 * One record of the audit trail: who changed what, when, with digests of the state before and
 * after, a redacted diff, and the hash chain. `hash` is SHA-256 over the record's canonical JSON
 * without `hash` and `sig`; `prev` is the previous record's `hash` (64 zeros for the first), so
 * changing, removing, inserting or reordering a record breaks the chain at that point.
 */
export interface AuditRecord {
  readonly seq: number;
  readonly time: string;
  /** `token:<id>` (admin API), `cli:<user>` (a command), `gateway` (a reload it made itself). */
  readonly actor: string;
  /** `config.reload`, `config.apply`, `config.rollback`, `keys.create`, `keys.revoke`, … */
  readonly action: string;
  readonly target: string;
  /** `sha256:<hex>` of the state before and after, or null (nothing before, nothing after). */
  readonly before: string | null;
  readonly after: string | null;
  /** What changed, with secrets already redacted by the caller. */
  readonly diff: unknown;
  readonly prev: string;
  readonly hash: string;
  /** `hmac-sha256:<base64url>` or `ed25519:<base64url>` over `hash`, when a key is configured. */
  readonly sig?: string;
}

export type AuditEntry = Pick<AuditRecord, 'actor' | 'action' | 'target' | 'before' | 'after' | 'diff'>;

export const GENESIS = '0'.repeat(64);

/** JSON with object keys sorted at every level: one byte string per value, for hashing. */
export function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

export function recordHash(
  record: Omit<AuditRecord, 'hash' | 'sig'> & { hash?: string; sig?: string },
): string {
  const { hash: _hash, sig: _sig, ...rest } = record;
  return createHash('sha256').update(canonical(rest)).digest('hex');
}

/** `sha256:<hex>` of a state (a config's text, a key record), for `before`/`after`. */
export function digest(state: string | Buffer): string {
  return `sha256:${createHash('sha256').update(state).digest('hex')}`;
}

/**
 * Signs record hashes (HMAC-SHA-256 with a shared secret, or Ed25519 with a private key) and
 * checks them. Without a signer the chain shows edits but not a consistent rewrite of the whole
 * tail by someone who can write the file; with one, that needs the key too.
 */
export interface AuditSigner {
  readonly kind: 'hmac-sha256' | 'ed25519';
  sign(hash: string): string;
  check(hash: string, sig: string): boolean;
}

export function hmacSigner(secret: string): AuditSigner {
  if (Buffer.byteLength(secret) < 32) throw new Error('the audit HMAC key must be at least 32 bytes');
  const mac = (hash: string) => createHmac('sha256', secret).update(hash).digest('base64url');
  return {
    kind: 'hmac-sha256',
    sign: (hash) => `hmac-sha256:${mac(hash)}`,
    check(hash, sig) {
      const expected = Buffer.from(`hmac-sha256:${mac(hash)}`);
      const given = Buffer.from(sig);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}

/** Ed25519 from a PEM private key (signs and checks) or a PEM public key (checks only, for verifiers). */
export function ed25519Signer(pem: string): AuditSigner {
  let priv: KeyObject | null = null;
  let pub: KeyObject;
  if (pem.includes('PRIVATE KEY')) {
    priv = createPrivateKey(pem);
    pub = createPublicKey(priv);
  } else {
    pub = createPublicKey(pem);
  }
  if (pub.asymmetricKeyType !== 'ed25519')
    throw new Error(`the audit signing key is ${pub.asymmetricKeyType}, not ed25519`);
  return {
    kind: 'ed25519',
    sign(hash) {
      if (priv === null) throw new Error('an Ed25519 public key cannot sign audit records');
      return `ed25519:${sign(null, Buffer.from(hash), priv).toString('base64url')}`;
    },
    check(hash, sig) {
      if (!sig.startsWith('ed25519:')) return false;
      return verify(null, Buffer.from(hash), pub, Buffer.from(sig.slice(8), 'base64url'));
    },
  };
}
