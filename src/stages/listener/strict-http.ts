import type { IncomingHttpHeaders } from 'node:http';

// RFC 3986 §3.2.2 host (IP-literal or a DNS-style reg-name) and optional port. Narrower than
// reg-name's sub-delims on purpose: the Host value is passed on as X-Forwarded-Host, and
// `evil.com,good.com` or `evil@good.com` there is the Host-header poisoning trick.
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]*)(?::[0-9]{1,5})?$/;

/** What the check reads of a request: its version and header lines as parsed. */
export interface RequestHead {
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  readonly rawHeaders: readonly string[];
  readonly headers: Readonly<IncomingHttpHeaders>;
}

/**
 * What llhttp's strict mode still admits and HTTP/1.1 forbids; returns why the request must be
 * refused (400, connection closed), or null. node:http checks none of these itself:
 *
 * - a version other than 1.0/1.1 (RFC 9112 §2.3): llhttp accepts a version-less request line
 *   (HTTP/0.9), the shape a CR LF injected into a request target produces (`GET /x\r\nX: y`),
 *   and `HTTP/2.0` spoken in HTTP/1 text;
 * - zero (HTTP/1.1) or several Host lines, or an invalid Host value (RFC 9112 §3.2 MUST 400):
 *   node keeps the first of two, so routing and X-Forwarded-Host could follow another than a
 *   front proxy did;
 * - Transfer-Encoding on HTTP/1.0 (RFC 9112 §6.1: faulty framing; a 1.0 front proxy frames
 *   it by Content-Length or close, we would frame it by chunks — a desync);
 * - any transfer coding but a lone `chunked` (`gzip, chunked`, `identity` + `chunked` lines):
 *   llhttp decodes only the chunked layer, so the bytes would be forwarded as if they were
 *   the body (RFC 9112 §6.1 lets a server refuse codings it does not understand).
 */
export function strictHttpProblem(req: RequestHead): string | null {
  if (req.httpVersionMajor !== 1 || req.httpVersionMinor > 1) {
    return `HTTP version ${req.httpVersionMajor}.${req.httpVersionMinor}`;
  }
  const raw = req.rawHeaders;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') hosts++;
  }
  if (hosts > 1) return 'more than one Host header';
  const host = req.headers.host;
  if (host === undefined) {
    if (req.httpVersionMinor === 1) return 'no Host header';
  } else if (!HOST.test(host)) return 'invalid Host header';
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) {
    if (req.httpVersionMinor === 0) return 'Transfer-Encoding in an HTTP/1.0 request';
    if (te.trim().toLowerCase() !== 'chunked') return 'transfer coding other than chunked';
  }
  return null;
}
