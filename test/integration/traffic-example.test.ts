import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../../scripts/gen-reference.ts';
import { KeyStore } from '../../src/stages/authn/apikey/store.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

/**
 * The usage-plans example (examples/usage-plans) over real sockets, as its README describes
 * it: a free key spends its burst and gets 429 with Retry-After while a gold key is served; the
 * global batch limit is shared by every caller; a key naming an undefined plan is refused.
 */

const EXAMPLE = join(REPO_ROOT, 'examples', 'usage-plans');
const PEPPER = randomBytes(32).toString('base64');

function exampleConfig(): string {
  const text = readFileSync(join(EXAMPLE, 'rampart.yaml'), 'utf8');
  assert.ok(text.includes('port: 8086'), 'the example listens on 8086');
  // The same limits, refilled per hour instead of per second or minute: what the test counts
  // must not depend on how fast a loaded machine sends the requests.
  const slow = text
    .replace(
      '{ name: free-rate, rate: 60, per: 1m, burst: 10 }',
      '{ name: free-rate, rate: 60, per: 1h, burst: 10 }',
    )
    .replace(
      '{ name: batch-total, key: global, rate: 5, per: 1s }',
      '{ name: batch-total, key: global, rate: 5, per: 1h }',
    )
    // The whole test comes from one IP: the per-IP burst must not be what refuses it.
    .replace('      burst: 20\n', '      burst: 1000\n');
  assert.ok(
    !slow.includes('per: 1m, burst: 10') && !slow.includes('rate: 5, per: 1s'),
    'the example still has these limits',
  );
  return `${slow.replace('port: 8086', 'port: 0')}\nlog: { access: { destination: \${dir}/access.log } }\n`;
}

describe('examples/usage-plans over HTTP', () => {
  let gw: TestGateway;
  const keys: Record<string, string> = {};

  before(async () => {
    process.env.RAMPART_KEY_PEPPER = PEPPER;
    let store = KeyStore.load('/nonexistent/keys.json', { allowMissing: true });
    for (const [name, plan] of [
      ['free', undefined],
      ['gold', 'gold'],
      ['gold2', 'gold'],
      ['typo', 'golden'],
    ] as const) {
      const issued = store.create({ kind: 'apiKey', owner: `${name}-co`, plan }, PEPPER, Date.now());
      store = issued.store;
      if (issued.secret.kind === 'apiKey') keys[name] = issued.secret.token;
    }
    gw = await startTestGateway({
      config: exampleConfig(),
      files: {
        'openapi.yaml': readFileSync(join(EXAMPLE, 'openapi.yaml'), 'utf8'),
        'keys.json': JSON.stringify(store.toJSON()),
      },
    });
  });
  after(() => gw.stop());

  const geocode = (key: string) =>
    fetch(`${gw.url}/v1/geocode?q=Lyon`, { headers: { 'x-api-key': key } }).then(async (r) => {
      await r.arrayBuffer();
      return r;
    });

  it('spends the free burst of 10 and refuses with Retry-After, while gold is served', async () => {
    const first = await geocode(keys.free!);
    assert.equal(first.status, 200);
    assert.match(
      first.headers.get('ratelimit-policy') ?? '',
      /^"per-ip";q=10;w=1, "free-rate";q=60;w=3600, "free-monthly";q=1000;w=\d+$/,
    );
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await geocode(keys.free!);
      statuses.push(r.status);
      // The next request fits once one refills: at most a minute (60 an hour) from now.
      if (r.status === 429)
        assert.ok(Number(r.headers.get('retry-after')) <= 60, r.headers.get('retry-after')!);
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 200, 200, 200, 429, 429, 429]);
    assert.equal((await geocode(keys.gold!)).status, 200);
  });

  it('refuses a key whose plan the config does not define', async () => {
    assert.equal((await geocode(keys.typo!)).status, 403);
  });

  it('shares the batch limit among all callers', async () => {
    const batch = (key: string) =>
      fetch(`${gw.url}/v1/batch`, {
        method: 'POST',
        headers: { 'x-api-key': key, 'content-type': 'application/json' },
        body: '["Lyon"]',
      }).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await batch(keys.gold!), await batch(keys.gold2!));
    assert.deepEqual(statuses.filter((s) => s === 200).length, 5);
    assert.equal(statuses.at(-1), 429);
  });
});
