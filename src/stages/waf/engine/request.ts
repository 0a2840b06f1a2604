/**
 * Request-line and header parsing into SecLang variables. Everything stays a byte string
 * (one char per byte); percent-decoding is ModSecurity's lenient kind: an invalid `%` escape
 * is kept as written rather than rejected, since rules must still see it (CRS 920220).
 */

/** `%XX` → byte, `+` → space (in query/form data only); malformed escapes stay as they are. */
export function urlDecode(s: string, plusAsSpace = true): string {
  if (s.indexOf('%') < 0 && (!plusAsSpace || s.indexOf('+') < 0)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length + 0 && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
      out += String.fromCharCode(Number.parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === 0x2b && plusAsSpace) {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** `a=1&b=2&c` → pairs, decoded; empty segments are dropped. */
export function parseUrlEncoded(s: string): [string, string][] {
  const out: [string, string][] = [];
  if (s === '') return out;
  for (const part of s.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) out.push([urlDecode(part), '']);
    else out.push([urlDecode(part.slice(0, eq)), urlDecode(part.slice(eq + 1))]);
  }
  return out;
}

/** RFC 6265 §4.2 `Cookie: a=1; b=2`; a pair without `=` is a name with an empty value. */
export function parseCookies(header: string): [string, string][] {
  const out: [string, string][] = [];
  for (const part of header.split(';')) {
    const p = part.replace(/^[ \t]+/, '');
    if (p.trim() === '') continue;
    const eq = p.indexOf('=');
    if (eq < 0) out.push([p.trim(), '']);
    else out.push([p.slice(0, eq).trim(), p.slice(eq + 1)]);
  }
  return out;
}

export interface UriParts {
  /** Path and query as the client sent them, without scheme and authority. */
  readonly uri: string;
  readonly path: string;
  /** After the first `?`, '' when there is none. */
  readonly query: string;
  readonly hasQuery: boolean;
}

/** Splits a request target (origin form, absolute form, `*`, or authority form). */
export function splitUri(raw: string): UriParts {
  let uri = raw;
  // RFC 9112 §3.2.2 absolute-form: the path starts after the authority.
  const abs = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(raw);
  if (abs !== null) uri = raw.slice(abs[0].length) || '/';
  const hash = uri.indexOf('#');
  const noFrag = hash < 0 ? uri : uri.slice(0, hash);
  const q = noFrag.indexOf('?');
  if (q < 0) return { uri, path: noFrag, query: '', hasQuery: false };
  return { uri, path: noFrag.slice(0, q), query: noFrag.slice(q + 1), hasQuery: true };
}

/** The last path segment (REQUEST_BASENAME). */
export function basename(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i < 0 ? path : path.slice(i + 1);
}
