/**
 * Builds the engine's request from a go-ftw stage input, as go-ftw would put it on the wire:
 * YAML text becomes UTF-8 bytes (held as latin1 byte strings), `Content-Length` is added for
 * a body unless `autocomplete_headers: false`, and `encoded_request` (a base64 raw request)
 * is parsed as an HTTP/1.1 server would.
 */
import type { RequestInput } from '../../../src/stages/waf/engine/index.ts';
import type { FtwInput } from './ftw.ts';

export interface BuiltRequest {
  readonly request: RequestInput;
  readonly body: string;
}

const bytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

export function buildRequest(input: FtwInput): BuiltRequest {
  if (input.encoded_request !== undefined)
    return parseRaw(Buffer.from(input.encoded_request, 'base64').toString('latin1'));
  const headers: [string, string][] = Object.entries(input.headers ?? {}).map(([k, v]) => [
    bytes(k),
    bytes(String(v)),
  ]);
  let body = input.data === undefined ? '' : bytes(input.data);
  const has = (name: string) => headers.some(([k]) => k.toLowerCase() === name);
  // go-ftw's autocompletion gives a body (and any POST, PUT or PATCH) its length and, when
  // missing, a form content type.
  const method = input.method ?? 'GET';
  if (input.autocomplete_headers !== false && (body !== '' || ['POST', 'PUT', 'PATCH'].includes(method))) {
    if (!has('content-length') && !has('transfer-encoding'))
      headers.push(['Content-Length', String(body.length)]);
    if (body !== '' && !has('content-type'))
      headers.push(['Content-Type', 'application/x-www-form-urlencoded']);
  }
  // Without a length or chunked framing an HTTP/1.1 server reads no body (RFC 9112 §6.3).
  if (!has('content-length') && !has('transfer-encoding')) body = '';
  return {
    request: {
      method: bytes(input.method ?? 'GET'),
      uri: bytes(input.uri ?? '/'),
      protocol: bytes(input.version ?? 'HTTP/1.1'),
      headers,
      remoteAddr: '127.0.0.1',
      remotePort: 40000,
      serverAddr: input.dest_addr ?? '127.0.0.1',
      serverPort: input.port ?? 80,
      id: 'ftw',
    },
    body,
  };
}

/** A raw HTTP/1.x request (RFC 9112): request line, header fields, then a Content-Length body. */
export function parseRaw(raw: string): BuiltRequest {
  let headEnd = raw.indexOf('\r\n\r\n');
  let sepLen = 4;
  if (headEnd < 0) {
    headEnd = raw.indexOf('\n\n');
    sepLen = 2;
  }
  const head = headEnd < 0 ? raw : raw.slice(0, headEnd);
  const rest = headEnd < 0 ? '' : raw.slice(headEnd + sepLen);
  const [line = '', ...fieldLines] = head.split(/\r?\n/);
  const first = line.indexOf(' ');
  const last = line.lastIndexOf(' ');
  const method = first < 0 ? line : line.slice(0, first);
  const uri = first < 0 ? '' : line.slice(first + 1, last > first ? last : undefined);
  const protocol = last > first ? line.slice(last + 1) : '';
  const headers: [string, string][] = [];
  for (const f of fieldLines) {
    const colon = f.indexOf(':');
    if (colon < 0) continue;
    headers.push([f.slice(0, colon), f.slice(colon + 1).trim()]);
  }
  const cl = headers.find(([k]) => k.toLowerCase() === 'content-length');
  const n = cl === undefined ? rest.length : Number.parseInt(cl[1], 10);
  const body = Number.isFinite(n) && n >= 0 ? rest.slice(0, n) : rest;
  return {
    request: {
      method,
      uri,
      protocol,
      headers,
      remoteAddr: '127.0.0.1',
      remotePort: 40000,
      serverAddr: '127.0.0.1',
      serverPort: 80,
      id: 'ftw',
    },
    body,
  };
}
