import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SIMPLE_OPENAPI, simpleConfig, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/raw.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { assertGenericProblem, attackTraffic, parseResponses, sendSlowly, settle } from './support/http.ts';

/**
 * Oversized request bodies: a body past `maxBodySize` is 413, whether it declares its length
 * (refused before a byte of it is read) or streams chunks (counted on the way, and the
 * upstream call aborted — the upstream never receives a complete oversized body).
 */
describe('request body over maxBodySize (413)', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  const LIMIT = 1024;

  before(async () => {
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: simpleConfig({
        upstreamUrl: upstream.url,
        extra: '  limits: { maxBodySize: 1kb, headersTimeout: 1s, requestTimeout: 2s }',
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

  const chunked = (sizes: readonly number[]) =>
    `${sizes.map((n) => `${n.toString(16)}\r\n${'c'.repeat(n)}\r\n`).join('')}0\r\n\r\n`;

  async function assertNothingOversizedUpstream(): Promise<void> {
    await settle(gw, upstream);
    assert.deepEqual(
      attackTraffic(upstream).map((s) => `${s.method} ${s.url} ${s.body.length}`),
      [],
      'the upstream never receives a complete oversized body',
    );
  }

  it('a Content-Length body of exactly maxBodySize is forwarded whole', async () => {
    const res = await rawRequest(
      gw.port,
      `POST /items HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${LIMIT}\r\nConnection: close\r\n\r\n${'b'.repeat(LIMIT)}`,
    );
    assert.equal(res.status, 200);
    await settle(gw, upstream);
    assert.equal(attackTraffic(upstream)[0]?.body.length, LIMIT);
  });

  it('a Content-Length body one byte over → 413, and the connection is closed', async () => {
    const res = await rawRequest(
      gw.port,
      `POST /items HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${LIMIT + 1}\r\n\r\n${'b'.repeat(LIMIT + 1)}`,
    );
    const responses = parseResponses(res.text);
    assert.equal(responses.length, 1);
    assertGenericProblem(responses[0]!, 413);
    assert.equal(responses[0]!.headers.connection, 'close');
    assert.equal(res.closed, true);
    await assertNothingOversizedUpstream();
    const lines = await gw.readAccessLog();
    assert.ok(lines.some((l) => l.status === 413 && l.reason === 'body_too_large'));
  });

  it('a declared 10 MB body is refused from its head alone, before any of it is sent', async () => {
    // Give up before requestTimeout (2 s), which would also end the connection eventually.
    const res = await rawRequest(
      gw.port,
      'POST /items HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10485760\r\n\r\n',
      1500,
    );
    assertGenericProblem(parseResponses(res.text)[0]!, 413);
    assert.equal(res.closed, true, 'closed at once rather than waiting to drain 10 MB');
    await assertNothingOversizedUpstream();
  });

  it('a chunked body of exactly maxBodySize is forwarded whole', async () => {
    const res = await rawRequest(
      gw.port,
      `POST /items HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunked([256, 256, 256, 256])}`,
    );
    assert.equal(res.status, 200);
    await settle(gw, upstream);
    assert.equal(attackTraffic(upstream)[0]?.body.length, LIMIT);
  });

  it('a chunked body over the limit in one chunk → 413', async () => {
    const res = await rawRequest(
      gw.port,
      `POST /items HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunked([2000])}`,
    );
    const responses = parseResponses(res.text);
    assert.equal(responses.length, 1);
    assertGenericProblem(responses[0]!, 413);
    await assertNothingOversizedUpstream();
  });

  it('a chunked body over the limit in many small chunks → 413', async () => {
    const res = await rawRequest(
      gw.port,
      `POST /items HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunked(Array.from({ length: 30 }, () => 100))}`,
    );
    assertGenericProblem(parseResponses(res.text)[0]!, 413);
    await assertNothingOversizedUpstream();
  });

  it('a chunked body refused half-read closes the connection at once instead of draining it', async () => {
    // No terminating chunk and no `Connection: close` from the client: the only way this
    // socket closes before requestTimeout is the gateway closing it with its 413.
    const started = Date.now();
    const res = await rawRequest(
      gw.port,
      `POST /items HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n${'c'.repeat(2000)}\r\n`,
      5000,
    );
    const [response] = parseResponses(res.text);
    assertGenericProblem(response!, 413);
    assert.equal(response!.headers.connection, 'close');
    assert.equal(res.closed, true);
    assert.ok(Date.now() - started < 4000, 'closed by the gateway, not by a timeout');
  });

  it('a client that keeps uploading after its 413 gets no second response, and is cut off', async () => {
    // The gateway answered before reading the whole body; node would go on reading it until
    // requestTimeout and then answer the same request again with a 408.
    const res = await sendSlowly(gw.port, {
      parts: [
        `POST /items HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n${'c'.repeat(2000)}\r\n`,
      ],
      drip: `40\r\n${'d'.repeat(64)}\r\n`,
      gapMs: 100,
      giveUpMs: 8000,
    });
    const responses = parseResponses(res.text);
    assert.deepEqual(
      responses.map((r) => r.status),
      [413],
    );
    assert.equal(res.closed, true, 'the endless upload is cut off');
    await assertNothingOversizedUpstream();
  });
});
