/**
 * What the HTTP server in front of the WAF does before the engine sees a request — the
 * behaviour several CRS tests assert with `status: 400` (they were written against Apache).
 * Only checks RFC 9112 requires and Rampart's listener (Node's llhttp) applies are modelled:
 * a request that fails them is answered 400 and never reaches the WAF. A chunked body is
 * de-chunked and a Content-Length beside Transfer-Encoding dropped (RFC 9112 §6.3 ¶3).
 */
import type { BuiltRequest } from './request.ts';

/** RFC 9110 §5.6.2 token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The reason the server rejects the request, or undefined when it passes it on. */
export function rejects(r: BuiltRequest): string | undefined {
  const { method, uri, protocol, headers } = r.request;
  if (!TOKEN.test(method)) return 'method is not a token (RFC 9112 §3.1)';
  // RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT; 0.9 requests carry no version.
  // An empty version is an HTTP/0.9 simple request (handled by `frame`).
  if (protocol !== '' && !/^HTTP\/\d\.\d$/.test(protocol) && !/^HTTP\/[23]$/.test(protocol))
    return 'bad HTTP-version (RFC 9112 §2.3)';
  // HTTP/0.9 requests carry no version; a 0.x version in a request line is not HTTP.
  if (protocol.startsWith('HTTP/0.')) return 'HTTP/0.x version in a request line';
  // RFC 9112 §3.2: no whitespace or controls in the target, and no fragment.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: controls are what is rejected
  if (/[\x00-\x20\x7f#]/.test(uri) || uri.startsWith('\\')) return 'bad request-target (RFC 9112 §3.2)';
  // RFC 9112 §3.2.3: CONNECT takes authority-form, host ":" port.
  if (method === 'CONNECT' && !/^[^/:]+:\d+$/.test(uri))
    return 'CONNECT target is not host:port (RFC 9112 §3.2.3)';
  for (const [name, value] of headers) {
    if (!TOKEN.test(name)) return 'header name is not a token (RFC 9110 §5.1)';
    // RFC 9110 §5.5: CR, LF and NUL are invalid in field values (header injection).
    if (/[\r\n\0]/.test(value)) return 'CR, LF or NUL in a field value (RFC 9110 §5.5)';
    if (name.toLowerCase() === 'content-length' && !/^\d+$/.test(value))
      return 'Content-Length is not digits (RFC 9110 §8.6)';
  }
  return undefined;
}

/** RFC 9112 §6.3 ¶3: Transfer-Encoding overrides Content-Length, which is dropped. */
export function frame(r: BuiltRequest): BuiltRequest {
  // A request line without a version is HTTP/0.9 (RFC 1945 §4.1 Simple-Request).
  if (r.request.protocol === '') return { request: { ...r.request, protocol: 'HTTP/0.9' }, body: r.body };
  const te = r.request.headers.find(([k]) => k.toLowerCase() === 'transfer-encoding');
  if (te === undefined || !/chunked\s*$/i.test(te[1])) return r;
  const headers = r.request.headers.filter(([k]) => k.toLowerCase() !== 'content-length');
  return { request: { ...r.request, headers }, body: dechunk(r.body) };
}

/** RFC 9112 §7.1 chunked coding; a malformed tail is kept as it arrived. */
export function dechunk(body: string): string {
  let out = '';
  let pos = 0;
  while (pos < body.length) {
    const eol = body.indexOf('\r\n', pos);
    if (eol < 0) return out + body.slice(pos);
    const size = Number.parseInt(body.slice(pos, eol).split(';')[0] ?? '', 16);
    if (!Number.isFinite(size)) return out + body.slice(pos);
    if (size === 0) return out;
    out += body.slice(eol + 2, eol + 2 + size);
    pos = eol + 2 + size + 2;
  }
  return out;
}
