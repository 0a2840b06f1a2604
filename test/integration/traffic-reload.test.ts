import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

/**
 * Limits across reloads: a reload that leaves `store:` alone keeps the counters (a client over
 * its limit cannot reset it by waiting for a deploy), and the new config's limits apply at once.
 */

const OPENAPI = `openapi: 3.1.0
info: { title: t, version: '1' }
security: [{}]
paths:
  /a:
    get:
      operationId: getA
      responses: { '200': { description: ok, content: { text/plain: { example: ok } } } }
`;

const config = (rate: number, store = '') => `version: 1
server: { listen: [{ host: 127.0.0.1, port: 0 }] }
log: { access: { enabled: false } }
${store}
apis:
  t:
    openapi: openapi.yaml
    mock: true
    traffic:
      rateLimits: [{ name: per-ip, key: ip, rate: ${rate}, per: 1h }]
`;

describe('limits across reloads', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ config: config(3), files: { 'openapi.yaml': OPENAPI } });
  });
  after(() => gw.stop());

  const status = async () => {
    const res = await fetch(`${gw.url}/a`);
    await res.arrayBuffer();
    return res.status;
  };
  const rewrite = (text: string) => writeFileSync(join(gw.dir, 'rampart.yaml'), text);

  it('keeps the counters when the store section is unchanged', async () => {
    assert.equal(await status(), 200);
    assert.equal(await status(), 200);
    // Same limit, another gateway log level: the bucket keeps its two requests.
    rewrite(
      config(3).replace(
        'log: { access: { enabled: false } }',
        'log: { level: warn, access: { enabled: false } }',
      ),
    );
    assert.equal((await gw.running.reload()).ok, true);
    assert.equal(await status(), 200);
    assert.equal(await status(), 429);
  });

  it('starts from a new store when the store section changes', async () => {
    rewrite(config(3, 'store: { type: memory, memory: { maxKeys: 5000 } }'));
    assert.equal((await gw.running.reload()).ok, true);
    assert.equal(await status(), 200, 'a new, empty store');
  });
});
