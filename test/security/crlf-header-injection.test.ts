import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startProxiedGateway, stopProxied, type TestGateway } from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/raw.ts';
import type { TestUpstream } from '../helpers/upstream.ts';
import { assertGenericProblem, attackTraffic, parseResponses, settle } from './support/http.ts';

/**
 * CR/LF injection and invalid bytes in the request head: a bare CR or LF, a NUL, a folded line
 * or a malformed name is read as a line break by one parser and as data by another, so a
 * header hidden in a value (`X-Injected`) appears at the next hop. RFC 9112 §2.2/§5: such a
 * message is refused (400) and the connection closed — never "repaired" and forwarded.
 */
describe('CR/LF injection and invalid bytes in the request head', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    ({ gw, upstream } = await startProxiedGateway());
  });
  after(() => stopProxied(gw, upstream));
  beforeEach(() => {
    upstream.seen.length = 0;
  });

  async function assertRefused(payload: string): Promise<void> {
    const res = await rawRequest(gw.port, payload);
    const responses = parseResponses(res.text);
    assert.equal(responses.length, 1, `one response only, got:\n${res.text}`);
    assertGenericProblem(responses[0]!, 400);
    assert.equal(res.closed, true, 'the connection is closed');
    await settle(gw, upstream);
    assert.deepEqual(attackTraffic(upstream), [], 'nothing reaches the upstream');
  }

  const headerCases: Record<string, string> = {
    'a bare CR inside a value': 'X-A: a\rX-Injected: 1\r\n',
    'a bare LF inside a value (LF-only line end)': 'X-A: a\nX-Injected: 1\r\n',
    'a NUL inside a value': 'X-A: a\0b\r\n',
    'a DEL inside a value': 'X-A: a\x7fb\r\n',
    'a control byte inside a value': 'X-A: a\x01b\r\n',
    'a NUL inside a name': 'X-\0A: b\r\n',
    'a control byte inside a name': 'X-\x01A: b\r\n',
    'a space inside a name': 'X A: b\r\n',
    'whitespace between the name and the colon': 'X-A : b\r\n',
    'an empty name': ': b\r\n',
    'a non-token byte in a name (`@`)': 'X@A: b\r\n',
    'an obs-fold continuation line': 'X-A: a\r\n X-Injected: 1\r\n',
    'an obs-fold continuation with a tab': 'X-A: a\r\n\tX-Injected: 1\r\n',
    'a line without a colon': 'X-Injected\r\n',
  };

  for (const [name, header] of Object.entries(headerCases)) {
    it(`${name} → 400`, async () => {
      await assertRefused(`GET /items HTTP/1.1\r\nHost: localhost\r\n${header}\r\n`);
    });
  }

  const requestLineCases: Record<string, string> = {
    // An HTTP/0.9-shaped line: what a CR LF injected into the target leaves behind, with the
    // attacker's text parsed as headers.
    'a version-less request line followed by an injected header':
      'GET /items\r\nX-Injected: 1 HTTP/1.1\r\nHost: localhost\r\n\r\n',
    'a bare CR inside the request target': 'GET /items\rX-Injected: 1 HTTP/1.1\r\nHost: localhost\r\n\r\n',
    'a bare LF ending the request line': 'GET /items HTTP/1.1\nHost: localhost\r\n\r\n',
    'a raw space inside the request target': 'GET /items /admin/1 HTTP/1.1\r\nHost: localhost\r\n\r\n',
    'a NUL inside the request target': 'GET /items\0/admin/1 HTTP/1.1\r\nHost: localhost\r\n\r\n',
    'tabs as request-line separators': 'GET\t/items\tHTTP/1.1\r\nHost: localhost\r\n\r\n',
    'an HTTP/2.0 version spoken as HTTP/1 text': 'GET /items HTTP/2.0\r\nHost: localhost\r\n\r\n',
    'an unknown minor version (HTTP/1.2)': 'GET /items HTTP/1.2\r\nHost: localhost\r\n\r\n',
    'a lower-case method': 'get /items HTTP/1.1\r\nHost: localhost\r\n\r\n',
  };

  for (const [name, payload] of Object.entries(requestLineCases)) {
    it(`header injection via the request line: ${name} → 400`, async () => {
      await assertRefused(payload);
    });
  }

  it('header injection via the request line: an encoded CR LF in the path → 400 (path_rejected)', async () => {
    // Framing is sound here, so the connection may stay open; the path is what is refused.
    const res = await rawRequest(
      gw.port,
      'GET /items/1%0d%0aX-Injected:%201 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    );
    assertGenericProblem(parseResponses(res.text)[0]!, 400);
    await settle(gw, upstream);
    assert.deepEqual(attackTraffic(upstream), []);
    const lines = await gw.readAccessLog();
    assert.ok(lines.some((l) => l.status === 400 && l.reason === 'path_rejected'));
  });

  it('an encoded CR LF in the query stays encoded on the way to the upstream', async () => {
    const res = await rawRequest(
      gw.port,
      'GET /items?q=%0d%0aX-Injected:%201 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    );
    assert.equal(res.status, 200);
    await settle(gw, upstream);
    const seen = attackTraffic(upstream);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.url, '/items?q=%0d%0aX-Injected:%201');
    assert.equal(seen[0]!.headers['x-injected'], undefined);
  });

  it('well-formed headers, including obs-text bytes in a value, are forwarded (control)', async () => {
    const res = await rawRequest(
      gw.port,
      Buffer.from(
        'GET /items HTTP/1.1\r\nHost: localhost\r\nX-A: a\tb\r\nX-Latin: caf\xe9\r\nConnection: close\r\n\r\n',
        'latin1',
      ),
    );
    assert.equal(res.status, 200);
    await settle(gw, upstream);
    const seen = attackTraffic(upstream);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.headers['x-a'], 'a\tb');
    assert.ok(seen[0]!.headers['x-latin'] !== undefined);
    assert.equal(seen[0]!.headers['x-injected'], undefined);
  });
});
