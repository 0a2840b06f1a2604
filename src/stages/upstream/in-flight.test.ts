import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Dispatcher, Pool } from 'undici';
import type { CallHandler, Dispatch } from './dispatch.ts';
import { ClientAbortedError } from './errors.ts';
import { InFlightLimit, saturated, withInFlightLimit } from './in-flight.ts';

/** A handler that ends a promise with how the call ended, and can abort the call once connected. */
function handler(options: { abortOnHeaders?: boolean; abortOnConnect?: boolean } = {}) {
  let settle!: (how: string) => void;
  const ended = new Promise<string>((r) => {
    settle = r;
  });
  let abort: ((e?: Error) => void) | null = null;
  const h: CallHandler = {
    onConnect(a) {
      abort = a;
      if (options.abortOnConnect) a(new ClientAbortedError());
    },
    onHeaders() {
      if (options.abortOnHeaders) abort!(new ClientAbortedError());
      return true;
    },
    onData: () => true,
    onComplete: () => settle('complete'),
    onError: (err) => settle(`error ${(err as { code?: string }).code}`),
  };
  return { h, ended };
}

describe('withInFlightLimit over a real pool', () => {
  let server: Server;
  let pool: Pool;
  let dispatch: Dispatch;
  const limit = new InFlightLimit(2);

  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/hang') return; // never answers: the headers timeout ends it
      if (req.url === '/reset') {
        req.socket.destroy();
        return;
      }
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    pool = new Pool(`http://127.0.0.1:${port}`, { headersTimeout: 200 });
    dispatch = withInFlightLimit(
      pool.dispatch.bind(pool) as Dispatch,
      limit,
      saturated('upstream', 'test', 2),
    );
  });

  after(async () => {
    await pool.close();
    server.closeAllConnections();
    server.close();
  });

  const get = (path: string) => ({ method: 'GET', path }) as Dispatcher.DispatchOptions;

  for (const [what, path, options, expected] of [
    ['a completed call', '/ok', {}, 'complete'],
    ['an upstream reset', '/reset', {}, 'error UND_ERR_SOCKET'],
    ['a headers timeout', '/hang', {}, 'error UND_ERR_HEADERS_TIMEOUT'],
    [
      'a client abort before the request is written',
      '/ok',
      { abortOnConnect: true },
      'error RAMPART_CLIENT_ABORTED',
    ],
    [
      'a client abort after the response head',
      '/ok',
      { abortOnHeaders: true },
      'error RAMPART_CLIENT_ABORTED',
    ],
  ] as const) {
    it(`gives the slot back exactly once after ${what}`, async () => {
      const { h, ended } = handler(options);
      dispatch(get(path), h);
      assert.equal(limit.count, 1);
      assert.equal(await ended, expected);
      assert.equal(limit.count, 0);
    });
  }

  it('gives the slot back after a connection refused', async () => {
    const closed = new Pool('http://127.0.0.1:1');
    const d = withInFlightLimit(
      closed.dispatch.bind(closed) as Dispatch,
      limit,
      saturated('upstream', 'x', 2),
    );
    const { h, ended } = handler();
    d(get('/'), h);
    assert.equal(await ended, 'error ECONNREFUSED');
    assert.equal(limit.count, 0);
    await closed.close();
  });

  it('refuses a call past the limit at once, without dispatching it', async () => {
    const a = handler();
    const b = handler();
    dispatch(get('/hang'), a.h);
    dispatch(get('/hang'), b.h);
    const c = handler();
    dispatch(get('/ok'), c.h);
    assert.equal(await c.ended, 'error RAMPART_UPSTREAM_SATURATED');
    assert.equal(limit.count, 2, 'the refused call took no slot');
    await Promise.all([a.ended, b.ended]);
    assert.equal(limit.count, 0);
  });

  it('refuses to release a slot that was not taken (a double release is a bug, not a bonus slot)', () => {
    const l = new InFlightLimit(1);
    assert.throws(() => l.release(), /released twice/);
  });
});
