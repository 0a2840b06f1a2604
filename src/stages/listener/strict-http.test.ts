import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type RequestHead, strictHttpProblem } from './strict-http.ts';

/** A request as node's parser hands it over: version and raw header lines. */
function request(version: string, rawHeaders: string[]): RequestHead {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const headers: Record<string, string> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    // node keeps the first Host and joins repeated Transfer-Encoding lines.
    if (name === 'host' && name in headers) continue;
    headers[name] = name in headers ? `${headers[name]}, ${rawHeaders[i + 1]}` : rawHeaders[i + 1]!;
  }
  return { httpVersionMajor: major, httpVersionMinor: minor, rawHeaders, headers };
}

describe('strictHttpProblem', () => {
  const accepted: [name: string, version: string, raw: string[]][] = [
    ['HTTP/1.1 with a Host', '1.1', ['Host', 'api.example.com']],
    ['a Host with a port', '1.1', ['Host', 'api.example.com:8443']],
    ['an IPv4 Host', '1.1', ['Host', '127.0.0.1:80']],
    ['an IPv6 Host', '1.1', ['Host', '[2001:db8::1]:443']],
    ['an empty Host (RFC 9112 §3.2 allows it)', '1.1', ['Host', '']],
    ['HTTP/1.0 without Host', '1.0', []],
    ['chunked', '1.1', ['Host', 'a', 'Transfer-Encoding', 'chunked']],
    ['CHUNKED (coding names are case-insensitive)', '1.1', ['Host', 'a', 'transfer-encoding', 'CHUNKED']],
  ];
  for (const [name, version, raw] of accepted) {
    it(`accepts ${name}`, () => assert.equal(strictHttpProblem(request(version, raw)), null));
  }

  const refused: [name: string, version: string, raw: string[], problem: RegExp][] = [
    ['HTTP/0.9 (no version in the request line)', '0.9', ['Host', 'a'], /version 0\.9/],
    ['HTTP/2.0 as text', '2.0', ['Host', 'a'], /version 2\.0/],
    ['HTTP/1.1 without Host', '1.1', [], /no Host/],
    ['two Host lines', '1.1', ['Host', 'a', 'host', 'b'], /more than one Host/],
    ['two Host lines on HTTP/1.0', '1.0', ['Host', 'a', 'HOST', 'a'], /more than one Host/],
    ['userinfo in Host', '1.1', ['Host', 'evil@a'], /invalid Host/],
    ['a list in Host', '1.1', ['Host', 'a,b'], /invalid Host/],
    ['a path in Host', '1.1', ['Host', 'a/b'], /invalid Host/],
    ['a bad port', '1.1', ['Host', 'a:http'], /invalid Host/],
    ['a long port', '1.1', ['Host', 'a:123456'], /invalid Host/],
    ['Transfer-Encoding on HTTP/1.0', '1.0', ['Transfer-Encoding', 'chunked'], /HTTP\/1\.0/],
    ['gzip, chunked', '1.1', ['Host', 'a', 'Transfer-Encoding', 'gzip, chunked'], /other than chunked/],
    [
      'identity and chunked lines',
      '1.1',
      ['Host', 'a', 'Transfer-Encoding', 'identity', 'Transfer-Encoding', 'chunked'],
      /other than chunked/,
    ],
  ];
  for (const [name, version, raw, problem] of refused) {
    it(`refuses ${name}`, () =>
      assert.match(strictHttpProblem(request(version, raw)) ?? 'accepted', problem));
  }
});
