import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { SIMPLE_OPENAPI } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { type GatewayProcess, startGatewayProcess } from './support/gateway-process.ts';
import { httpGet, tryConnect } from './support/http-get.ts';
import { waitFor } from './support/wait-for.ts';

/** The gateway as a user runs it (`rampart start`), stopped with SIGTERM like a process manager does. */
describe('SIGTERM drain', () => {
  let upstream: TestUpstream;
  let arrived = 0;
  const timers = new Set<NodeJS.Timeout>();
  let dir: string;
  let gp: GatewayProcess | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rampart-drain-'));
    writeFileSync(join(dir, 'openapi.yaml'), SIMPLE_OPENAPI);
    upstream = await startUpstream((req, res) => {
      arrived++;
      const delay = req.url === '/items/slow' ? 2500 : req.url === '/items/hang' ? 30_000 : 0;
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (res.destroyed) return;
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`done ${req.url}`);
      }, delay);
      timers.add(timer);
    });
  });
  afterEach(async () => {
    await gp?.kill();
    gp = undefined;
  });
  after(async () => {
    for (const t of timers) clearTimeout(t);
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function config(drainTimeout: string, accessLog?: string): string {
    const file = join(dir, `rampart-${drainTimeout}.yaml`);
    writeFileSync(
      file,
      `version: 1
server:
  listen: [{ host: 127.0.0.1, port: 0 }]
  drainTimeout: ${drainTimeout}
log:
  access:
    ${accessLog ? `destination: ${accessLog}` : 'enabled: false'}
upstreams:
  backend:
    url: ${upstream.url}
apis:
  test:
    openapi: openapi.yaml
    upstream: backend
`,
    );
    return file;
  }

  it('finishes the in-flight request, refuses new connections, and exits 0', async () => {
    gp = await startGatewayProcess(config('8s'));
    const ready = await httpGet(gp.port, '/items/fast');
    assert.equal(ready.status, 200);

    const before = arrived;
    let slowDone = false;
    const slow = httpGet(gp.port, '/items/slow').finally(() => {
      slowDone = true;
    });
    await waitFor('the slow request to reach the upstream', () => arrived > before);

    const signalled = Date.now();
    gp.child.kill('SIGTERM');
    const refused = await waitFor('new connections to be refused', async () => {
      const result = await tryConnect(gp!.port);
      return result === 'ECONNREFUSED' ? result : undefined;
    });
    assert.equal(refused, 'ECONNREFUSED');
    assert.equal(slowDone, false, 'the listener must close while the request is still in flight');

    const res = await slow;
    assert.equal(res.status, 200);
    assert.equal(res.body, 'done /items/slow');
    // The draining gateway tells keep-alive clients not to reuse the connection.
    assert.equal(res.headers.connection, 'close');

    const exit = await gp.exited;
    assert.equal(exit.code, 0, gp.stderr());
    const took = exit.at - signalled;
    assert.ok(took < 8000, `exited ${took} ms after SIGTERM, past the 8s drain bound`);
    assert.match(gp.stderr(), /draining/);
  });

  it('exits within the drain timeout even when a request outlives it', async () => {
    gp = await startGatewayProcess(config('500ms'));
    const before = arrived;
    const hung = httpGet(gp.port, '/items/hang').then(
      (res) => `answered ${res.status}`,
      (err: NodeJS.ErrnoException) => `cut: ${err.code ?? err.message}`,
    );
    await waitFor('the hung request to reach the upstream', () => arrived > before);

    const signalled = Date.now();
    gp.child.kill('SIGTERM');
    const exit = await Promise.race([
      gp.exited,
      new Promise<null>((r) => setTimeout(() => r(null), 10_000).unref()),
    ]);
    assert.ok(exit, `still running 10 s after SIGTERM with a 500ms drain timeout:\n${gp.stderr()}`);
    const took = exit.at - signalled;
    // 500ms of drain plus process teardown on a busy machine; far below the upstream's 30 s.
    assert.ok(took < 5000, `exited ${took} ms after SIGTERM`);
    assert.equal(exit.code, 0, gp.stderr());
    assert.match(await hung, /^cut: /, 'the request past the drain timeout is cut, not answered');
    assert.match(gp.stderr(), /drain timeout/);
  });

  it('loses no access-log line: every request answered before SIGTERM is in the file after exit', async () => {
    const logFile = join(dir, 'burst.log');
    gp = await startGatewayProcess(config('5s', logFile));
    // SIGTERM lands in the middle of a burst: lines are buffered and a write is in flight
    // while the gateway drains the rest and exits.
    const ids: string[] = [];
    let answered = 0;
    const burst = Array.from({ length: 400 }, () =>
      httpGet(gp!.port, '/items/fast').then(
        (a) => {
          if (++answered === 150) gp!.child.kill('SIGTERM');
          if (a.status === 200) ids.push(String(a.headers['x-request-id']));
        },
        () => undefined, // refused after the listener closed: never answered, never logged
      ),
    );
    await Promise.all(burst);
    assert.ok(ids.length >= 150, `only ${ids.length} answered`);
    const exit = await gp.exited;
    assert.equal(exit.code, 0, gp.stderr());
    const logged = new Set(
      readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as { reqId: string }).reqId),
    );
    const missing = ids.filter((id) => !logged.has(id));
    assert.deepEqual(missing, [], `${missing.length} of ${ids.length} answered requests have no log line`);
  });
});
