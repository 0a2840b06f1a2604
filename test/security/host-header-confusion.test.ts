import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startProxiedGateway, stopProxied, type TestGateway } from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/raw.ts';
import type { TestUpstream } from '../helpers/upstream.ts';
import { assertGenericProblem, attackTraffic, parseResponses, settle } from './support/http.ts';

/**
 * Host header confusion: two Host lines (one hop routes on the first, another on the last), a
 * missing Host, or a Host value that is not a host (`evil.com@good.com`, `a,b`) — which the
 * gateway would otherwise pass on as X-Forwarded-Host, the input of password-reset poisoning.
 * RFC 9112 §3.2: a server MUST answer 400 to all three.
 */
describe('Host header confusion', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    ({ gw, upstream } = await startProxiedGateway());
  });
  after(() => stopProxied(gw, upstream));
  beforeEach(() => {
    upstream.seen.length = 0;
  });

  const refused: Record<string, string> = {
    'two Host lines': 'Host: localhost\r\nHost: evil.example\r\n',
    'two Host lines with the same value': 'Host: localhost\r\nHost: localhost\r\n',
    'a second, empty Host line': 'Host: localhost\r\nhost: \r\n',
    'no Host at all on HTTP/1.1': '',
    'userinfo in Host (`evil.example@localhost`)': 'Host: evil.example@localhost\r\n',
    'a list in Host (`evil.example,localhost`)': 'Host: evil.example,localhost\r\n',
    'a space in Host': 'Host: evil.example localhost\r\n',
    'a path in Host': 'Host: localhost/admin\r\n',
    'a non-numeric port': 'Host: localhost:80x\r\n',
  };

  for (const [name, host] of Object.entries(refused)) {
    it(`${name} → 400 problem+json, closed, nothing reaches the upstream`, async () => {
      const res = await rawRequest(
        gw.port,
        `GET /items HTTP/1.1\r\n${host}\r\nGET /admin/1 HTTP/1.1\r\nHost: localhost\r\n\r\n`,
      );
      const responses = parseResponses(res.text);
      assert.equal(responses.length, 1, `one response only, got:\n${res.text}`);
      assertGenericProblem(responses[0]!, 400);
      assert.equal(responses[0]!.headers.connection, 'close');
      assert.equal(res.closed, true);
      await settle(gw, upstream);
      assert.deepEqual(attackTraffic(upstream), [], 'nor the request pipelined behind it');
    });
  }

  const accepted: Record<string, string> = {
    'a name': 'api.example.com',
    'a name and port': 'api.example.com:8443',
    'an IPv4 address and port': '127.0.0.1:8080',
    'an IPv6 literal and port': '[::1]:8080',
    'an underscore (container names)': 'orders_api',
  };

  for (const [name, host] of Object.entries(accepted)) {
    it(`${name} is accepted and passed on as X-Forwarded-Host, never as Host`, async () => {
      const res = await rawRequest(
        gw.port,
        `GET /items HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      );
      assert.equal(res.status, 200);
      await settle(gw, upstream);
      const seen = attackTraffic(upstream);
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.headers['x-forwarded-host'], host);
      assert.equal(seen[0]!.headers.host, new URL(upstream.url).host);
    });
  }

  it('HTTP/1.0 without Host is still served (Host is optional before 1.1)', async () => {
    const res = await rawRequest(gw.port, 'GET /items HTTP/1.0\r\n\r\n');
    assert.equal(res.status, 200);
  });
});
