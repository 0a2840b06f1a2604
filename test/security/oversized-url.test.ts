import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SIMPLE_OPENAPI, simpleConfig, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/raw.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { assertGenericProblem, attackTraffic, parseResponses, settle } from './support/http.ts';

/**
 * Oversized request targets: long URLs exhaust buffers, logs and regex engines downstream, and
 * some servers truncate them (a different path than the one authorized). A target longer than
 * `maxUrlSize` is 414 — from the listener stage when the head fits in `maxHeaderSize`, and
 * from the parser's overflow handler (connection closed) when it does not.
 */
describe('oversized URL (414)', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  const MAX_URL = 1024;

  before(async () => {
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: simpleConfig({
        upstreamUrl: upstream.url,
        extra: '  limits: { maxUrlSize: 1kb, maxHeaderSize: 4kb }',
      }),
      files: { 'openapi.yaml': SIMPLE_OPENAPI },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });
  beforeEach(() => {
    upstream.seen.length = 0;
  });

  const target = (length: number, prefix = '/items?q=') => prefix + 'a'.repeat(length - prefix.length);

  it('a target of exactly maxUrlSize is served', async () => {
    const res = await rawRequest(
      gw.port,
      `GET ${target(MAX_URL)} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(res.status, 200);
    await settle(gw, upstream);
    assert.equal(attackTraffic(upstream)[0]?.url.length, MAX_URL);
  });

  it('one byte over maxUrlSize (head within maxHeaderSize) → 414 from the listener stage', async () => {
    // The framing is sound, so the connection stays usable: the next request is served.
    const res = await rawRequest(
      gw.port,
      `GET ${target(MAX_URL + 1)} HTTP/1.1\r\nHost: localhost\r\n\r\nGET /items HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
    );
    const responses = parseResponses(res.text);
    assert.deepEqual(
      responses.map((r) => r.status),
      [414, 200],
    );
    assertGenericProblem(responses[0]!, 414);
    await settle(gw, upstream);
    assert.deepEqual(
      attackTraffic(upstream).map((s) => s.url),
      ['/items'],
    );
    const lines = await gw.readAccessLog();
    assert.ok(lines.some((l) => l.status === 414 && l.reason === 'uri_too_long' && l.path === null));
  });

  it('a long path without a query → 414', async () => {
    const res = await rawRequest(
      gw.port,
      `GET ${target(MAX_URL + 100, '/items/')} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
    );
    assertGenericProblem(parseResponses(res.text)[0]!, 414);
    await settle(gw, upstream);
    assert.deepEqual(attackTraffic(upstream), []);
  });

  for (const size of [6 * 1024, 32 * 1024]) {
    it(`a ${size / 1024} KiB target (over maxHeaderSize) → 414 from the parser, connection closed`, async () => {
      const res = await rawRequest(gw.port, `GET ${target(size)} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
      const responses = parseResponses(res.text);
      assert.equal(responses.length, 1);
      assertGenericProblem(responses[0]!, 414);
      assert.equal(responses[0]!.headers.connection, 'close');
      assert.equal(res.closed, true);
      await settle(gw, upstream);
      assert.deepEqual(attackTraffic(upstream), []);
      const lines = await gw.readAccessLog();
      assert.ok(
        lines.some(
          (l) => l.status === 414 && l.reason === 'uri_too_long' && l.parseError === 'HPE_HEADER_OVERFLOW',
        ),
      );
    });
  }
});
