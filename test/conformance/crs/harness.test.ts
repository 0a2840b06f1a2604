/** The conformance harness's own pieces: go-ftw request building and the modelled front door. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dechunk, frame, rejects } from './front-door.ts';
import { buildRequest, parseRaw } from './request.ts';

test('go-ftw inputs become byte-string requests with autocompleted headers', () => {
  const r = buildRequest({ method: 'POST', uri: '/p?é=1', headers: { Host: 'h' }, data: 'a=é' });
  assert.equal(r.request.uri, '/p?\xc3\xa9=1');
  assert.equal(r.body, 'a=\xc3\xa9');
  assert.deepEqual(r.request.headers, [
    ['Host', 'h'],
    ['Content-Length', '4'],
    ['Content-Type', 'application/x-www-form-urlencoded'],
  ]);
  const bare = buildRequest({
    method: 'POST',
    uri: '/',
    headers: {},
    data: 'x',
    autocomplete_headers: false,
  });
  // No length and no chunked framing: a server reads no body.
  assert.equal(bare.body, '');
  assert.deepEqual(buildRequest({ method: 'PUT', uri: '/' }).request.headers, [['Content-Length', '0']]);
});

test('encoded_request is parsed as a raw HTTP/1.1 request', () => {
  const raw = Buffer.from('POST /x?y=1 HTTP/1.0\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcdef').toString(
    'base64',
  );
  const r = buildRequest({ encoded_request: raw });
  assert.deepEqual(
    [r.request.method, r.request.uri, r.request.protocol, r.body],
    ['POST', '/x?y=1', 'HTTP/1.0', 'abc'],
  );
  assert.deepEqual(parseRaw('GET / HTTP/1.1\r\nA:  b \r\n\r\n').request.headers, [['A', 'b']]);
});

test('the front door rejects what RFC 9112 parsers reject, and de-chunks', () => {
  const req = (over: object) => ({
    request: { method: 'GET', uri: '/', protocol: 'HTTP/1.1', headers: [] as [string, string][], ...over },
    body: '',
  });
  assert.equal(rejects(req({})), undefined);
  assert.match(rejects(req({ method: ' GET' })) ?? '', /method/);
  assert.match(rejects(req({ protocol: 'HTTP/0.8' })) ?? '', /0\.x/);
  assert.match(rejects(req({ protocol: 'JUNK/1.0' })) ?? '', /HTTP-version/);
  assert.match(rejects(req({ uri: '/a#frag' })) ?? '', /request-target/);
  assert.match(rejects(req({ method: 'CONNECT', uri: 'example.com' })) ?? '', /host:port/);
  assert.match(rejects(req({ headers: [['X', 'a\rb']] })) ?? '', /CR, LF or NUL/);
  assert.match(rejects(req({ headers: [['Content-Length', '3;']] })) ?? '', /Content-Length/);
  assert.equal(frame(req({ protocol: '' })).request.protocol, 'HTTP/0.9');
  const chunked = frame({
    ...req({
      headers: [
        ['Transfer-Encoding', 'chunked'],
        ['Content-Length', '7'],
      ],
    }),
    body: '3\r\nfoo\r\n2;x=y\r\nba\r\n0\r\n\r\n',
  });
  assert.equal(chunked.body, 'fooba');
  assert.deepEqual(chunked.request.headers, [['Transfer-Encoding', 'chunked']]);
  assert.equal(dechunk('zz\r\nrest'), 'zz\r\nrest');
});
