import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startProxiedGateway, stopProxied, type TestGateway } from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/raw.ts';
import type { TestUpstream } from '../helpers/upstream.ts';
import { attackTraffic, parseResponses, settle } from './support/http.ts';

/**
 * Hop-by-hop header abuse (RFC 9110 §7.6.1): headers that describe one connection must not
 * cross the gateway, in either direction — nor any header a `Connection` header names. The
 * abuse runs both ways: naming `X-Forwarded-For` in `Connection` to make a proxy strip the
 * header the upstream trusts, and `Upgrade: h2c` to tunnel past the gateway's checks (h2c
 * smuggling). Gateway-made headers (X-Forwarded-*, X-Request-Id, Host) are always sent.
 */
describe('hop-by-hop headers', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;

  /** /items/hop answers with hop-by-hop response headers; everything else echoes. */
  function handler(req: IncomingMessage, res: ServerResponse): void {
    if (req.url === '/items/hop') {
      res.writeHead(200, {
        'content-type': 'text/plain',
        connection: 'x-upstream-hop, keep-alive',
        'x-upstream-hop': 'leaked',
        'keep-alive': 'timeout=99, max=7',
        'proxy-authenticate': 'Basic realm="upstream"',
        'proxy-connection': 'keep-alive',
        upgrade: 'h2c',
        trailer: 'x-checksum',
        'x-kept': 'yes',
      });
      res.end('hop');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  }

  before(async () => {
    ({ gw, upstream } = await startProxiedGateway(handler));
  });
  after(() => stopProxied(gw, upstream));
  beforeEach(() => {
    upstream.seen.length = 0;
  });

  async function forward(headers: string): Promise<{ seen: Record<string, unknown>; requestId: string }> {
    const res = await rawRequest(gw.port, `GET /items HTTP/1.1\r\nHost: localhost\r\n${headers}\r\n`);
    const response = parseResponses(res.text)[0]!;
    assert.equal(response.status, 200);
    await settle(gw, upstream);
    const seen = attackTraffic(upstream);
    assert.equal(seen.length, 1);
    return { seen: seen[0]!.headers, requestId: response.headers['x-request-id']! };
  }

  it('a header named in Connection is not forwarded', async () => {
    const { seen } = await forward('Connection: close, X-Secret-Hop\r\nX-Secret-Hop: 1\r\nX-Kept: 1\r\n');
    assert.equal(seen['x-secret-hop'], undefined);
    assert.equal(seen['x-kept'], '1', 'an unnamed end-to-end header is forwarded (control)');
    assert.doesNotMatch(
      String(seen.connection ?? ''),
      /secret|close/i,
      'the client Connection header is not relayed',
    );
  });

  it('naming X-Forwarded-*, X-Request-Id or Host in Connection cannot strip what the gateway sends', async () => {
    const { seen, requestId } = await forward(
      'Connection: close, X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host, X-Request-Id, Host\r\n',
    );
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.equal(seen['x-forwarded-host'], 'localhost');
    assert.equal(seen['x-request-id'], requestId);
    assert.equal(seen.host, new URL(upstream.url).host);
  });

  const hopByHop: Record<string, string> = {
    'keep-alive': 'Keep-Alive: timeout=600, max=1000\r\n',
    te: 'TE: trailers, deflate\r\n',
    upgrade: 'Upgrade: websocket\r\n',
    'proxy-authorization': 'Proxy-Authorization: Basic Zm9vOmJhcg==\r\n',
    'proxy-connection': 'Proxy-Connection: keep-alive\r\n',
    trailer: 'Trailer: X-Checksum\r\n',
  };

  for (const [name, header] of Object.entries(hopByHop)) {
    it(`${name} is not forwarded`, async () => {
      const { seen } = await forward(`Connection: close\r\n${header}`);
      assert.equal(seen[name], undefined);
    });
  }

  it('an h2c upgrade is neither forwarded nor answered with 101 (h2c smuggling)', async () => {
    const res = await rawRequest(
      gw.port,
      'GET /items HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings, close\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
    );
    assert.equal(res.status, 200);
    await settle(gw, upstream);
    const seen = attackTraffic(upstream)[0]!.headers;
    assert.equal(seen.upgrade, undefined);
    assert.equal(seen['http2-settings'], undefined);
    assert.doesNotMatch(String(seen.connection ?? ''), /upgrade/i);
  });

  it("hop-by-hop headers in the upstream's response, and those its Connection names, never reach the client", async () => {
    const res = await rawRequest(
      gw.port,
      'GET /items/hop HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    );
    const response = parseResponses(res.text)[0]!;
    assert.equal(response.status, 200);
    assert.equal(response.body, 'hop');
    assert.equal(response.headers['x-kept'], 'yes', 'end-to-end headers pass (control)');
    assert.equal(response.headers['x-upstream-hop'], undefined);
    assert.equal(response.headers['keep-alive'], undefined);
    assert.equal(response.headers['proxy-authenticate'], undefined);
    assert.equal(response.headers['proxy-connection'], undefined);
    assert.equal(response.headers.upgrade, undefined);
    assert.equal(response.headers.trailer, undefined);
    assert.equal(
      response.headers.connection,
      'close',
      "the gateway's own connection handling, not the upstream's",
    );
  });
});
