import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SIMPLE_OPENAPI, simpleConfig, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { assertGenericProblem, attackTraffic, parseResponses, sendSlowly, settle } from './support/http.ts';

/**
 * Slowloris and slow-body (R.U.D.Y.) attacks: a client keeps a connection, and the memory and
 * upstream slot behind it, by sending its head or body a trickle at a time — never idle long
 * enough for an idle timeout. `headersTimeout` bounds the whole head and `requestTimeout` the
 * whole request, however steady the trickle: then 408 and the connection is closed.
 *
 * Bounds are generous (a shared 2-core machine): node checks the timeouts every 250 ms here.
 */
describe('slow headers and slow bodies (slowloris) → 408', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  const HEADERS_TIMEOUT = 1000;
  const REQUEST_TIMEOUT = 2000;
  const SLACK = 4000;

  before(async () => {
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: simpleConfig({
        upstreamUrl: upstream.url,
        extra: '  limits: { headersTimeout: 1s, requestTimeout: 2s }',
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

  function assertTimedOut(res: { text: string; closed: boolean }): void {
    assert.equal(res.closed, true, 'the gateway closes the connection');
    const responses = parseResponses(res.text);
    assert.equal(responses.length, 1, `one response only, got:\n${res.text}`);
    assertGenericProblem(responses[0]!, 408);
    assert.equal(responses[0]!.headers.connection, 'close');
  }

  it('a head trickled one header line every 200 ms is cut at headersTimeout', async () => {
    const res = await sendSlowly(gw.port, {
      parts: ['GET /items HTTP/1.1\r\nHost: localhost\r\n'],
      drip: 'X-Slow: 1\r\n',
      gapMs: 200,
      giveUpMs: HEADERS_TIMEOUT + SLACK,
    });
    assertTimedOut(res);
    assert.ok(res.elapsedMs >= HEADERS_TIMEOUT - 100, `not before headersTimeout (${res.elapsedMs} ms)`);
    assert.ok(res.elapsedMs < HEADERS_TIMEOUT + SLACK, `within a few seconds (${res.elapsedMs} ms)`);
    await settle(gw, upstream);
    assert.deepEqual(attackTraffic(upstream), []);
    const lines = await gw.readAccessLog();
    assert.ok(
      lines.some((l) => l.status === 408 && l.reason === 'request_timeout' && l.client === '127.0.0.1'),
    );
  });

  it('a request line left unfinished is cut at headersTimeout', async () => {
    const res = await sendSlowly(gw.port, {
      parts: ['GET /ite'],
      gapMs: 100,
      giveUpMs: HEADERS_TIMEOUT + SLACK,
    });
    assertTimedOut(res);
    assert.ok(res.elapsedMs < HEADERS_TIMEOUT + SLACK, `within a few seconds (${res.elapsedMs} ms)`);
  });

  it('a body trickled one byte every 200 ms is cut at requestTimeout; the upstream never gets it whole', async () => {
    const res = await sendSlowly(gw.port, {
      parts: ['POST /items HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n'],
      drip: 'a',
      gapMs: 200,
      giveUpMs: REQUEST_TIMEOUT + SLACK,
    });
    assertTimedOut(res);
    assert.ok(res.elapsedMs >= REQUEST_TIMEOUT - 100, `not before requestTimeout (${res.elapsedMs} ms)`);
    assert.ok(res.elapsedMs < REQUEST_TIMEOUT + SLACK, `within a few seconds (${res.elapsedMs} ms)`);
    await settle(gw, upstream);
    assert.deepEqual(attackTraffic(upstream), [], 'no complete request reached the upstream');
  });

  it('a chunked body trickled one chunk every 200 ms is cut at requestTimeout', async () => {
    const res = await sendSlowly(gw.port, {
      parts: ['POST /items HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n'],
      drip: '1\r\na\r\n',
      gapMs: 200,
      giveUpMs: REQUEST_TIMEOUT + SLACK,
    });
    assertTimedOut(res);
    assert.ok(res.elapsedMs < REQUEST_TIMEOUT + SLACK, `within a few seconds (${res.elapsedMs} ms)`);
    await settle(gw, upstream);
    assert.deepEqual(attackTraffic(upstream), []);
  });
});
