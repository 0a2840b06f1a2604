import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startProxiedGateway, stopProxied, type TestGateway } from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/raw.ts';
import type { TestUpstream } from '../helpers/upstream.ts';
import { assertGenericProblem, attackTraffic, parseResponses, settle } from './support/http.ts';

/**
 * CL.CL smuggling: two Content-Length values (or one that is not a plain decimal) let each hop
 * pick a different body length; the rest of the bytes become a second request somewhere.
 * RFC 9112 §6.3 item 5: an invalid Content-Length is unrecoverable — 400 and close. Rampart
 * does not even accept identical duplicates or `5, 5` lists: one value, one meaning.
 */
describe('duplicate and malformed Content-Length (CL.CL smuggling)', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  const SMUGGLED = 'GET /admin/1 HTTP/1.1\r\nHost: localhost\r\n\r\n';

  before(async () => {
    ({ gw, upstream } = await startProxiedGateway());
  });
  after(() => stopProxied(gw, upstream));
  beforeEach(() => {
    upstream.seen.length = 0;
  });

  const cases: Record<string, string> = {
    'two different values (short one first)': 'Content-Length: 5\r\nContent-Length: 48',
    'two different values (long one first)': 'Content-Length: 48\r\nContent-Length: 5',
    'the same value twice': 'Content-Length: 5\r\nContent-Length: 5',
    'a list in one header (`5, 5`)': 'Content-Length: 5, 5',
    'a list of different values (`5, 48`)': 'Content-Length: 5, 48',
    'different case names, different values': 'content-length: 5\r\nCONTENT-LENGTH: 48',
    'a signed value (`+5`)': 'Content-Length: +5',
    'a negative value': 'Content-Length: -5',
    'a hex value (`0x5`)': 'Content-Length: 0x5',
    'a value with an inner space (`4 8`)': 'Content-Length: 4 8',
    'an empty value': 'Content-Length: ',
    'a value past 2^64': 'Content-Length: 18446744073709551621',
  };

  for (const [name, header] of Object.entries(cases)) {
    it(`${name} → 400, connection closed, nothing reaches the upstream`, async () => {
      const res = await rawRequest(
        gw.port,
        `POST /items HTTP/1.1\r\nHost: localhost\r\n${header}\r\n\r\nhello${SMUGGLED}`,
      );
      const responses = parseResponses(res.text);
      assert.equal(responses.length, 1, `one response only, got:\n${res.text}`);
      assertGenericProblem(responses[0]!, 400);
      assert.equal(res.closed, true);
      await settle(gw, upstream);
      assert.deepEqual(attackTraffic(upstream), []);
    });
  }

  it('a single valid Content-Length is proxied with exactly that body (control)', async () => {
    const res = await rawRequest(
      gw.port,
      'POST /items HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello',
    );
    assert.equal(res.status, 200);
    await settle(gw, upstream);
    const seen = attackTraffic(upstream);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.body.toString(), 'hello');
    assert.equal(seen[0]!.headers['content-length'], '5');
  });
});
