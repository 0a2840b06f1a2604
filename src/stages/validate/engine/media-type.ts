/**
 * Media types of request bodies (RFC 9110 §8.3.1): `type/subtype` compared case-insensitively,
 * parameters ignored for matching (a `charset` is read separately). OpenAPI's `content` keys may
 * be ranges (`text/*`, `*\/*`); the most specific declared key wins (OpenAPI 3.1 §4.8.14).
 */

/** The essence of a Content-Type header (`application/json`), or null when it is not `type/subtype`. */
export function mediaTypeOf(header: string | undefined): string | null {
  if (header === undefined) return null;
  const semi = header.indexOf(';');
  const essence = (semi < 0 ? header : header.slice(0, semi)).trim().toLowerCase();
  return /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(essence) ? essence : null;
}

/** The `charset` parameter of a Content-Type header, lowercased, or null. */
export function charsetOf(header: string | undefined): string | null {
  if (header === undefined) return null;
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(header);
  return m ? m[1]!.toLowerCase() : null;
}

export type BodyKind = 'json' | 'form' | 'other';

/** `application/json` and every `+json` structured syntax suffix (RFC 6839 §3.1) are JSON. */
export function bodyKind(mediaType: string): BodyKind {
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) return 'json';
  if (mediaType === 'application/x-www-form-urlencoded') return 'form';
  return 'other';
}

/**
 * The declared `content` key that a request's media type falls under: the exact type, then
 * `type/*`, then `*\/*`. Keys are compared lowercased without parameters.
 */
export function matchMediaType<T>(declared: ReadonlyMap<string, T>, mediaType: string): T | undefined {
  const exact = declared.get(mediaType);
  if (exact !== undefined) return exact;
  const slash = mediaType.indexOf('/');
  return declared.get(`${mediaType.slice(0, slash)}/*`) ?? declared.get('*/*');
}
