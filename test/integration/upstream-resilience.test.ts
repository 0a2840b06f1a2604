import assert from 'node:assert/strict';
import { request as httpRequest, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { RampartError } from '../../src/core/errors.ts';
import { setProcessLog } from '../../src/observe/logger.ts';
import type { TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { resilientGateway } from './support/resilience.ts';
import { waitFor } from './support/wait-for.ts';

/** Gateway-log lines (JSON) written through the process log, as `rampart start` writes them. */
const gatewayLog: Record<string, unknown>[] = [];
before(() => {
  setProcessLog(
    pino(
      { level: 'info' },
      new Writable({
        write(chunk, _enc, cb) {
          for (const line of String(chunk).split('\n')) if (line) gatewayLog.push(JSON.parse(line));
          cb();
        },
      }),
    ),
  );
});

const circuitEvents = () =>
  gatewayLog
    .filter((l) => l.event === 'circuit_state_changed')
    .map((l) => `${l.upstream} ${l.from}→${l.to} ${l.reason} level=${l.level}`);

/** A 503 the gateway made: generic problem+json, Retry-After, and the reason in the access log only. */
async function assertRefused(
  gw: TestGateway,
  res: Response,
  reason: string,
  retryAfter: RegExp = /^1$/,
): Promise<void> {
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  assert.match(res.headers.get('retry-after') ?? '', retryAfter);
  const text = await res.text();
  assert.deepEqual(Object.keys(JSON.parse(text)).sort(), ['requestId', 'status', 'title', 'type']);
  assert.doesNotMatch(text, new RegExp(reason), 'the reason code stays in the logs');
  const line = await gw.logLine(res.headers.get('x-request-id')!);
  assert.equal(line.reason, reason);
  assert.equal(line.status, 503);
  assert.equal(line.upstreamMs, undefined, 'no upstream call was made');
}

/** Retry-After of a circuit opened for 2s / 30s a moment ago (a slow machine may use up a second). */
const SECONDS_LEFT_2S = /^[12]$/;
const SECONDS_LEFT_30S = /^(29|30)$/;

/** An upstream that holds every request whose path contains `hold` until `release()`. */
async function holdingUpstream(): Promise<{
  upstream: TestUpstream;
  held: ServerResponse[];
  release(): void;
}> {
  const held: ServerResponse[] = [];
  const upstream = await startUpstream((req, res) => {
    if (req.url!.includes('hold')) {
      held.push(res);
      return;
    }
    if (req.url!.includes('reset')) {
      req.socket.destroy();
      return;
    }
    if (req.url!.includes('hang')) return; // never answers: the headers timeout ends it
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  return {
    upstream,
    held,
    release() {
      for (const res of held.splice(0)) {
        if (!res.destroyed) res.end('released');
      }
    },
  };
}

/** A GET that the client gives up on once the upstream has it; resolves when the socket is gone. */
async function abandonedGet(gw: TestGateway, path: string, upstream: TestUpstream): Promise<void> {
  const before = upstream.seen.length;
  const req = httpRequest({ host: '127.0.0.1', port: gw.port, path, agent: false });
  req.on('error', () => {});
  req.end();
  await waitFor('the upstream to receive the request', () => upstream.seen.length > before);
  req.destroy();
}

async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('max in-flight requests', () => {
  it('refuses requests past upstreams.<name>.maxInFlight with 503 upstream_saturated, never sending them', async () => {
    const { upstream, held, release } = await holdingUpstream();
    const gw = await resilientGateway(upstream.url, '    maxInFlight: 2');
    try {
      const first = [fetch(`${gw.url}/items/hold-1`), fetch(`${gw.url}/items/hold-2`)];
      await waitFor('two requests held upstream', () => held.length === 2);
      const refused = await fetch(`${gw.url}/items/3`);
      await assertRefused(gw, refused, 'upstream_saturated');
      // The limit is the upstream's, across operations.
      await assertRefused(gw, await fetch(`${gw.url}/items`), 'upstream_saturated');
      assert.equal(upstream.seen.length, 2, 'refused requests never reach the upstream');
      release();
      for (const res of await Promise.all(first)) {
        assert.equal(res.status, 200);
        assert.equal(await res.text(), 'released');
      }
      assert.equal((await fetch(`${gw.url}/items/4`)).status, 200, 'the slots were given back');
    } finally {
      await gw.stop();
      await upstream.close();
    }
  });

  it('gives the slot back exactly once however the exchange ends (finished, upstream error, timeout, client abort)', async () => {
    const { upstream, held, release } = await holdingUpstream();
    const gw = await resilientGateway(upstream.url, '    maxInFlight: 1\n    timeouts: { headers: 300ms }');
    const next = async (why: string) => {
      // With a leaked slot, every later request would be refused.
      const res = await waitFor(`a request to be admitted after ${why}`, async () => {
        const r = await fetch(`${gw.url}/items/ok`);
        await r.arrayBuffer();
        return r.status === 200 ? r : null;
      });
      assert.equal(res.status, 200);
    };
    try {
      assert.equal((await fetch(`${gw.url}/items/ok`)).status, 200);
      await next('a finished exchange');
      assert.equal((await fetch(`${gw.url}/items/reset`)).status, 502);
      await next('an upstream reset (502)');
      assert.equal((await fetch(`${gw.url}/items/hang`)).status, 504);
      await next('a headers timeout (504)');
      await abandonedGet(gw, '/items/hold-abort', upstream);
      await next('a client abort while the upstream was working');
      // The count did not drop below zero either: one held request fills the limit again.
      const holding = fetch(`${gw.url}/items/hold-last`);
      await waitFor('the request to be held', () => held.some((r) => r.req.url === '/items/hold-last'));
      await assertRefused(gw, await fetch(`${gw.url}/items/ok`), 'upstream_saturated');
      release();
      assert.equal((await holding).status, 200);
    } finally {
      release();
      await gw.stop();
      await upstream.close();
    }
  });

  it('limits one operation with operations.<id>.maxInFlight (503 operation_saturated) and leaves the others alone', async () => {
    const { upstream, held, release } = await holdingUpstream();
    const gw = await resilientGateway(upstream.url, '', '    operations:\n      getItem: { maxInFlight: 1 }');
    try {
      const first = fetch(`${gw.url}/items/hold-1`);
      await waitFor('the request to be held', () => held.length === 1);
      await assertRefused(gw, await fetch(`${gw.url}/items/2`), 'operation_saturated');
      assert.equal((await fetch(`${gw.url}/items`)).status, 200, 'listItems has no limit');
      release();
      assert.equal((await first).status, 200);
      assert.equal((await fetch(`${gw.url}/items/3`)).status, 200);
    } finally {
      await gw.stop();
      await upstream.close();
    }
  });

  it('refuses maxInFlight on an operation answered by the mock, naming the field', async () => {
    await assert.rejects(
      resilientGateway(
        'http://127.0.0.1:1',
        '',
        '    operations:\n      getItem: { mock: true, maxInFlight: 1 }',
      ),
      (err: RampartError) => {
        assert.equal(err.problems[0]?.field, 'apis.test.operations.getItem.maxInFlight');
        assert.ok((err.problems[0]?.location.line ?? 0) > 0);
        return true;
      },
    );
  });
});

describe('circuit breaker', () => {
  it('opens after consecutive failures, refuses at once, probes after openFor and closes on success', async () => {
    let healthy = false;
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(healthy ? 'ok' : 'overloaded');
    });
    const gw = await resilientGateway(
      upstream.url,
      '    circuitBreaker: { consecutiveFailures: 3, openFor: 2s }',
    );
    gatewayLog.length = 0;
    try {
      for (let i = 0; i < 3; i++) assert.equal((await fetch(`${gw.url}/items/${i}`)).status, 503);
      assert.equal(upstream.seen.length, 3);
      const refused = await fetch(`${gw.url}/items/4`);
      await assertRefused(gw, refused, 'circuit_open', SECONDS_LEFT_2S);
      assert.equal(upstream.seen.length, 3, 'an open circuit does not call the upstream');
      assert.deepEqual(circuitEvents(), ['backend closed→open consecutive_failures level=40']);

      healthy = true;
      await new Promise((r) => setTimeout(r, 2100));
      const probe = await fetch(`${gw.url}/items/5`);
      assert.equal(probe.status, 200);
      assert.equal(await probe.text(), 'ok');
      assert.equal((await fetch(`${gw.url}/items/6`)).status, 200);
      assert.equal(upstream.seen.length, 5);
      assert.deepEqual(circuitEvents(), [
        'backend closed→open consecutive_failures level=40',
        'backend open→half-open open_for_elapsed level=40',
        'backend half-open→closed probes_succeeded level=40',
      ]);
    } finally {
      await gw.stop();
      await upstream.close();
    }
  });

  it('counts connect errors as failures, and a failed probe opens the circuit again', async () => {
    const port = await closedPort();
    const gw = await resilientGateway(
      `http://127.0.0.1:${port}`,
      '    circuitBreaker: { consecutiveFailures: 2, openFor: 2s }',
    );
    gatewayLog.length = 0;
    try {
      assert.equal((await fetch(`${gw.url}/items`)).status, 502);
      assert.equal((await fetch(`${gw.url}/items`)).status, 502);
      await assertRefused(gw, await fetch(`${gw.url}/items`), 'circuit_open', SECONDS_LEFT_2S);
      await new Promise((r) => setTimeout(r, 2100));
      assert.equal((await fetch(`${gw.url}/items`)).status, 502, 'the probe goes to the upstream');
      await assertRefused(gw, await fetch(`${gw.url}/items`), 'circuit_open', SECONDS_LEFT_2S);
      assert.deepEqual(circuitEvents(), [
        'backend closed→open consecutive_failures level=40',
        'backend open→half-open open_for_elapsed level=40',
        'backend half-open→open probe_failed level=40',
      ]);
    } finally {
      await gw.stop();
    }
  });

  it('counts timeouts as failures, but never a client that hung up', async () => {
    const { upstream, release } = await holdingUpstream();
    const gw = await resilientGateway(
      upstream.url,
      '    timeouts: { headers: 300ms }\n    circuitBreaker: { consecutiveFailures: 2, openFor: 30s }',
    );
    gatewayLog.length = 0;
    try {
      for (let i = 0; i < 3; i++) await abandonedGet(gw, `/items/hold-${i}`, upstream);
      release();
      assert.equal((await fetch(`${gw.url}/items/ok`)).status, 200, 'three client aborts opened nothing');
      assert.equal((await fetch(`${gw.url}/items/hang`)).status, 504);
      assert.equal((await fetch(`${gw.url}/items/hang`)).status, 504);
      await assertRefused(gw, await fetch(`${gw.url}/items/ok`), 'circuit_open', SECONDS_LEFT_30S);
      assert.deepEqual(circuitEvents(), ['backend closed→open consecutive_failures level=40']);
    } finally {
      await gw.stop();
      await upstream.close();
    }
  });

  it('opens on the error rate over the window, and only the configured statuses are failures', async () => {
    let n = 0;
    const upstream = await startUpstream((_req, res) => {
      // Never two failures in a row: only the rate can open the circuit. 500 is not a failure here.
      const status = n++ % 2 === 0 ? 502 : 500;
      res.writeHead(status);
      res.end();
    });
    const gw = await resilientGateway(
      upstream.url,
      `    circuitBreaker:
      consecutiveFailures: 0
      errorRate: { threshold: 0.6, minRequests: 10, window: 10s }
      failureStatuses: [502, 500]`,
    );
    try {
      for (let i = 0; i < 10; i++) assert.notEqual((await fetch(`${gw.url}/items`)).status, 503);
      await assertRefused(gw, await fetch(`${gw.url}/items`), 'circuit_open', SECONDS_LEFT_30S);
    } finally {
      await gw.stop();
      await upstream.close();
    }
  });

  it('refuses a breaker that can never open, naming the field', async () => {
    await assert.rejects(
      resilientGateway('http://127.0.0.1:1', '    circuitBreaker: { consecutiveFailures: 0 }'),
      (err: RampartError) => {
        assert.equal(err.problems[0]?.field, 'upstreams.backend.circuitBreaker');
        assert.match(err.problems[0]!.message, /never open/);
        return true;
      },
    );
  });
});

describe('retries', () => {
  /** Resets the first connection of every path, then answers with what it received. */
  async function flakyUpstream(): Promise<TestUpstream> {
    const failed = new Set<string>();
    return startUpstream((req, res, body) => {
      const key = `${req.method} ${req.url}`;
      if (!failed.has(key)) {
        failed.add(key);
        req.socket.destroy();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${req.method} ${body}`);
    });
  }

  it('retries a GET whose connection reset before any response byte', async () => {
    const upstream = await flakyUpstream();
    const gw = await resilientGateway(upstream.url, '    retry: { attempts: 2 }');
    try {
      const res = await fetch(`${gw.url}/items/1`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'GET ');
      assert.equal(upstream.seen.length, 2);
    } finally {
      await gw.stop();
      await upstream.close();
    }
  });

  it('does not retry without a retry block (the default)', async () => {
    const upstream = await flakyUpstream();
    const gw = await resilientGateway(upstream.url, '');
    try {
      assert.equal((await fetch(`${gw.url}/items/1`)).status, 502);
      assert.equal(upstream.seen.length, 1);
    } finally {
      await gw.stop();
      await upstream.close();
    }
  });

  it('replays the same body of a PUT and a DELETE, streamed chunked by the client', async () => {
    const upstream = await flakyUpstream();
    const gw = await resilientGateway(upstream.url, '    retry: { attempts: 2 }');
    try {
      for (const method of ['PUT', 'DELETE']) {
        const res = await fetch(`${gw.url}/items/1`, {
          method,
          body: new ReadableStream({
            start(c) {
              c.enqueue(new TextEncoder().encode('{"name":'));
              c.enqueue(new TextEncoder().encode('"x"}'));
              c.close();
            },
          }),
          duplex: 'half',
        } as RequestInit);
        assert.equal(res.status, 200, method);
        assert.equal(await res.text(), `${method} {"name":"x"}`);
      }
      const bodies = upstream.seen.map((s) => `${s.method} ${s.body}`);
      assert.deepEqual(bodies, [
        'PUT {"name":"x"}',
        'PUT {"name":"x"}',
        'DELETE {"name":"x"}',
        'DELETE {"name":"x"}',
      ]);
    } finally {
      await gw.stop();
      await upstream.close();
    }
  });

  it('retries a configured status (503) and answers from the next attempt', async () => {
    let n = 0;
    const upstream = await startUpstream((_req, res) => {
      const ok = n++ > 0;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ok ? 'second' : 'busy');
    });
    const gw = await resilientGateway(upstream.url, '    retry: { attempts: 3, statuses: [503] }');
    try {
      const res = await fetch(`${gw.url}/items`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'second');
      assert.equal(upstream.seen.length, 2);
    } finally {
      await gw.stop();
      await upstream.close();
    }
  });

  it('never retries once part of the response was sent to the client', async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part;');
      setTimeout(() => res.socket!.destroy(), 20);
    });
    const gw = await resilientGateway(upstream.url, '    retry: { attempts: 3 }');
    try {
      const res = await fetch(`${gw.url}/items`);
      assert.equal(res.status, 200);
      await assert.rejects(res.text(), 'the cut body must not look complete');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(upstream.seen.length, 1);
    } finally {
      await gw.stop();
      await upstream.close();
    }
  });

  it('stops retrying when the circuit opens', async () => {
    const port = await closedPort();
    const gw = await resilientGateway(
      `http://127.0.0.1:${port}`,
      '    retry: { attempts: 5 }\n    circuitBreaker: { consecutiveFailures: 2, openFor: 30s }',
    );
    try {
      // Attempt 1 and 2 fail to connect and open the circuit; attempt 3 is refused by it.
      await assertRefused(gw, await fetch(`${gw.url}/items`), 'circuit_open', SECONDS_LEFT_30S);
    } finally {
      await gw.stop();
    }
  });
});

describe('per-operation body size limits', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    upstream = await startUpstream();
    gw = await resilientGateway(
      upstream.url,
      '',
      '    maxBodySize: 4kb\n    operations:\n      createItem: { maxBodySize: 1kb }',
    );
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  /** A raw request over its own connection: the status and whether the gateway asked to close. */
  function send(
    method: string,
    path: string,
    body: Buffer,
    chunked: boolean,
  ): Promise<{ status: number; close: boolean }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: gw.port,
          method,
          path,
          agent: false,
          headers: chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': body.length },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            resolve({ status: res.statusCode!, close: res.headers.connection === 'close' }),
          );
        },
      );
      req.on('error', reject);
      if (chunked) {
        for (let i = 0; i < body.length; i += 256) req.write(body.subarray(i, i + 256));
        req.end();
      } else req.end(body);
    });
  }

  it("refuses a declared Content-Length over the operation's limit with 413, before the upstream is called", async () => {
    const before = upstream.seen.length;
    const res = await send('POST', '/items', Buffer.alloc(1025, 'a'), false);
    assert.deepEqual(res, { status: 413, close: true });
    assert.equal(upstream.seen.length, before);
  });

  it("refuses a chunked body counted past the operation's limit with 413", async () => {
    const before = upstream.seen.length;
    const res = await send('POST', '/items', Buffer.alloc(2048, 'a'), true);
    assert.equal(res.status, 413);
    assert.ok(
      upstream.seen.length === before || upstream.seen.at(-1)!.body.length <= 1024,
      'never more than the limit upstream',
    );
  });

  it('admits bodies up to the limit, and applies the API limit to the other operations', async () => {
    assert.equal((await send('POST', '/items', Buffer.alloc(1024, 'a'), false)).status, 200);
    assert.equal((await send('PUT', '/items/1', Buffer.alloc(3000, 'a'), false)).status, 200);
    assert.equal((await send('PUT', '/items/1', Buffer.alloc(4097, 'a'), false)).status, 413);
    assert.equal((await send('PUT', '/items/1', Buffer.alloc(5000, 'a'), true)).status, 413);
  });

  it('refuses a limit above server.limits.maxBodySize at load, with file, line and field', async () => {
    for (const [api, field] of [
      ['    maxBodySize: 2mb', 'apis.test.maxBodySize'],
      [
        '    maxBodySize: 4kb\n    operations:\n      createItem: { maxBodySize: 8kb }',
        'apis.test.operations.createItem.maxBodySize',
      ],
    ] as const) {
      await assert.rejects(resilientGateway(upstream.url, '', api), (err: RampartError) => {
        assert.ok(err instanceof RampartError);
        assert.equal(err.problems[0]?.field, field);
        assert.match(err.problems[0]!.location.file, /rampart\.yaml$/);
        assert.ok((err.problems[0]?.location.line ?? 0) > 0);
        assert.match(err.problems[0]!.message, /only lower/);
        return true;
      });
    }
  });
});
