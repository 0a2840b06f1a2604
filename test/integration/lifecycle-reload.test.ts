import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { SIMPLE_OPENAPI, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { type GatewayProcess, startGatewayProcess } from './support/gateway-process.ts';
import { httpGet } from './support/http-get.ts';
import { sleep, waitFor } from './support/wait-for.ts';

const HEAD = `version: 1
server:
  listen: [{ host: 127.0.0.1, port: 0 }]
log:
  access:
    enabled: false
`;

const MOCK_APIS = {
  one: `apis:
  first:
    openapi: openapi.yaml
    basePath: /a
    mock: true
`,
  two: `apis:
  first:
    openapi: openapi.yaml
    basePath: /a
    mock: true
  second:
    openapi: openapi.yaml
    basePath: /b
    mock: true
`,
};

describe('SIGHUP reload (rampart start)', () => {
  let dir: string;
  let configFile: string;
  let gp: GatewayProcess;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rampart-sighup-'));
    writeFileSync(join(dir, 'openapi.yaml'), SIMPLE_OPENAPI);
    configFile = join(dir, 'rampart.yaml');
    writeFileSync(configFile, HEAD + MOCK_APIS.one);
    gp = await startGatewayProcess(configFile);
  });
  after(async () => {
    await gp?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a newly added API after SIGHUP', async () => {
    assert.equal((await httpGet(gp.port, '/b/items')).status, 404);
    writeFileSync(configFile, HEAD + MOCK_APIS.two);
    gp.child.kill('SIGHUP');
    await waitFor('the new API to serve', async () => (await httpGet(gp.port, '/b/items')).status === 200);
    assert.equal((await httpGet(gp.port, '/a/items')).status, 200);
    await waitFor('the reload to be logged', () => gp.stderr().includes('config reloaded'));
  });

  it('keeps serving the running config when the new one is invalid, and says where it is wrong', async () => {
    // Line 10 of the file, column 5: a typo the schema refuses.
    const invalid = `${HEAD}apis:
  first:
    openapi: openapi.yaml
    basePth: /a
    mock: true
`;
    assert.equal(invalid.split('\n')[9], '    basePth: /a');
    writeFileSync(configFile, invalid);
    const logged = gp.stderr().length;
    gp.child.kill('SIGHUP');
    const said = await waitFor('the refusal to be logged', () => {
      const text = gp.stderr().slice(logged);
      return text.includes('reload refused') ? text : undefined;
    });
    assert.match(said, /rampart\.yaml:10:5:/);
    assert.match(said, /basePth/);
    assert.match(said, /RAMPART_ERR_CONFIG_SCHEMA/);
    // Both APIs of the last good config still serve.
    assert.equal((await httpGet(gp.port, '/a/items')).status, 200);
    assert.equal((await httpGet(gp.port, '/b/items')).status, 200);
    assert.equal(gp.child.exitCode, null, 'a refused reload must not stop the gateway');
  });
});

describe('server.watch', () => {
  let gw: TestGateway;

  before(async () => {
    gw = await startTestGateway({
      config: HEAD.replace('  listen:', '  watch: true\n  listen:') + MOCK_APIS.one,
      files: { 'openapi.yaml': SIMPLE_OPENAPI },
    });
  });
  after(() => gw.stop());

  it('reloads when the config file changes', async () => {
    assert.equal((await fetch(`${gw.url}/b/items`)).status, 404);
    writeFileSync(
      join(gw.dir, 'rampart.yaml'),
      HEAD.replace('  listen:', '  watch: true\n  listen:') + MOCK_APIS.two,
    );
    await waitFor(
      'the watched change to apply',
      async () => (await fetch(`${gw.url}/b/items`)).status === 200,
    );
  });

  it('reloads when a referenced OpenAPI document changes', async () => {
    assert.equal((await fetch(`${gw.url}/a/orders`)).status, 404);
    const withOrders = `${SIMPLE_OPENAPI}  /orders:
    get:
      operationId: listOrders
      responses:
        '200':
          description: ok
          content:
            application/json:
              example: { orders: [] }
`;
    writeFileSync(join(gw.dir, 'openapi.yaml'), withOrders);
    const res = await waitFor('the new operation to serve', async () => {
      const r = await fetch(`${gw.url}/a/orders`);
      return r.status === 200 ? r : undefined;
    });
    assert.deepEqual(await res.json(), { orders: [] });
  });
});

describe('reload while serving', () => {
  let one: TestUpstream;
  let two: TestUpstream;
  let gw: TestGateway;
  const configs = { one: '', two: '' };
  const timers = new Set<NodeJS.Timeout>();

  before(async () => {
    const answer = (name: string) =>
      startUpstream((req, res) => {
        const delay = req.url === '/items/slow' ? 1000 : 0;
        const timer = setTimeout(() => {
          timers.delete(timer);
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(req.url === '/items/slow' ? `${name}-slow` : name);
        }, delay);
        timers.add(timer);
      });
    one = await answer('one');
    two = await answer('two');
    const config = (url: string) => `${HEAD}upstreams:
  backend:
    url: ${url}
apis:
  test:
    openapi: openapi.yaml
    upstream: backend
`;
    configs.one = config(one.url);
    configs.two = config(two.url);
    gw = await startTestGateway({ config: configs.one, files: { 'openapi.yaml': SIMPLE_OPENAPI } });
  });
  afterEach(async () => {
    // Leave each test on config one.
    writeFileSync(join(gw.dir, 'rampart.yaml'), configs.one);
    assert.equal((await gw.running.reload()).ok, true);
  });
  after(async () => {
    for (const t of timers) clearTimeout(t);
    await gw.stop();
    await one.close();
    await two.close();
  });

  it('drops no request while reloading repeatedly under concurrent load', async () => {
    const bodies = new Map<string, number>();
    const failures: string[] = [];
    let stop = false;
    const loop = async (n: number) => {
      // Bounded even if `stop` were never set.
      for (let i = 0; i < 5000 && !stop; i++) {
        try {
          const res = await fetch(`${gw.url}/items/${n}-${i}`);
          const body = await res.text();
          if (res.status !== 200 || (body !== 'one' && body !== 'two'))
            failures.push(`${res.status} ${body}`);
          else bodies.set(body, (bodies.get(body) ?? 0) + 1);
        } catch (err) {
          failures.push(String((err as Error).cause ?? err));
        }
      }
    };
    const loops = Array.from({ length: 8 }, (_, n) => loop(n));
    const results: boolean[] = [];
    const started = Date.now();
    for (let r = 0; r < 10 && Date.now() - started < 6000; r++) {
      await sleep(250);
      writeFileSync(join(gw.dir, 'rampart.yaml'), r % 2 === 0 ? configs.two : configs.one);
      results.push((await gw.running.reload()).ok);
    }
    await sleep(250);
    stop = true;
    await Promise.all(loops);

    assert.deepEqual(failures, [], `${failures.length} failed request(s)`);
    assert.ok(results.length >= 4, `only ${results.length} reloads happened`);
    assert.ok(
      results.every((ok) => ok),
      'every reload succeeded',
    );
    const total = (bodies.get('one') ?? 0) + (bodies.get('two') ?? 0);
    assert.ok(total >= 50, `only ${total} requests completed`);
    assert.ok((bodies.get('one') ?? 0) > 0 && (bodies.get('two') ?? 0) > 0, 'both configs served');
  });

  it('lets a request in flight during the swap finish on the old config', async () => {
    const seenBefore = one.seen.length;
    const slow = fetch(`${gw.url}/items/slow`).then(async (r) => ({
      status: r.status,
      body: await r.text(),
    }));
    await waitFor('the slow request to reach upstream one', () => one.seen.length > seenBefore);
    writeFileSync(join(gw.dir, 'rampart.yaml'), configs.two);
    const result = await gw.running.reload();
    assert.equal(result.ok, true);
    // New requests go to the new config at once…
    const fresh = await fetch(`${gw.url}/items/1`);
    assert.equal(await fresh.text(), 'two');
    // …while the one that started before the swap completes on the old one.
    assert.deepEqual(await slow, { status: 200, body: 'one-slow' });
  });

  it('refuses a reload that changes the listeners, and keeps serving', async () => {
    writeFileSync(
      join(gw.dir, 'rampart.yaml'),
      configs.two.replace('port: 0', `port: ${gw.port === 65535 ? 65534 : gw.port + 1}`),
    );
    const result = await gw.running.reload();
    assert.equal(result.ok, false);
    assert.equal((result.error as { code?: string }).code, 'RAMPART_ERR_RELOAD_LISTENER');
    assert.equal(await (await fetch(`${gw.url}/items/1`)).text(), 'one');
  });
});
