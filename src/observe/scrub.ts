/**
 * The last redaction layer, applied to every line a log sink writes (access log, gateway log,
 * and the security events that join them): whatever a field is called, a value that looks like
 * a secret or personal data is masked. Name-based redaction (credential headers, secret query
 * parameters; stages/log/redact.ts) runs first and catches what has a known place; this
 * catches what travels elsewhere — a token pasted into a path, a card number in a query, an
 * email in a header chosen for logging.
 *
 * Detectors, each with a bounded pattern (no nested quantifiers; lines are scanned only when a
 * cheap pre-check finds a trigger):
 * - JWTs (a compact JWS: base64url `eyJ…` header, payload and signature);
 * - Rampart API keys (`rk_<id>_<secret>`: the public id is kept, the secret masked);
 * - bearer / basic credentials after the scheme word;
 * - email addresses, also percent-encoded (`%40`);
 * - payment card numbers: 13–19 digits, optionally grouped by spaces or dashes, that pass the
 *   Luhn check (ISO/IEC 7812), so order ids and timestamps are left alone.
 */

const AUTH_WORD = /bearer|basic/i;
/** A card number has six digits in a row, or two groups of four: timestamps and UUIDs rarely do. */
const CARD_HINT = /\d{6}|\d{4}[ -]\d{4}/;
const JWT = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;
const API_KEY = /\brk_([a-z2-7]{16})_[A-Za-z0-9_-]{43}/g;
// A credential is at least 8 characters and not a plain lowercase word ("basic authentication").
const AUTH_SCHEME =
  /\b([Bb][Ee][Aa][Rr][Ee][Rr]|[Bb][Aa][Ss][Ii][Cc])(\s+|%20|\+)(?!\[REDACTED)(?![a-z]+(?![A-Za-z0-9._~+/=-]))[A-Za-z0-9._~+/=-]{8,}/g;
const EMAIL = /[A-Za-z0-9._%+-]{1,64}(?:@|%40)[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}\b/g;
const CARD = /(?<![0-9A-Za-z-])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z-])/g;

export const MASKS = {
  jwt: '[REDACTED:jwt]',
  email: '[REDACTED:email]',
  card: '[REDACTED:card]',
  secret: '[REDACTED]',
} as const;

/** `text` with every detected secret or personal datum masked; the same string when none. */
export function scrub(text: string): string {
  let out = text;
  if (out.includes('eyJ')) out = out.replace(JWT, MASKS.jwt);
  if (out.includes('rk_')) out = out.replace(API_KEY, `rk_$1_${MASKS.secret}`);
  if (AUTH_WORD.test(out)) out = out.replace(AUTH_SCHEME, `$1$2${MASKS.secret}`);
  if (out.includes('@') || out.includes('%40')) out = out.replace(EMAIL, MASKS.email);
  if (CARD_HINT.test(out)) out = out.replace(CARD, (c) => (isCardNumber(c) ? MASKS.card : c));
  return out;
}

/** Digits grouped consistently (none, or all spaces, or all dashes) and Luhn-valid. */
export function isCardNumber(candidate: string): boolean {
  const hasSpace = candidate.includes(' ');
  const hasDash = candidate.includes('-');
  if (hasSpace && hasDash) return false;
  const digits = hasSpace || hasDash ? candidate.replace(/[ -]/g, '') : candidate;
  if (digits.length < 13 || digits.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}
