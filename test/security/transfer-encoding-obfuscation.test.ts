import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startProxiedGateway, stopProxied, type TestGateway } from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/raw.ts';
import type { TestUpstream } from '../helpers/upstream.ts';
import { assertGenericProblem, attackTraffic, parseResponses, settle } from './support/http.ts';

/**
 * TE.TE smuggling: a Transfer-Encoding header disguised so that one hop honours it and the
 * next does not (`xchunked`, `chunked, identity`, a space before the colon, a folded line, two
 * TE lines...). Each form must either be refused (400, connection closed) or be decoded as
 * plain chunked — and in both cases nothing the client hid in the body may reach the upstream
 * as a request. The hidden request targets /smuggled, which the gateway itself would answer 404.
 */
describe('obfuscated Transfer-Encoding (TE.TE smuggling)', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  const BODY = '5\r\nhello\r\n0\r\n\r\n';
  const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';

  before(async () => {
    ({ gw, upstream } = await startProxiedGateway());
  });
  after(() => stopProxied(gw, upstream));
  beforeEach(() => {
    upstream.seen.length = 0;
  });

  function attack(teHeaders: string, extra = ''): Promise<import('../helpers/raw.ts').RawResponse> {
    return rawRequest(
      gw.port,
      `POST /items HTTP/1.1\r\nHost: localhost\r\n${teHeaders}\r\n${extra}\r\n${BODY}${SMUGGLED}`,
    );
  }

  const refused: Record<string, string> = {
    '`xchunked`': 'Transfer-Encoding: xchunked',
    '`chunked, identity` (chunked not last)': 'Transfer-Encoding: chunked, identity',
    '`identity, chunked` (a coding the gateway does not apply)': 'Transfer-Encoding: identity, chunked',
    '`gzip, chunked` (would forward gzip bytes as the body)': 'Transfer-Encoding: gzip, chunked',
    '`gzip` alone (chunked not last)': 'Transfer-Encoding: gzip',
    '`chunked, chunked`': 'Transfer-Encoding: chunked, chunked',
    'two TE lines, chunked twice': 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked',
    'two TE lines, identity then chunked': 'Transfer-Encoding: identity\r\nTransfer-Encoding: chunked',
    'two TE lines, chunked then a bogus coding': 'Transfer-Encoding: chunked\r\nTransfer-Encoding: x',
    'a space before the colon': 'Transfer-Encoding : chunked',
    'a folded (obs-fold) value': 'Transfer-Encoding:\r\n chunked',
    'a vertical tab before the value': 'Transfer-Encoding:\x0bchunked',
    'a quoted value': 'Transfer-Encoding: "chunked"',
    'an empty list element first (`,chunked`)': 'Transfer-Encoding: ,chunked',
    'a truncated coding (`chunk`)': 'Transfer-Encoding: chunk',
    'a NUL inside the value': 'Transfer-Encoding: chun\0ked',
  };

  for (const [name, header] of Object.entries(refused)) {
    it(`${name} → 400, closed, nothing reaches the upstream`, async () => {
      const res = await attack(header);
      const responses = parseResponses(res.text);
      assert.equal(responses.length, 1, `one response only, got:\n${res.text}`);
      assertGenericProblem(responses[0]!, 400);
      assert.equal(res.closed, true);
      await settle(gw, upstream);
      assert.deepEqual(
        attackTraffic(upstream).map((s) => `${s.method} ${s.url}`),
        [],
      );
    });
  }

  // Forms RFC 9112 allows (optional whitespace, case-insensitive coding names): decoded as
  // chunked, so the hidden request is just the next request on the connection — which the
  // gateway sees, routes and refuses itself (404).
  const decoded: Record<string, string> = {
    'a tab before the value (`Transfer-Encoding:\\tchunked`)': 'Transfer-Encoding:\tchunked',
    'several spaces before the value': 'Transfer-Encoding:    chunked',
    'a trailing space': 'Transfer-Encoding: chunked ',
    'upper case (`CHUNKED`)': 'Transfer-Encoding: CHUNKED',
    'mixed-case header name': 'tRaNsFeR-eNcOdInG: chunked',
  };

  for (const [name, header] of Object.entries(decoded)) {
    it(`${name} → decoded as chunked; the hidden request is the gateway's to refuse`, async () => {
      const res = await attack(header);
      assert.deepEqual(
        parseResponses(res.text).map((r) => r.status),
        [200, 404],
      );
      await settle(gw, upstream);
      const seen = attackTraffic(upstream);
      assert.deepEqual(
        seen.map((s) => `${s.method} ${s.url} ${s.body.toString()}`),
        ['POST /items hello'],
      );
    });
  }

  it('`Transfer_Encoding` (underscore) is not a framing header and never reaches the upstream', async () => {
    // CGI-style upstreams map `_` and `-` to the same variable (HTTP_TRANSFER_ENCODING).
    const res = await rawRequest(
      gw.port,
      'POST /items HTTP/1.1\r\nHost: localhost\r\nTransfer_Encoding: chunked\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello',
    );
    assert.equal(res.status, 200);
    await settle(gw, upstream);
    const seen = attackTraffic(upstream);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.body.toString(), 'hello');
    assert.equal(seen[0]!.headers.transfer_encoding, undefined);
    assert.ok(!seen[0]!.rawHeaders.some((h) => /^transfer.encoding$/i.test(h) && h !== 'transfer-encoding'));
  });
});
