import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import {
  failures,
  logLine,
  send,
  VALIDATION_OPENAPI,
  validationConfig,
} from '../integration/support/validation.ts';

/**
 * JSON depth bomb: a small body nested tens of thousands of levels deep (`[[[[…]]]]` or
 * `{"a":{"a":…}}`). JSON.parse copes, but every recursive walker after it — a validator, the
 * upstream's parser, a logger — can exhaust its stack. The gateway refuses it (400
 * body_malformed) from a bounded, non-recursive scan, before any value is built, and keeps
 * serving; the upstream never sees it.
 */
describe('JSON depth bomb', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  const json = { 'content-type': 'application/json' };

  before(async () => {
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: validationConfig(upstream.url, '    validate: { maxDepth: 16 }'),
      files: { 'openapi.yaml': VALIDATION_OPENAPI },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  const bombs: [string, string][] = [
    ['arrays, 30 000 deep (60 kB)', `${'['.repeat(30_000)}${']'.repeat(30_000)}`],
    ['objects, 10 000 deep', `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`],
    [
      'inside a valid-looking property',
      `{"customer":"c","items":[{"sku":"ABC-1234","qty":1}],"note":${'['.repeat(17)}${']'.repeat(17)}}`,
    ],
    ['unterminated', '['.repeat(50_000)],
  ];
  for (const [name, body] of bombs) {
    it(`${name} → 400 body_malformed`, async () => {
      const res = await send(gw, '/orders', { method: 'POST', headers: json, body });
      assert.equal(res.status, 400);
      assert.deepEqual(failures(res), ['body syntax']);
      const line = await logLine(gw, res.headers.get('x-request-id'));
      assert.equal(line.reason, 'body_malformed');
    });
  }

  it('nesting up to maxDepth is accepted (and then checked by the schema)', async () => {
    const res = await send(gw, '/orders', {
      method: 'POST',
      headers: json,
      body: `{"customer":"c","items":[{"sku":"ABC-1234","qty":1}],"note":${'['.repeat(14)}${']'.repeat(14)}}`,
    });
    assert.deepEqual([res.status, ...failures(res)], [400, 'body/note type'], 'parsed, then refused by type');
  });

  it('the gateway keeps serving and the upstream received none of the bombs', async () => {
    const res = await send(gw, '/orders/1');
    assert.equal(res.status, 200);
    assert.deepEqual(
      upstream.seen.map((s) => `${s.method} ${s.url}`),
      ['GET /orders/1'],
    );
  });
});
