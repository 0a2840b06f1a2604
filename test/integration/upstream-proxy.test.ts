import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import {
  type AddressInfo,
  connect,
  createServer as createTcpServer,
  type Server,
  type Socket,
} from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SIMPLE_OPENAPI, simpleConfig, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { waitFor } from './support/wait-for.ts';

const PROBLEM_KEYS = ['requestId', 'status', 'title', 'type'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A config with one upstream (`backend`) and the test API, plus upstream fields (timeouts…). */
function configFor(upstreamUrl: string, upstreamExtra = '', apiExtra = ''): string {
  return `version: 1
server:
  listen: [{ host: 127.0.0.1, port: 0 }]
log:
  access:
    destination: \${dir}/access.log
upstreams:
  backend:
    url: ${upstreamUrl}
${upstreamExtra}
apis:
  test:
    openapi: openapi.yaml
    upstream: backend
${apiExtra}
`;
}

async function gatewayFor(upstreamUrl: string, upstreamExtra = '', apiExtra = ''): Promise<TestGateway> {
  return startTestGateway({
    config: configFor(upstreamUrl, upstreamExtra, apiExtra),
    files: { 'openapi.yaml': SIMPLE_OPENAPI },
  });
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** A TCP server that accepts connections and never answers (a hung upstream). */
async function silentServer(): Promise<{ url: string; sockets: Set<Socket>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createTcpServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sockets,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

async function lastLogLine(gw: TestGateway, reqId: string): Promise<Record<string, unknown>> {
  return waitFor(`the access log line of ${reqId}`, async () =>
    (await gw.readAccessLog()).find((l) => l.reqId === reqId),
  );
}

async function assertProblem(res: Response, status: number, title: string): Promise<Record<string, unknown>> {
  assert.equal(res.status, status);
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  const body = (await res.json()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), PROBLEM_KEYS);
  assert.equal(body.title, title);
  assert.equal(body.status, status);
  assert.equal(body.requestId, res.headers.get('x-request-id'));
  return body;
}

describe('upstream proxy: connections', () => {
  it('reuses keep-alive connections to the upstream across many sequential requests', async () => {
    const sockets = new Set<unknown>();
    const upstream = await startUpstream((req, res) => {
      sockets.add(req.socket);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
    const gw = await gatewayFor(upstream.url);
    try {
      for (let i = 0; i < 40; i++) {
        const res = await fetch(`${gw.url}/items/${i}`);
        assert.equal(res.status, 200);
        assert.equal(await res.text(), 'ok');
      }
      assert.equal(upstream.seen.length, 40);
      // Without pooling every request would open its own connection (40).
      assert.ok(sockets.size <= 2, `40 requests used ${sockets.size} upstream connections`);
    } finally {
      await gw.stop();
      await upstream.close();
    }
  });

  it('answers 502 upstream_unavailable with a generic problem when the connection is refused', async () => {
    const port = await closedPort();
    const gw = await gatewayFor(`http://127.0.0.1:${port}`);
    try {
      const res = await fetch(`${gw.url}/items`);
      const text = await res.clone().text();
      const body = await assertProblem(res, 502, 'Bad Gateway');
      assert.match(String(body.requestId), UUID);
      // Nothing about the internals leaks: no error code, address or port.
      assert.doesNotMatch(text, /ECONNREFUSED|127\.0\.0\.1|connect/i);
      assert.doesNotMatch(text, new RegExp(String(port)));
      const line = await lastLogLine(gw, String(body.requestId));
      assert.equal(line.status, 502);
      assert.equal(line.reason, 'upstream_unavailable');
    } finally {
      await gw.stop();
    }
  });

  it('answers 504 when the upstream accepts but never sends headers (timeouts.headers)', async () => {
    const hung = await silentServer();
    const gw = await gatewayFor(hung.url, '    timeouts: { headers: 500ms }');
    try {
      const started = Date.now();
      const res = await fetch(`${gw.url}/items`);
      const body = await assertProblem(res, 504, 'Gateway Timeout');
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 400, `timed out after ${elapsed} ms, before the 500ms headers timeout`);
      assert.ok(elapsed < 8000, `took ${elapsed} ms: the configured 500ms headers timeout was not applied`);
      const line = await lastLogLine(gw, String(body.requestId));
      assert.equal(line.reason, 'upstream_timeout');
    } finally {
      await gw.stop();
      await hung.close();
    }
  });

  it('cuts the client connection when the upstream stalls mid-body (timeouts.body)', async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part;');
      // …and never another byte.
    });
    const gw = await gatewayFor(upstream.url, '    timeouts: { body: 500ms }');
    try {
      const started = Date.now();
      const res = await fetch(`${gw.url}/items`);
      assert.equal(res.status, 200);
      await assert.rejects(res.text(), 'the truncated body must not look complete');
      const elapsed = Date.now() - started;
      assert.ok(elapsed < 8000, `took ${elapsed} ms: the configured 500ms body timeout was not applied`);
      const reqId = res.headers.get('x-request-id')!;
      // The operator sees why the response was cut, not a clean 200.
      const line = await lastLogLine(gw, reqId);
      assert.equal(line.reason, 'upstream_timeout');
    } finally {
      await gw.stop();
      await upstream.close();
    }
  });

  describe('connect timeout', () => {
    // An upstream whose accept queue is full: the kernel drops further SYNs, so connect() hangs
    // exactly like a non-routable address would, but without leaving loopback.
    let child: ChildProcess;
    let port = 0;
    const fillers: Socket[] = [];

    before(async () => {
      const script = `const s = require('node:net').createServer();
s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  process.stdout.write(s.address().port + '\\n');
  // Block the event loop so nothing is ever accepted.
  setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000), 50);
});`;
      child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
      port = await new Promise<number>((resolve) =>
        child.stdout!.once('data', (d) => resolve(Number(String(d)))),
      );
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 4; i++) {
        const s = connect(port, '127.0.0.1');
        s.on('error', () => {});
        fillers.push(s);
      }
      // Wait until the accept queue is really full: a probe connection no longer completes.
      await waitFor('the accept queue to fill', async () => {
        const probe = connect(port, '127.0.0.1');
        probe.on('error', () => {});
        const connected = await new Promise<boolean>((resolve) => {
          probe.once('connect', () => resolve(true));
          setTimeout(() => resolve(false), 300);
        });
        probe.destroy();
        return !connected;
      });
    });
    after(() => {
      for (const s of fillers) s.destroy();
      child.kill('SIGKILL');
    });

    it('answers 504 when the upstream cannot be connected to in time (timeouts.connect)', async () => {
      const gw = await gatewayFor(
        `http://127.0.0.1:${port}`,
        '    timeouts: { connect: 300ms, headers: 20s }',
      );
      try {
        const started = Date.now();
        const res = await fetch(`${gw.url}/items`);
        const body = await assertProblem(res, 504, 'Gateway Timeout');
        const elapsed = Date.now() - started;
        assert.ok(elapsed < 8000, `took ${elapsed} ms: the 300ms connect timeout was not applied`);
        const line = await lastLogLine(gw, String(body.requestId));
        assert.equal(line.reason, 'upstream_timeout');
      } finally {
        await gw.stop();
      }
    });
  });

  it('abandons the upstream call when the client hangs up before the response (no leaked connection)', async () => {
    let upstreamClosed = false;
    const upstream = await startUpstream((_req, res) => {
      // Never answers; the default 30s headers timeout would hold the connection that long.
      res.on('close', () => {
        upstreamClosed = true;
      });
    });
    const gw = await gatewayFor(upstream.url);
    try {
      const req = httpRequest({ host: '127.0.0.1', port: gw.port, path: '/items/9', agent: false });
      req.on('error', () => {});
      req.end();
      await waitFor('the request to reach the upstream', () => upstream.seen.length === 1);
      req.destroy();
      await waitFor('the gateway to close its upstream request', () => upstreamClosed, { timeoutMs: 8000 });
      const line = await waitFor('the log line', async () =>
        (await gw.readAccessLog()).find((l) => l.route === '/items/{id}'),
      );
      assert.equal(line.status, 499);
      assert.equal(line.reason, 'client_aborted');
    } finally {
      await gw.stop();
      await upstream.close();
    }
  });

  it('answers 502 when the upstream resets the connection before sending headers', async () => {
    const upstream = await startUpstream((req) => req.socket.destroy());
    const gw = await gatewayFor(upstream.url);
    try {
      const res = await fetch(`${gw.url}/items`);
      const body = await assertProblem(res, 502, 'Bad Gateway');
      const line = await lastLogLine(gw, String(body.requestId));
      assert.equal(line.reason, 'upstream_unavailable');
    } finally {
      await gw.stop();
      await upstream.close();
    }
  });

  it('cuts the client connection when the upstream resets after the response started', async () => {
    const upstream = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100000' });
      res.write('x'.repeat(1000), () => setTimeout(() => req.socket.destroy(), 50));
    });
    const gw = await gatewayFor(upstream.url);
    try {
      const res = await fetch(`${gw.url}/items`);
      assert.equal(res.status, 200);
      // The client must see a failure, not a short body that looks complete.
      await assert.rejects(res.arrayBuffer());
      const line = await lastLogLine(gw, res.headers.get('x-request-id')!);
      assert.equal(line.reason, 'upstream_unavailable');
    } finally {
      await gw.stop();
      await upstream.close();
    }
  });
});

describe('upstream proxy: streaming', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  let releaseStream: () => void = () => {};
  let streamTimedOut = false;

  before(async () => {
    upstream = await startUpstream((req, res, body) => {
      if (req.url === '/items/stream') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first chunk;');
        // End only once the test has seen the first chunk (or give up, and say so).
        const fallback = setTimeout(() => {
          streamTimedOut = true;
          res.end('last chunk');
        }, 8000);
        releaseStream = () => {
          clearTimeout(fallback);
          res.end('last chunk');
        };
        return;
      }
      const payload = JSON.stringify({
        sha256: createHash('sha256').update(body).digest('hex'),
        length: body.length,
        transferEncoding: req.headers['transfer-encoding'] ?? null,
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(payload);
    });
    gw = await gatewayFor(upstream.url);
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  it('streams a chunked 512 KiB upload to the upstream intact', async () => {
    const data = randomBytes(512 * 1024);
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        `${gw.url}/items`,
        { method: 'POST', headers: { 'content-type': 'application/octet-stream' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      // No Content-Length: node sends Transfer-Encoding: chunked, 16 KiB at a time.
      for (let i = 0; i < data.length; i += 16 * 1024) req.write(data.subarray(i, i + 16 * 1024));
      req.end();
    });
    assert.equal(status, 200);
    const seen = JSON.parse(body) as { sha256: string; length: number; transferEncoding: string | null };
    assert.equal(seen.length, data.length);
    assert.equal(seen.sha256, createHash('sha256').update(data).digest('hex'));
    assert.equal(seen.transferEncoding, 'chunked');
  });

  it('delivers the first response chunk before the upstream has finished', async () => {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      httpRequest(`${gw.url}/items/stream`, resolve).on('error', reject).end();
    });
    assert.equal(res.statusCode, 200);
    res.setEncoding('utf8');
    let text = '';
    let released = false;
    await new Promise<void>((resolve, reject) => {
      res.on('data', (chunk: string) => {
        text += chunk;
        if (!released && text.includes('first chunk;')) {
          released = true;
          // Only now may the upstream end: a buffering gateway would never get here.
          assert.ok(!text.includes('last chunk'));
          releaseStream();
        }
      });
      res.on('end', resolve);
      res.on('error', reject);
    });
    assert.equal(streamTimedOut, false, 'the first chunk only arrived after the upstream ended');
    assert.equal(text, 'first chunk;last chunk');
  });
});

describe('upstream proxy: headers, ids and errors', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    upstream = await startUpstream((req, res) => {
      if (req.url === '/items/boom') {
        const trace =
          'Error: connect ECONNREFUSED 10.1.2.3:5432 (db password=hunter2)\n    at Pool.connect (/srv/app/db.js:42:13)';
        res.writeHead(500, { 'content-type': 'text/plain', server: 'Express', 'x-powered-by': 'PHP/5.4' });
        res.end(trace);
        return;
      }
      const payload = JSON.stringify({ url: req.url, headers: req.headers });
      res.writeHead(200, {
        'content-type': 'application/json',
        server: 'Apache/2.4.1 (Unix)',
        'x-powered-by': 'Express',
        'x-upstream': 'yes',
      });
      res.end(payload);
    });
    gw = await gatewayFor(upstream.url);
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  it('generates a request id, sends it upstream and returns it to the client', async () => {
    const res = await fetch(`${gw.url}/items/1`);
    assert.equal(res.status, 200);
    const id = res.headers.get('x-request-id');
    assert.match(String(id), UUID);
    const seen = (await res.json()) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-request-id'], id);
    const line = await lastLogLine(gw, id!);
    assert.equal(line.status, 200);
  });

  it('does not take a request id from an untrusted client', async () => {
    const res = await fetch(`${gw.url}/items/1`, { headers: { 'x-request-id': 'forged-id-123' } });
    const id = res.headers.get('x-request-id');
    assert.notEqual(id, 'forged-id-123');
    const seen = (await res.json()) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-request-id'], id);
  });

  it('uses the same request id in the header and body of a gateway error', async () => {
    const res = await fetch(`${gw.url}/nowhere`);
    const body = await assertProblem(res, 404, 'Not Found');
    assert.match(String(body.requestId), UUID);
  });

  it('passes a valid traceparent and tracestate through, and drops an invalid one', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const ok = await fetch(`${gw.url}/items/1`, { headers: { traceparent, tracestate: 'vendor=abc' } });
    const seen = (await ok.json()) as { headers: Record<string, string> };
    assert.equal(seen.headers.traceparent, traceparent);
    assert.equal(seen.headers.tracestate, 'vendor=abc');

    const bad = await fetch(`${gw.url}/items/1`, {
      headers: { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' },
    });
    const seenBad = (await bad.json()) as { headers: Record<string, string> };
    assert.equal(seenBad.headers.traceparent, undefined);
  });

  it('removes Server and X-Powered-By from upstream responses and keeps other headers', async () => {
    const res = await fetch(`${gw.url}/items/1`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('server'), null);
    assert.equal(res.headers.get('x-powered-by'), null);
    assert.equal(res.headers.get('x-upstream'), 'yes');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    await res.arrayBuffer();
  });

  it('masks an upstream 500 body (stack trace) by default but keeps the status', async () => {
    const res = await fetch(`${gw.url}/items/boom`);
    const text = await res.clone().text();
    const body = await assertProblem(res, 500, 'Internal Server Error');
    assert.doesNotMatch(text, /ECONNREFUSED|hunter2|db\.js|at Pool/);
    assert.equal(res.headers.get('server'), null);
    assert.equal(res.headers.get('x-powered-by'), null);
    const line = await lastLogLine(gw, String(body.requestId));
    assert.equal(line.status, 500);
    assert.equal(line.reason, 'upstream_masked_error');
  });

  it('passes the query string through unchanged', async () => {
    const res = await fetch(`${gw.url}/items?page=2&q=a%20b&tag=x&tag=y&empty=`);
    const seen = (await res.json()) as { url: string };
    assert.equal(seen.url, '/items?page=2&q=a%20b&tag=x&tag=y&empty=');
  });
});

describe('upstream proxy: error relay when masking is off', () => {
  it('relays an upstream 500 body when apis.<name>.response.maskServerErrors is false', async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain', server: 'Express' });
      res.end('detailed error from the app');
    });
    const gw = await gatewayFor(upstream.url, '', '    response: { maskServerErrors: false }');
    try {
      const res = await fetch(`${gw.url}/items`);
      assert.equal(res.status, 500);
      assert.equal(res.headers.get('content-type'), 'text/plain');
      assert.equal(await res.text(), 'detailed error from the app');
      // Fingerprint headers are still removed.
      assert.equal(res.headers.get('server'), null);
    } finally {
      await gw.stop();
      await upstream.close();
    }
  });
});

describe('upstream proxy: paths', () => {
  let upstream: TestUpstream;
  before(async () => {
    upstream = await startUpstream();
  });
  after(() => upstream.close());

  /** The path the upstream saw; sent with node:http, which (unlike fetch) keeps dot segments as written. */
  async function upstreamPath(gw: TestGateway, path: string): Promise<string> {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port: gw.port, path }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
        .on('error', reject)
        .end();
    });
    assert.equal(status, 200, `${path} → ${status}`);
    return (JSON.parse(body) as { url: string }).url;
  }

  it('prefixes the upstream URL path, with and without stripBasePath', async () => {
    const gw = await startTestGateway({
      config: `version: 1
server:
  listen: [{ host: 127.0.0.1, port: 0 }]
log:
  access:
    enabled: false
upstreams:
  backend:
    url: ${upstream.url}/backend/
apis:
  stripped:
    openapi: openapi.yaml
    basePath: /v1
    stripBasePath: true
    upstream: backend
  kept:
    openapi: openapi.yaml
    basePath: /v2
    upstream: backend
`,
      files: { 'openapi.yaml': SIMPLE_OPENAPI },
    });
    try {
      assert.equal(await upstreamPath(gw, '/v1/items/42?x=1'), '/backend/items/42?x=1');
      assert.equal(await upstreamPath(gw, '/v1/items'), '/backend/items');
      assert.equal(await upstreamPath(gw, '/v2/items/42'), '/backend/v2/items/42');
      // The normalized path is what goes upstream, never the raw one.
      assert.equal(await upstreamPath(gw, '/v1/admin/../items/7'), '/backend/items/7');
    } finally {
      await gw.stop();
    }
  });

  it('forwards the path as routed when the upstream URL has no path', async () => {
    const gw = await startTestGateway({
      config: simpleConfig({ upstreamUrl: upstream.url }),
      files: { 'openapi.yaml': SIMPLE_OPENAPI },
    });
    try {
      assert.equal(await upstreamPath(gw, '/items/abc'), '/items/abc');
    } finally {
      await gw.stop();
    }
  });
});
