import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startProxiedGateway, stopProxied, type TestGateway } from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/raw.ts';
import type { TestUpstream } from '../helpers/upstream.ts';
import { assertGenericProblem, attackTraffic, parseResponses, settle } from './support/http.ts';

/**
 * CL.TE / TE.CL request smuggling: a request carrying both Content-Length and
 * Transfer-Encoding is framed one way by one hop and the other way by the next, and the bytes
 * one hop took for body become a second request at the other. RFC 9112 §6.1 lets a server
 * refuse such a message; Rampart refuses it (400) and closes the connection. The smuggled
 * request here targets /admin/1, a declared operation, so any leak to the upstream shows.
 */
describe('request smuggling with Content-Length and Transfer-Encoding (CL.TE / TE.CL)', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  // Connection: close ends the control case's exchange as soon as the second response is out.
  const SMUGGLED = 'GET /admin/1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';

  before(async () => {
    ({ gw, upstream } = await startProxiedGateway());
  });
  after(() => stopProxied(gw, upstream));
  beforeEach(() => {
    upstream.seen.length = 0;
  });

  /** Send the attack; expect exactly one generic 400, a closed connection, nothing upstream. */
  async function assertRefused(payload: string): Promise<void> {
    const res = await rawRequest(gw.port, payload);
    const responses = parseResponses(res.text);
    assert.equal(responses.length, 1, `one response only, got:\n${res.text}`);
    assertGenericProblem(responses[0]!, 400);
    assert.equal(responses[0]!.headers.connection, 'close');
    assert.equal(res.closed, true, 'the connection is closed after a framing error');
    await settle(gw, upstream);
    assert.deepEqual(
      attackTraffic(upstream).map((s) => `${s.method} ${s.url}`),
      [],
      'the upstream must receive neither the outer nor the smuggled request',
    );
  }

  it('a pipelined second request does reach the upstream when the framing is sound (control)', async () => {
    // Proves the assertions below can fail: the same bytes after a well-framed request are
    // parsed as the next request and proxied.
    const res = await rawRequest(
      gw.port,
      `POST /items HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    );
    assert.deepEqual(
      parseResponses(res.text).map((r) => r.status),
      [200, 200],
    );
    await settle(gw, upstream);
    assert.deepEqual(
      attackTraffic(upstream)
        .map((s) => `${s.method} ${s.url}`)
        .sort(),
      ['GET /admin/1', 'POST /items'],
    );
  });

  it('CL.TE: Content-Length first, then Transfer-Encoding: chunked → 400', async () => {
    await assertRefused(
      `POST /items HTTP/1.1\r\nHost: localhost\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    );
  });

  it('TE.CL: Transfer-Encoding: chunked first, then a short Content-Length → 400', async () => {
    const inner = `GPOST /admin/1 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 15\r\n\r\nx=1`;
    await assertRefused(
      `POST /items HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n${inner.length.toString(16)}\r\n${inner}\r\n0\r\n\r\n`,
    );
  });

  it('CL.TE with Content-Length: 0 and lower-case header names → 400', async () => {
    await assertRefused(
      `POST /items HTTP/1.1\r\nhost: localhost\r\ncontent-length: 0\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    );
  });

  it('CL.TE on a GET, where a front end might ignore the body entirely → 400', async () => {
    await assertRefused(
      `GET /items HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    );
  });

  it('Transfer-Encoding on HTTP/1.0 with Content-Length → 400 (RFC 9112 §6.1 faulty framing)', async () => {
    await assertRefused(
      `POST /items HTTP/1.0\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    );
  });

  it('Transfer-Encoding on a keep-alive HTTP/1.0 request, no Content-Length → 400', async () => {
    // An HTTP/1.0 front end ignores Transfer-Encoding and sees one request; a chunked parser
    // would see the bytes after `0\r\n\r\n` as a second one.
    await assertRefused(
      `POST /items HTTP/1.0\r\nHost: localhost\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    );
  });

  it('logs the refusal with the bad_request reason', async () => {
    await assertRefused(
      `POST /items HTTP/1.1\r\nHost: localhost\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    );
    const lines = await gw.readAccessLog();
    const last = lines.filter((l) => l.status === 400).at(-1);
    assert.equal(last?.reason, 'bad_request');
    assert.equal(last?.client, '127.0.0.1');
  });
});
