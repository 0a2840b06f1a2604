import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startProxiedGateway, stopProxied, type TestGateway } from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/raw.ts';
import type { SeenRequest, TestUpstream } from '../helpers/upstream.ts';
import { assertGenericProblem, attackTraffic, parseResponses, settle } from './support/http.ts';

/**
 * Path confusion: an encoding that the gateway reads as one path and the upstream as another
 * (`..%2f`, `%5c`, double encoding, overlong UTF-8, Tomcat's `..;/`) lets a request authorized
 * for /items/{id} be served by /admin/{id}. The route stage either resolves a path to one
 * canonical form — routes on it and sends exactly that to the upstream — or refuses it (400).
 * /admin/{id} is a declared operation here, so a bypass would be served, not 404'd.
 */
describe('path confusion (encoded dot segments, separators, double and overlong encoding)', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  const everything: SeenRequest[] = [];

  before(async () => {
    ({ gw, upstream } = await startProxiedGateway());
  });
  after(() => stopProxied(gw, upstream));
  beforeEach(() => {
    everything.push(...attackTraffic(upstream));
    upstream.seen.length = 0;
  });

  function get(target: string) {
    return rawRequest(gw.port, `GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
  }

  const rejected: Record<string, string> = {
    'encoded slash after dot-dot (`..%2f`)': '/items/..%2fadmin/1',
    'encoded slash as a separator (`%2f`)': '/items%2fadmin',
    'encoded slash, upper case (`%2F`)': '/items/1%2F..%2F..%2Fadmin%2F1',
    'dot-dot-encoded-slash climbing twice': '/items/x/..%2f..%2fadmin/1',
    'encoded backslash (`%5c`)': '/items%5c..%5cadmin/1',
    'encoded backslash, upper case (`%5C`)': '/items/1%5C..%5C..%5Cadmin%5C1',
    'raw backslash': '/items\\..\\admin\\1',
    'encoded NUL (`%00`)': '/items/1%00',
    'encoded NUL between dots': '/items/.%00./admin/1',
    'double-encoded dots (`%252e%252e`)': '/items/%252e%252e/admin/1',
    'double-encoded slash (`%252f`)': '/items%252fadmin/1',
    'double-encoded slash, upper case (`%252F`)': '/items/1%252F..%252F..%252Fadmin',
    'overlong UTF-8 dots (`%c0%ae%c0%ae`)': '/items/%c0%ae%c0%ae/admin/1',
    'overlong UTF-8 slash (`%c0%af`)': '/items/..%c0%afadmin/1',
    'three-byte overlong dots (`%e0%80%ae`)': '/items/%e0%80%ae%e0%80%ae/admin/1',
    'IIS %u encoding (`%u002e`)': '/items/%u002e%u002e/admin/1',
    'Tomcat path parameter dot-dot (`..;/`)': '/items/..;/admin/1',
    'Tomcat `..;/` twice': '/items/1/..;/..;/admin/1',
    'encoded Tomcat dot-dot (`%2e%2e;`)': '/items/%2e%2e;/admin/1',
    'Tomcat `.;/`': '/items/.;/admin/1',
    'dot-dot above the root': '/../admin/1',
    'bare dot-dot': '/..',
    'dot-dot climbing past the root': '/items/../../admin/1',
    'encoded dot-dot climbing past the root': '/items/%2e%2e/%2e%2e/admin/1',
    'truncated escape (`%2`)': '/items/%2',
    'non-hex escape (`%zz`)': '/items/%zz',
    'absolute-form target': 'http://127.0.0.1/admin/1',
    'a fragment in the target': '/items/1#/../../admin/1',
  };

  for (const [name, target] of Object.entries(rejected)) {
    it(`${name} → 400, nothing reaches the upstream: ${target}`, async () => {
      const res = await get(target);
      assertGenericProblem(parseResponses(res.text)[0]!, 400);
      await settle(gw, upstream);
      assert.deepEqual(
        attackTraffic(upstream).map((s) => s.url),
        [],
      );
    });
  }

  // RFC 3986 §5.2.4 / §6.2.2: these have one meaning, and it is what both the router and the
  // upstream see. `operationId` is what the gateway matched (and would authorize).
  const resolved: [target: string, upstreamPath: string, operationId: string][] = [
    ['/items/../items', '/items', 'listItems'],
    ['/items/%2e%2e/admin/1', '/admin/1', 'adminOnly'],
    ['/items/%2E%2E/admin/1', '/admin/1', 'adminOnly'],
    ['/items/.%2e/admin/1', '/admin/1', 'adminOnly'],
    ['/items/%2e./admin/1', '/admin/1', 'adminOnly'],
    ['/admin/../items/7', '/items/7', 'getItem'],
    ['/admin/1/../../items/7', '/items/7', 'getItem'],
    ['/items/./1', '/items/1', 'getItem'],
    ['/items/%2e/1', '/items/1', 'getItem'],
    ['/items/1/../2', '/items/2', 'getItem'],
    ['/items/%41%62c', '/items/Abc', 'getItem'],
    ['/items/caf%c3%a9', '/items/caf%C3%A9', 'getItem'],
    // A full-width solidus is a character, not a separator: it must not turn into `/`.
    ['/items/..%ef%bc%8fadmin', '/items/..%EF%BC%8Fadmin', 'getItem'],
    ['/items/1?next=/../admin/1', '/items/1?next=/../admin/1', 'getItem'],
  ];

  for (const [target, upstreamPath, operationId] of resolved) {
    it(`${target} → the upstream gets exactly ${upstreamPath} (${operationId})`, async () => {
      const res = await get(target);
      const response = parseResponses(res.text)[0]!;
      assert.equal(response.status, 200);
      await settle(gw, upstream);
      assert.deepEqual(
        attackTraffic(upstream).map((s) => s.url),
        [upstreamPath],
      );
      const line = (await gw.readAccessLog()).find((l) => l.reqId === response.headers['x-request-id']);
      assert.equal(line?.operationId, operationId, 'the operation matched is the one the upstream serves');
      assert.equal(line?.path, upstreamPath.split('?')[0]);
    });
  }

  it('paths the router does not know exactly are 404, not a near match', async () => {
    for (const target of ['/ADMIN/1', '/Items', '//admin/1', '/items//1', '/items/1/', '/admin;x=1/1']) {
      const res = await get(target);
      assert.equal(parseResponses(res.text)[0]?.status, 404, target);
    }
    await settle(gw, upstream);
    assert.deepEqual(attackTraffic(upstream), []);
  });

  it('no raw dot segment, encoded separator, backslash, NUL or double escape ever reached the upstream', () => {
    everything.push(...attackTraffic(upstream));
    assert.ok(everything.length >= resolved.length);
    for (const { url } of everything) {
      const path = url.split('?')[0]!;
      assert.doesNotMatch(path, /(^|\/)\.\.?(\/|;|$)|%2f|%5c|\\|%00|%25|%c0|%e0%80/i, url);
    }
  });
});
