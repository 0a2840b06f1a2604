/**
 * `name=value&…` pairs: the query string (RFC 3986 §3.4) and form bodies
 * (`application/x-www-form-urlencoded`, WHATWG URL §5.1). They differ in one byte: `+` means a
 * space in a form body only. In a query string it is a literal `+` — OpenAPI serializes query
 * parameters per RFC 6570, where a space is `%20` — so `?q=a+b` validates as `a+b`.
 *
 * Names are decoded at once (they are looked up); values stay raw until a declared parameter
 * reads them, because some styles split on a delimiter before decoding (`,` in `form`), so an
 * encoded `%2C` stays part of one value.
 */

/** Decoded name → raw values in order of appearance (a repeated name has several). */
export type Pairs = Map<string, string[]>;

export function parsePairs(raw: string, plusIsSpace: boolean): Pairs {
  const pairs: Pairs = new Map();
  if (raw === '') return pairs;
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawName = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    // An undecodable name cannot be any declared name; it is kept raw, and never matches.
    const name = decodeComponent(rawName, plusIsSpace) ?? rawName;
    const list = pairs.get(name);
    if (list === undefined) pairs.set(name, [value]);
    else list.push(value);
  }
  return pairs;
}

/**
 * Percent-decode one component as UTF-8 (RFC 3986 §2.1), or null when an escape is malformed or
 * the bytes are not UTF-8: such a value is refused, never passed on half-decoded.
 */
export function decodeComponent(raw: string, plusIsSpace: boolean): string | null {
  const text = plusIsSpace && raw.includes('+') ? raw.replaceAll('+', ' ') : raw;
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}
