/**
 * Path normalization: one meaning per path. The route stage matches on the decoded segments
 * this returns, and the upstream receives `path`, which names exactly the same segments — so
 * no encoding can make the gateway authorize one operation and the upstream serve another.
 *
 * Rejected (400 `path_rejected`): encoded `/` or `\` (a segment boundary the router cannot
 * see), raw `\` (treated as `/` by some servers), NUL and control bytes, malformed escapes,
 * double encoding (`%252e`), invalid or overlong UTF-8 (`%c0%ae`), raw non-ASCII bytes, `..`
 * above the root, and `..;`/`.;` (Tomcat-style path parameters that servers resolve as dot
 * segments). Dot segments (`.`, `..`, `%2e%2e`) are resolved per RFC 3986 §5.2.4, and
 * percent-encoding is normalized per §6.2.2.2: unreserved characters are decoded, every other
 * escape is kept with upper-case hex.
 */

export type NormalizedPath =
  | { readonly ok: true; readonly path: string; readonly segments: readonly string[] }
  | { readonly ok: false; readonly reason: 'path_rejected' | 'bad_request_target'; readonly detail: string };

// RFC 3986 pchar without '%': unreserved / sub-delims / ':' / '@'.
const PLAIN_PATH = /^(?:\/[A-Za-z0-9\-._~!$&'()*+,;=:@]*)+$/;
const HAS_DOT_SEGMENT = /\/\.\.?(?:\/|;|$)/;
const UNRESERVED = /[A-Za-z0-9\-._~]/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function fail(detail: string): NormalizedPath {
  return { ok: false, reason: 'path_rejected', detail };
}

export function normalizePath(raw: string): NormalizedPath {
  if (raw.length === 0 || raw.charCodeAt(0) !== 0x2f) {
    return { ok: false, reason: 'bad_request_target', detail: 'request target is not an origin-form path' };
  }
  // Fast path: nothing encoded, no dot segments — the raw path is already canonical.
  if (PLAIN_PATH.test(raw) && !HAS_DOT_SEGMENT.test(raw)) {
    return { ok: true, path: raw, segments: raw.slice(1).split('/') };
  }
  const rawSegments = raw.slice(1).split('/');
  const decodedOut: string[] = [];
  const encodedOut: string[] = [];
  let trailingSlash = false;
  for (let i = 0; i < rawSegments.length; i++) {
    const segment = decodeSegment(rawSegments[i]!);
    if (typeof segment === 'string') return fail(segment);
    const { decoded, encoded } = segment;
    const isLast = i === rawSegments.length - 1;
    if (/^\.\.?;/.test(decoded)) return fail('dot segment with a path parameter (..; or .;)');
    if (decoded === '.' || decoded === '..') {
      if (decoded === '..') {
        if (decodedOut.length === 0) return fail('.. above the root');
        decodedOut.pop();
        encodedOut.pop();
      }
      trailingSlash = isLast;
      continue;
    }
    decodedOut.push(decoded);
    encodedOut.push(encoded);
  }
  if (trailingSlash) {
    decodedOut.push('');
    encodedOut.push('');
  }
  return { ok: true, path: `/${encodedOut.join('/')}`, segments: decodedOut };
}

/** Decode one segment; returns the reason as a string when it must be rejected. */
function decodeSegment(raw: string): { decoded: string; encoded: string } | string {
  const bytes: number[] = [];
  let encoded = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25) {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return 'malformed percent-escape';
      const b = Number.parseInt(hex, 16);
      if (b === 0x2f) return 'encoded / in a segment';
      if (b === 0x5c) return 'encoded \\ in a segment';
      if (b < 0x20 || b === 0x7f) return 'encoded NUL or control byte';
      bytes.push(b);
      const ch = String.fromCharCode(b);
      encoded += b < 0x80 && UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
      i += 2;
      continue;
    }
    if (c === 0x5c) return 'backslash in path';
    if (c <= 0x20 || c >= 0x7f) return 'raw control, space or non-ASCII byte in path';
    bytes.push(c);
    encoded += raw[i];
  }
  let decoded: string;
  try {
    decoded = utf8.decode(Uint8Array.from(bytes));
  } catch {
    return 'invalid or overlong UTF-8';
  }
  // After one decode, a remaining escape means the client encoded twice (%252e → %2e).
  if (/%[0-9A-Fa-f]{2}/.test(decoded)) return 'double percent-encoding';
  return { decoded, encoded };
}
