import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

/**
 * Attack: guessing credentials (online brute force, credential stuffing against a login
 * operation). Failures are counted per client IP and per credential; past a threshold the 401
 * is delayed, then the client is locked out with 429 and `Retry-After`; a success after the
 * lockout expired resets the count.
 */
const OPENAPI = `openapi: 3.1.0
info: { title: t, version: '1' }
components:
  securitySchemes:
    authz: { type: apiKey, in: header, name: X-Token }
paths:
  /data:
    get:
      operationId: getData
      security: [{ authz: [] }]
      responses: { '200': { description: ok } }
  /login:
    post:
      operationId: login
      security: [{}]
      responses: { '200': { description: ok }, '401': { description: no } }
`;

describe('attack: credential brute force', () => {
  let authorizer: Server;
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    // The authorizer accepts exactly one token.
    authorizer = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        const { identity } = JSON.parse(text) as { identity: Record<string, string> };
        const allow = identity['header:X-Token'] === 'right';
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(allow ? { allow, principal: { id: 'u' } } : { allow }));
      });
    });
    await new Promise<void>((r) => authorizer.listen(0, '127.0.0.1', r));
    // The login upstream accepts one password.
    upstream = await startUpstream((req, res, body) => {
      const ok = req.url !== '/login' || JSON.parse(body.toString() || '{}').password === 'hunter2';
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end('{}');
    });
    gw = await startTestGateway({
      config: `version: 1
server: { listen: [{ host: 127.0.0.1, port: 0 }], trustedProxies: [127.0.0.1] }
log: { access: { destination: \${dir}/access.log } }
upstreams: { backend: { url: ${upstream.url} } }
authn:
  bruteForce:
    window: 1m
    delayAfter: 2
    delay: 100ms
    maxDelay: 200ms
    lockoutAfter: 4
    lockout: 2s
    loginOperations: [{ api: t, operationId: login, usernameField: username }]
  schemes:
    authz:
      external:
        url: http://127.0.0.1:${(authorizer.address() as AddressInfo).port}/
        identitySources: [header:X-Token]
        cacheTtl: 0s
apis: { t: { openapi: openapi.yaml, upstream: backend } }
`,
      files: { 'openapi.yaml': OPENAPI },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
    authorizer.close();
  });

  const guess = async (token: string) => {
    const started = performance.now();
    const res = await fetch(`${gw.url}/data`, { headers: { 'x-token': token } });
    await res.arrayBuffer();
    return {
      status: res.status,
      ms: performance.now() - started,
      retryAfter: res.headers.get('retry-after'),
    };
  };

  it('delays failures past the threshold, then locks the client out with 429 and Retry-After', async () => {
    const first = await guess('wrong-1');
    const second = await guess('wrong-2');
    assert.equal(first.status, 401);
    assert.equal(second.status, 401);
    const third = await guess('wrong-3');
    assert.equal(third.status, 401);
    assert.ok(third.ms >= 90, `the third failure is delayed (${third.ms.toFixed(0)} ms)`);
    const fourth = await guess('wrong-4');
    assert.equal(fourth.status, 401, 'the failure that locks out is still answered as a failure');

    const locked = await guess('right');
    assert.equal(locked.status, 429, 'even the right credential is refused during the lockout');
    assert.ok(
      Number(locked.retryAfter) >= 1 && Number(locked.retryAfter) <= 2,
      `Retry-After ${locked.retryAfter}`,
    );

    const log = await gw.readAccessLog();
    assert.equal(log.at(-1)!.reason, 'auth_locked_out');
  });

  it('lets the client in after the lockout expired, and the success resets the count', async () => {
    await sleep(2100);
    const after = await guess('right');
    assert.equal(after.status, 200, JSON.stringify((await gw.readAccessLog()).at(-1)));
    // The count restarted: two failures are answered without delay or lockout.
    const a = await guess('wrong-5');
    const b = await guess('wrong-6');
    assert.equal(a.status, 401);
    assert.equal(b.status, 401);
    assert.ok(b.ms < 90, `no delay right after a reset (${b.ms.toFixed(0)} ms)`);
    assert.equal((await guess('right')).status, 200);
  });

  it('counts failed logins per username, whatever the client IP (credential stuffing)', async () => {
    await sleep(50);
    let n = 0;
    // Each attempt from another address (through the trusted proxy): only the username links them.
    const login = (password: string, username = 'alice') =>
      fetch(`${gw.url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': `198.51.100.${++n}` },
        body: JSON.stringify({ username, password }),
      }).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      });
    assert.equal(await login('hunter2'), 200);
    for (let i = 0; i < 4; i++) assert.equal(await login(`guess-${i}`), 401);
    const seen = upstream.seen.length;
    assert.equal(await login('hunter2'), 429, 'alice is locked out, from any address');
    assert.equal(upstream.seen.length, seen, 'the locked-out attempt never reached the upstream');
    assert.equal(await login('hunter2', 'bob'), 200, 'bob is not');
  });
});
