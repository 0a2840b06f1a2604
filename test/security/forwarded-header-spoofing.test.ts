import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  SIMPLE_OPENAPI,
  simpleConfig,
  startProxiedGateway,
  startTestGateway,
  stopProxied,
  type TestGateway,
} from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/raw.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { attackTraffic, parseResponses, settle } from './support/http.ts';

/**
 * X-Forwarded-For / -Proto / -Host, Forwarded and X-Real-IP spoofing: a client that sends
 * these itself claims another address (dodging IP allow lists, rate limits and audit), another
 * scheme, or another host (password-reset poisoning). They are believed only from a
 * configured trusted proxy; otherwise the gateway computes them from the socket. The same goes
 * for x-request-id (log forging); a W3C traceparent is passed on only when well formed.
 */

const VALID_TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

interface Exchange {
  readonly upstreamHeaders: Record<string, unknown>;
  readonly requestId: string;
  readonly log: Record<string, unknown> | undefined;
}

async function exchange(gw: TestGateway, upstream: TestUpstream, headers: string): Promise<Exchange> {
  const res = await rawRequest(
    gw.port,
    `GET /items HTTP/1.1\r\nHost: localhost\r\n${headers}Connection: close\r\n\r\n`,
  );
  const response = parseResponses(res.text)[0]!;
  assert.equal(response.status, 200);
  await settle(gw, upstream);
  const seen = attackTraffic(upstream);
  assert.equal(seen.length, 1);
  const requestId = response.headers['x-request-id']!;
  const log = (await gw.readAccessLog()).find((l) => l.reqId === requestId);
  return { upstreamHeaders: seen[0]!.headers, requestId, log };
}

const SPOOFED =
  'X-Forwarded-For: 6.6.6.6, 7.7.7.7\r\n' +
  'X-Forwarded-Proto: https\r\n' +
  'X-Forwarded-Host: evil.example\r\n' +
  'X-Forwarded-Port: 443\r\n' +
  'Forwarded: for=6.6.6.6;proto=https;host=evil.example\r\n' +
  'X-Real-IP: 6.6.6.6\r\n';

describe('forwarded-header spoofing without trusted proxies', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    ({ gw, upstream } = await startProxiedGateway());
  });
  after(() => stopProxied(gw, upstream));
  beforeEach(() => {
    upstream.seen.length = 0;
  });

  it('client-sent X-Forwarded-*, Forwarded and X-Real-IP are replaced by what the socket says', async () => {
    const { upstreamHeaders: h, log } = await exchange(gw, upstream, SPOOFED);
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-forwarded-host'], 'localhost');
    assert.equal(h['x-forwarded-port'], undefined);
    assert.equal(h.forwarded, undefined);
    assert.equal(h['x-real-ip'], undefined);
    assert.equal(log?.client, '127.0.0.1', 'the access log records the real peer');
  });

  it('underscore spellings (X_Forwarded_For, X_Real_IP...) are not forwarded either', async () => {
    // CGI/WSGI/PHP upstreams read `X_Forwarded_For` as HTTP_X_FORWARDED_FOR.
    const { upstreamHeaders: h } = await exchange(
      gw,
      upstream,
      'X_Forwarded_For: 6.6.6.6\r\nX_Forwarded_Proto: https\r\nX_Real_IP: 6.6.6.6\r\nX_Request_Id: forged\r\nX_Custom: kept\r\n',
    );
    assert.equal(h.x_forwarded_for, undefined);
    assert.equal(h.x_forwarded_proto, undefined);
    assert.equal(h.x_real_ip, undefined);
    assert.equal(h.x_request_id, undefined);
    assert.equal(h.x_custom, 'kept', 'other underscored headers pass (control)');
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
  });

  it('a client x-request-id is ignored: a fresh id is generated, logged and sent upstream', async () => {
    const {
      upstreamHeaders: h,
      requestId,
      log,
    } = await exchange(gw, upstream, 'X-Request-Id: forged-id-1\r\n');
    assert.notEqual(requestId, 'forged-id-1');
    assert.match(requestId, /^[0-9a-f-]{36}$/);
    assert.equal(h['x-request-id'], requestId);
    assert.equal(log?.reqId, requestId);
  });

  it('a valid W3C traceparent (and its tracestate) is passed through', async () => {
    const { upstreamHeaders: h } = await exchange(
      gw,
      upstream,
      `traceparent: ${VALID_TRACEPARENT}\r\ntracestate: vendor=abc\r\n`,
    );
    assert.equal(h.traceparent, VALID_TRACEPARENT);
    assert.equal(h.tracestate, 'vendor=abc');
  });

  const invalidTraceparents: Record<string, string> = {
    'upper-case hex': '00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01',
    'an all-zero trace id': '00-00000000000000000000000000000000-b7ad6b7169203331-01',
    'an all-zero parent id': '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
    'version ff': 'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    'a short trace id': '00-0af7651916cd43dd8448eb211c8031-b7ad6b7169203331-01',
    'trailing data': `${VALID_TRACEPARENT}-extra`,
    'an injection attempt': `${VALID_TRACEPARENT}, 00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-01`,
  };

  for (const [name, value] of Object.entries(invalidTraceparents)) {
    it(`a traceparent with ${name} is dropped, with its tracestate`, async () => {
      const { upstreamHeaders: h } = await exchange(
        gw,
        upstream,
        `traceparent: ${value}\r\ntracestate: a=b\r\n`,
      );
      assert.equal(h.traceparent, undefined);
      assert.equal(h.tracestate, undefined);
    });
  }
});

describe('forwarded headers from a trusted proxy (trustedProxies: [127.0.0.1/32])', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: simpleConfig({ upstreamUrl: upstream.url, extra: '  trustedProxies: [127.0.0.1/32]' }),
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

  it('the X-Forwarded-For chain is honoured and the peer appended; the client is the right-most untrusted hop', async () => {
    const { upstreamHeaders: h, log } = await exchange(gw, upstream, SPOOFED);
    assert.equal(h['x-forwarded-for'], '6.6.6.6, 7.7.7.7, 127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'https');
    assert.equal(h['x-forwarded-host'], 'evil.example');
    assert.equal(h.forwarded, undefined, 'Forwarded is not relayed even from a trusted proxy');
    assert.equal(h['x-real-ip'], undefined);
    assert.equal(log?.client, '7.7.7.7');
  });

  it('trusted hops in the chain are walked past', async () => {
    const { upstreamHeaders: h, log } = await exchange(
      gw,
      upstream,
      'X-Forwarded-For: 6.6.6.6, 7.7.7.7, 127.0.0.1\r\n',
    );
    assert.equal(h['x-forwarded-for'], '6.6.6.6, 7.7.7.7, 127.0.0.1, 127.0.0.1');
    assert.equal(log?.client, '7.7.7.7');
  });

  it('a hop that is not an IP address ends the walk: the client is the last hop we can vouch for', async () => {
    const { log } = await exchange(gw, upstream, 'X-Forwarded-For: 7.7.7.7, not-an-ip\r\n');
    assert.equal(log?.client, '127.0.0.1');
  });

  it('an invalid X-Forwarded-Proto or -Host falls back to what the socket and Host say', async () => {
    const { upstreamHeaders: h } = await exchange(
      gw,
      upstream,
      'X-Forwarded-Proto: javascript\r\nX-Forwarded-Host: evil.example@localhost\r\n',
    );
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-forwarded-host'], 'localhost');
  });

  it("the proxy's x-request-id is kept, logged and passed on", async () => {
    const id = `edge-${randomUUID()}`;
    const { upstreamHeaders: h, requestId, log } = await exchange(gw, upstream, `X-Request-Id: ${id}\r\n`);
    assert.equal(requestId, id);
    assert.equal(h['x-request-id'], id);
    assert.equal(log?.reqId, id);
  });

  it('a malformed x-request-id is replaced even from a trusted proxy (log forging)', async () => {
    const { upstreamHeaders: h, requestId } = await exchange(
      gw,
      upstream,
      'X-Request-Id: a b"},{"admin":true\r\n',
    );
    assert.match(requestId, /^[0-9a-f-]{36}$/);
    assert.equal(h['x-request-id'], requestId);
  });
});
