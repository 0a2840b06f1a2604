import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SIMPLE_OPENAPI, simpleConfig, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/raw.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { assertGenericProblem, attackTraffic, parseResponses, sendSlowly, settle } from './support/http.ts';

/**
 * Oversized request heads: huge or numerous headers exhaust memory per connection, and a
 * parser that silently drops headers past a count (node does, past `maxHeadersCount`) lets a
 * client hide one from a check. More than `maxHeaderSize` bytes of head, or more than
 * `maxHeaderCount` header lines, is 431 — never a truncated request forwarded.
 */
describe('oversized headers (431)', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  const MAX_COUNT = 20;

  before(async () => {
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: simpleConfig({
        upstreamUrl: upstream.url,
        extra: `  limits: { maxUrlSize: 1kb, maxHeaderSize: 4kb, maxHeaderCount: ${MAX_COUNT} }`,
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

  /** A request with `count` header lines in all (Host and Connection included). */
  const withHeaders = (count: number) =>
    `GET /items HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${Array.from(
      { length: count - 2 },
      (_, i) => `X-H${i}: v\r\n`,
    ).join('')}\r\n`;

  it('exactly maxHeaderCount header lines are served, every one forwarded', async () => {
    const res = await rawRequest(gw.port, withHeaders(MAX_COUNT));
    assert.equal(res.status, 200);
    await settle(gw, upstream);
    const seen = attackTraffic(upstream);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.headers[`x-h${MAX_COUNT - 3}`], 'v');
  });

  for (const count of [MAX_COUNT + 1, MAX_COUNT + 2, 200]) {
    it(`${count} header lines (over maxHeaderCount) → 431, nothing forwarded`, async () => {
      const res = await rawRequest(gw.port, withHeaders(count));
      const responses = parseResponses(res.text);
      assert.equal(responses.length, 1);
      assertGenericProblem(responses[0]!, 431);
      await settle(gw, upstream);
      assert.deepEqual(attackTraffic(upstream), []);
    });
  }

  it('an Authorization header pushed past the count limit is not silently dropped', async () => {
    const res = await rawRequest(
      gw.port,
      `${withHeaders(MAX_COUNT).slice(0, -2)}Authorization: Bearer hidden\r\n\r\n`,
    );
    assertGenericProblem(parseResponses(res.text)[0]!, 431);
    await settle(gw, upstream);
    assert.deepEqual(attackTraffic(upstream), []);
  });

  it('one header value larger than maxHeaderSize → 431, connection closed', async () => {
    const res = await rawRequest(
      gw.port,
      `GET /items HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`,
    );
    const responses = parseResponses(res.text);
    assert.equal(responses.length, 1);
    assertGenericProblem(responses[0]!, 431);
    assert.equal(res.closed, true);
    await settle(gw, upstream);
    assert.deepEqual(attackTraffic(upstream), []);
    const lines = await gw.readAccessLog();
    assert.ok(lines.some((l) => l.status === 431 && l.parseError === 'HPE_HEADER_OVERFLOW'));
  });

  it('many small headers adding up to more than maxHeaderSize → 431', async () => {
    const headers = Array.from({ length: 10 }, (_, i) => `X-M${i}: ${'m'.repeat(500)}\r\n`).join('');
    const res = await rawRequest(gw.port, `GET /items HTTP/1.1\r\nHost: localhost\r\n${headers}\r\n`);
    assertGenericProblem(parseResponses(res.text)[0]!, 431);
    assert.equal(res.closed, true);
    await settle(gw, upstream);
    assert.deepEqual(attackTraffic(upstream), []);
  });

  it('a large header sent in a later packet than the request line is 431, not 414', async () => {
    const res = await sendSlowly(gw.port, {
      parts: [
        'GET /items HTTP/1.1\r\nHost: localhost\r\n',
        `X-Big: ${'b'.repeat(3000)}`,
        `${'c'.repeat(2000)}\r\n\r\n`,
      ],
      gapMs: 50,
      giveUpMs: 5000,
    });
    assert.equal(res.closed, true);
    assertGenericProblem(parseResponses(res.text)[0]!, 431);
    await settle(gw, upstream);
    assert.deepEqual(attackTraffic(upstream), []);
  });
});
