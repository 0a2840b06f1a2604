import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startProxiedGateway, stopProxied, type TestGateway } from '../helpers/gateway.ts';
import type { TestUpstream } from '../helpers/upstream.ts';

/**
 * Applications behind CDNs often trust a vendor's client-address header as-is (rate limits,
 * audit, geo rules). A client that sends one through the gateway would choose its own
 * address; the gateway owns these headers and never forwards what a client sent.
 */
const SPOOFED = {
  'true-client-ip': '203.0.113.7',
  'x-client-ip': '203.0.113.8',
  'cf-connecting-ip': '203.0.113.9',
  'fastly-client-ip': '203.0.113.10',
  'x-cluster-client-ip': '203.0.113.11',
  'x-original-forwarded-for': '203.0.113.12',
  'x-real-ip': '203.0.113.13',
};

describe('attack: spoofing the client address with CDN client-IP headers', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    ({ gw, upstream } = await startProxiedGateway());
  });
  after(() => stopProxied(gw, upstream));

  it('none of them reaches the upstream; it sees the real peer in X-Forwarded-For', async () => {
    const res = await fetch(`${gw.url}/items`, { headers: SPOOFED });
    assert.equal(res.status, 200);
    const seen = upstream.seen.at(-1)!;
    for (const name of Object.keys(SPOOFED)) assert.equal(seen.headers[name], undefined, name);
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.doesNotMatch(JSON.stringify(seen.headers), /203\.0\.113/);
  });
});
