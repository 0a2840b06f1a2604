import { parseStrictJson } from './strict-json.ts';

/**
 * Structural checks on a compact JWS (RFC 7515 §7.1) before any key is looked up or any
 * signature computed. jose accepts some non-canonical forms (it decodes leniently); a gateway
 * must not, because a token has to mean the same thing to every parser that reads it, and an
 * attacker must not get key fetches or signature work out of a token that is junk.
 */

export type SplitToken =
  | {
      readonly ok: true;
      readonly header: Record<string, unknown>;
      readonly payload: Record<string, unknown>;
      /** `BASE64URL(header) || '.' || BASE64URL(payload)`, as signed. */
      readonly signingInput: string;
      readonly signature: Uint8Array;
    }
  | { readonly ok: false; readonly reason: 'token_malformed' | 'token_too_large'; readonly detail: string };

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/**
 * Header parameters that point at a key (RFC 7515 §4.1.2, §4.1.3, §4.1.5). Following them lets
 * the token choose the key that verifies it: they are refused rather than ignored, so a client
 * trying it is seen. `x5c` is merely ignored: keys only ever come from the configured key set.
 */
const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk'] as const;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function splitToken(token: string, maxBytes: number): SplitToken {
  // First, so an oversized token costs nothing more than its length.
  if (token.length > maxBytes || Buffer.byteLength(token) > maxBytes) {
    return malformed(`token is longer than ${maxBytes} bytes`, 'token_too_large');
  }
  const parts = token.split('.');
  if (parts.length !== 3) {
    return malformed(
      parts.length === 5 ? 'a JWE (5 parts) is not accepted' : `${parts.length} parts, want 3 (compact JWS)`,
    );
  }
  const names = ['header', 'payload', 'signature'] as const;
  for (let i = 0; i < 3; i++) {
    const problem = canonicalBase64url(parts[i]!);
    // An empty signature is the unsecured JWT of RFC 7519 §6: never accepted.
    if (problem !== null) return malformed(`${names[i]}: ${problem}`);
  }
  const header = decodeObject(parts[0]!);
  if (typeof header === 'string') return malformed(`header: ${header}`);
  const payload = decodeObject(parts[1]!);
  if (typeof payload === 'string') return malformed(`payload: ${payload}`);

  const { alg } = header;
  if (typeof alg !== 'string' || alg === '') return malformed('header has no "alg"');
  if (alg.toLowerCase() === 'none') return malformed('alg "none" is never accepted');
  for (const name of FORBIDDEN_HEADERS) {
    if (Object.hasOwn(header, name)) return malformed(`header "${name}" is never followed`);
  }
  return {
    ok: true,
    header,
    payload,
    signingInput: `${parts[0]}.${parts[1]}`,
    signature: Buffer.from(parts[2]!, 'base64url'),
  };
}

/**
 * RFC 7515 §2 / RFC 4648 §5 without padding, and canonical: §3.5 lets the unused low bits of
 * the last character be anything, so without this check one token has many spellings (each
 * passing a replay cache or deny list keyed on the string).
 */
function canonicalBase64url(part: string): string | null {
  if (part === '') return 'empty';
  if (!BASE64URL.test(part)) return 'not base64url (padding, whitespace or another character)';
  const rest = part.length % 4;
  if (rest === 1) return 'impossible base64url length';
  if (rest !== 0) {
    const last = ALPHABET.indexOf(part[part.length - 1]!);
    const unused = rest === 2 ? 0b1111 : 0b11;
    if ((last & unused) !== 0) return 'non-zero trailing bits (not canonical base64url)';
  }
  return null;
}

function decodeObject(part: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = parseStrictJson(utf8.decode(Buffer.from(part, 'base64url')));
  } catch (err) {
    return err instanceof TypeError ? 'not UTF-8' : `invalid JSON: ${(err as Error).message}`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  return value as Record<string, unknown>;
}

function malformed(
  detail: string,
  reason: 'token_malformed' | 'token_too_large' = 'token_malformed',
): SplitToken & { ok: false } {
  return { ok: false, reason, detail };
}
