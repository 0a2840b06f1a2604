import { createHmac, randomBytes } from 'node:crypto';

/**
 * API key format: `rk_<public id>_<secret>`.
 *
 * - The public id (16 chars of lowercase RFC 4648 base32, 80 bits) names the key in the store,
 *   in logs and in brute-force counters. Its alphabet has no `_`, so the first `_` after the
 *   prefix always ends it, even though the secret may itself contain `_`.
 * - The secret is 32 random bytes in unpadded base64url (43 chars). It is never stored: the
 *   store keeps `hashSecret(pepper, secret)` only.
 */
export const API_KEY_PREFIX = 'rk_';

/** Lowercase RFC 4648 base32: 32 symbols, so `byte & 31` picks one without bias. */
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const ID_LENGTH = 16;
const SECRET_BYTES = 32;

export const API_KEY_ID_PATTERN = /^[a-z2-7]{16}$/;
/** Anchored on both ends: JS `$` (without the `m` flag) does not match before a trailing newline. */
const TOKEN_PATTERN = /^rk_([a-z2-7]{16})_([A-Za-z0-9_-]{43})$/;

/** SigV4 access key ids look like AWS's (`AKIA` + 16): `RK` + 18 uppercase base32 chars. */
export const SIGV4_ID_PATTERN = /^RK[A-Z2-7]{18}$/;
/** 30 random bytes in standard base64: 40 chars, no padding, like an AWS secret access key. */
const SIGV4_SECRET_BYTES = 30;

export interface ApiKey {
  readonly id: string;
  readonly secret: string;
  /** What the client sends; shown once at creation. */
  readonly token: string;
}

export interface SigV4Credential {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

function randomId(length: number, alphabet: string): string {
  let out = '';
  for (const byte of randomBytes(length)) out += alphabet[byte & 31];
  return out;
}

export function generateApiKey(): ApiKey {
  const id = randomId(ID_LENGTH, ID_ALPHABET);
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { id, secret, token: `${API_KEY_PREFIX}${id}_${secret}` };
}

export function generateSigV4Credential(): SigV4Credential {
  return {
    accessKeyId: `RK${randomId(18, ID_ALPHABET.toUpperCase())}`,
    secretAccessKey: randomBytes(SIGV4_SECRET_BYTES).toString('base64'),
  };
}

/** Strict: anything but exactly `rk_<16 id chars>_<43 base64url chars>` is null (no trimming). */
export function parseApiKey(token: string): { id: string; secret: string } | null {
  const m = TOKEN_PATTERN.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : null;
}

/**
 * Hex HMAC-SHA-256 of the secret under the pepper. The pepper is a server-side secret kept
 * out of the store, so a leaked store file alone does not allow offline guessing; the secret
 * has 256 bits of entropy, so a slow password hash would add cost without adding safety.
 */
export function hashSecret(pepper: string, secret: string): string {
  return createHmac('sha256', pepper).update(secret).digest('hex');
}
