import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startProxiedGateway, stopProxied, type TestGateway } from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/raw.ts';
import type { TestUpstream } from '../helpers/upstream.ts';
import { assertGenericProblem, parseResponses } from './support/http.ts';

/**
 * Using the gateway as a forward proxy: `CONNECT host:port` asks for a raw TCP tunnel past
 * every stage. It is never an operation of an API; it gets the same 405 as any undeclared
 * method, is logged, and no tunnel is opened (node would otherwise drop it without a word).
 */
describe('attack: CONNECT tunnel through the gateway', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    ({ gw, upstream } = await startProxiedGateway());
  });
  after(() => stopProxied(gw, upstream));

  it('answers 405 problem+json, closes, never tunnels, and logs it', async () => {
    const target = new URL(upstream.url).host;
    const res = await rawRequest(
      gw.port,
      `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\nGET /items HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    const responses = parseResponses(res.text);
    assert.equal(responses.length, 1, res.text);
    assertGenericProblem(responses[0]!, 405);
    assert.equal(res.closed, true);
    assert.equal(upstream.seen.length, 0, 'no tunnelled bytes reached the upstream');
    const lines = await gw.readAccessLog();
    const line = lines.find((l) => l.method === 'CONNECT');
    assert.equal(line?.reason, 'method_not_allowed');
    assert.equal(line?.client, '127.0.0.1');
  });
});
