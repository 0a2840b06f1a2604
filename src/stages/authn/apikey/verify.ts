import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { parseApiKey } from './format.ts';
import type { KeyRecord, KeyStore } from './store.ts';

export type ApiKeyReason =
  | 'api_key_invalid'
  | 'api_key_revoked'
  | 'api_key_expired'
  | 'key_store_unavailable';

export type ApiKeyVerdict =
  | { readonly ok: true; readonly record: KeyRecord; readonly credentialId: string }
  | {
      readonly ok: false;
      readonly reason: ApiKeyReason;
      /** For logs: names the key id, never the secret. */
      readonly detail: string;
      /** The public id whenever the token parsed, so brute force is counted per key as well as per IP. */
      readonly credentialId?: string;
    };

/**
 * What an unknown id's secret is compared against. No HMAC output will equal it in practice,
 * and computing the HMAC anyway keeps the work the same as for a known id.
 */
const NO_SUCH_KEY = createHash('sha256').update('rampart: no such API key').digest();

/**
 * Verify `rk_<id>_<secret>` against the store. The order is deliberate: the secret is checked
 * before revocation or expiry, so a caller without the secret learns nothing about a key's
 * status (a wrong secret for a revoked key is `api_key_invalid`, like an unknown id).
 */
export function verifyApiKey(
  token: string,
  store: KeyStore | null,
  pepper: string,
  nowMs: number,
): ApiKeyVerdict {
  const parsed = parseApiKey(token);
  if (parsed === null) return { ok: false, reason: 'api_key_invalid', detail: 'malformed API key' };
  const credentialId = parsed.id;
  if (store === null) {
    return {
      ok: false,
      reason: 'key_store_unavailable',
      detail: 'the key store is unavailable',
      credentialId,
    };
  }
  const record = store.get(parsed.id);
  const known = record !== undefined && record.kind === 'apiKey' && record.hash !== undefined;
  const expected = known ? Buffer.from(record.hash!, 'hex') : NO_SUCH_KEY;
  const actual = createHmac('sha256', pepper).update(parsed.secret).digest();
  // Both are 32-byte digests (the store validates `hash` as 64 hex chars).
  if (!timingSafeEqual(actual, expected) || !known) {
    const detail = known ? `API key ${parsed.id}: wrong secret` : `API key ${parsed.id}: unknown id`;
    return { ok: false, reason: 'api_key_invalid', detail, credentialId };
  }
  if (record.revokedAt !== undefined) {
    return {
      ok: false,
      reason: 'api_key_revoked',
      detail: `API key ${parsed.id} revoked at ${record.revokedAt}`,
      credentialId,
    };
  }
  if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= nowMs) {
    const why = record.replacedBy !== undefined ? ` (rotated to ${record.replacedBy})` : '';
    return {
      ok: false,
      reason: 'api_key_expired',
      detail: `API key ${parsed.id} expired at ${record.expiresAt}${why}`,
      credentialId,
    };
  }
  return { ok: true, record, credentialId };
}

/*
 * SigV4 secrets. Verifying a SigV4 signature means recomputing it, which needs the plaintext
 * secret access key: a hash cannot serve, so the store keeps the secret sealed instead.
 * AES-256-GCM (authenticated: a flipped bit fails to open rather than yielding a wrong secret)
 * under a key derived from the pepper with HKDF-SHA-256 (RFC 5869), info `rampart sigv4 secret`,
 * so the sealing key is independent of the pepper's use as the API key HMAC key. Random 96-bit
 * IVs (NIST SP 800-38D §8.2.2) are safe far beyond the number of keys a store will ever hold.
 */
const SEAL_INFO = 'rampart sigv4 secret';
const IV_BYTES = 12;
const TAG_BYTES = 16;
let sealKeyCache: { readonly pepper: string; readonly key: Buffer } | null = null;

function sealKey(pepper: string): Buffer {
  if (sealKeyCache?.pepper !== pepper) {
    const key = Buffer.from(hkdfSync('sha256', pepper, Buffer.alloc(0), SEAL_INFO, 32));
    sealKeyCache = { pepper, key };
  }
  return sealKeyCache.key;
}

/** base64url of iv | ciphertext | tag. */
export function sealSigV4Secret(secret: string, pepper: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', sealKey(pepper), iv, { authTagLength: TAG_BYTES });
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

/** The plaintext secret access key of a `sigv4` record. Throws if it does not open with this pepper. */
export function unsealSigV4Secret(record: Pick<KeyRecord, 'id' | 'kind' | 'sealed'>, pepper: string): string {
  if (record.kind !== 'sigv4' || record.sealed === undefined) {
    throw new Error(`key ${record.id} is not a SigV4 key`);
  }
  const raw = Buffer.from(record.sealed, 'base64url');
  try {
    const decipher = createDecipheriv('aes-256-gcm', sealKey(pepper), raw.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    throw new Error(
      `key ${record.id}: the sealed secret does not open with this pepper (wrong pepper or altered store)`,
    );
  }
}
