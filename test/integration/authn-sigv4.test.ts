import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import aws4 from 'aws4';
import { KeyStore } from '../../src/stages/authn/apikey/store.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

/**
 * SigV4-signed requests over real sockets: signed by @smithy/signature-v4 (AWS SDK v3), aws4
 * and `curl --aws-sigv4`, verified by the gateway and proxied with the principal injected and
 * the body intact; every refusal with its reason code (unknown key, wrong secret, body changed,
 * lying x-amz-content-sha256, UNSIGNED-PAYLOAD, clock skew, expired presigned URL, session
 * token, repeated Authorization); and credentials issued into the key store, then revoked.
 */

const REGION = 'us-east-1';
const SERVICE = 'execute-api';
const AKID = 'AKIDEXAMPLE0000001';
const SESSION_AKID = 'AKIDSESSION0000001';
const SECRET = randomBytes(30).toString('base64');
const SESSION_SECRET = randomBytes(30).toString('base64');
const SESSION_TOKEN = `IQoJb3JpZ2luX2Vj/${randomBytes(24).toString('base64')}`;
const PEPPER = randomBytes(32).toString('base64');

const OPENAPI = `openapi: 3.1.0
info: { title: t, version: '1' }
components:
  securitySchemes:
    sigv4: { type: apiKey, in: header, name: Authorization, x-amazon-apigateway-authtype: awsSigv4 }
    lax: { type: apiKey, in: header, name: Authorization, x-amazon-apigateway-authtype: awsSigv4 }
paths:
  /items:
    get:
      operationId: listItems
      security: [{ sigv4: [] }]
      parameters: [{ name: x, in: query, schema: { type: string } }]
      responses: { '200': { description: ok } }
    post:
      operationId: createItem
      security: [{ sigv4: [] }]
      requestBody:
        content: { application/json: { schema: { type: object } } }
      responses: { '200': { description: ok } }
  /files/{name}:
    get:
      operationId: getFile
      parameters: [{ name: name, in: path, required: true, schema: { type: string } }]
      security: [{ sigv4: [] }]
      responses: { '200': { description: ok } }
  /admin:
    get:
      operationId: admin
      security: [{ sigv4: [admin] }]
      responses: { '200': { description: ok } }
  /lax:
    post:
      operationId: laxUpload
      security: [{ lax: [] }]
      responses: { '200': { description: ok } }
`;

function config(upstreamUrl: string): string {
  return `version: 1
server: { listen: [{ host: 127.0.0.1, port: 0 }] }
log: { access: { destination: \${dir}/access.log } }
upstreams: { backend: { url: ${upstreamUrl} } }
authn:
  bruteForce: { enabled: false }
  keyStore: { file: keys.json, pepper: env:RAMPART_TEST_SIGV4_PEPPER }
  schemes:
    sigv4:
      sigv4:
        region: ${REGION}
        service: ${SERVICE}
        credentials:
          ${AKID}:
            secret: env:RAMPART_TEST_SIGV4_SECRET
            principal: svc-orders
            scopes: [items:read, items:write]
          ${SESSION_AKID}:
            secret: env:RAMPART_TEST_SIGV4_SESSION_SECRET
            principal: svc-session
            sessionToken: env:RAMPART_TEST_SIGV4_TOKEN
    lax:
      sigv4:
        region: ${REGION}
        service: ${SERVICE}
        allowUnsignedPayload: true
        credentials:
          ${AKID}:
            secret: env:RAMPART_TEST_SIGV4_SECRET
            principal: svc-orders
apis: { t: { openapi: openapi.yaml, upstream: backend } }
`;
}

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const ORDERS: Credentials = { accessKeyId: AKID, secretAccessKey: SECRET };

interface Signed {
  method: string;
  target: string;
  headers: Record<string, string | string[]>;
}

interface Answer {
  status: number;
  body: string;
  requestId: string;
}

/** Query string as @smithy/node-http-handler writes it (RFC 3986, keys sorted). */
function smithyQuery(query: Record<string, string | string[] | null>): string {
  const escapeUri = (s: string) =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return Object.keys(query)
    .sort()
    .flatMap((key) => {
      const value = query[key];
      return Array.isArray(value)
        ? value.map((v) => `${escapeUri(key)}=${escapeUri(v)}`)
        : [`${escapeUri(key)}=${escapeUri(value ?? '')}`];
    })
    .join('&');
}

let unique = 0;

/** Sign with @smithy/signature-v4 as the AWS SDK v3 does (path already percent-encoded). */
async function smithy(
  port: number,
  r: {
    method?: string;
    path: string;
    query?: Record<string, string | string[]>;
    body?: string;
    headers?: Record<string, string>;
    credentials?: Credentials;
    region?: string;
    signingDate?: Date;
    presignExpires?: number;
  },
): Promise<Signed> {
  const signer = new SignatureV4({
    service: SERVICE,
    region: r.region ?? REGION,
    sha256: Sha256,
    credentials: r.credentials ?? ORDERS,
  });
  const headers: Record<string, string> = { host: `127.0.0.1:${port}`, ...r.headers };
  if (r.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(r.body));
  }
  const request = new HttpRequest({
    method: r.method ?? 'GET',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port,
    path: r.path,
    query: r.query ?? {},
    headers,
    body: r.body,
  });
  const signed =
    r.presignExpires === undefined
      ? await signer.sign(request, { signingDate: r.signingDate })
      : await signer.presign(request, { expiresIn: r.presignExpires, signingDate: r.signingDate });
  const qs = smithyQuery(signed.query ?? {});
  return {
    method: signed.method,
    target: qs ? `${signed.path}?${qs}` : signed.path,
    headers: signed.headers,
  };
}

/** Sign with aws4 (it takes path and query together and rewrites `path` to the wire form). */
function viaAws4(
  port: number,
  r: { method?: string; path: string; body?: string; signQuery?: boolean; credentials?: Credentials },
): Signed {
  const signed = aws4.sign(
    {
      host: '127.0.0.1',
      port,
      method: r.method ?? (r.body === undefined ? 'GET' : 'POST'),
      path: r.path,
      service: SERVICE,
      region: REGION,
      signQuery: r.signQuery,
      ...(r.body !== undefined && { body: r.body, headers: { 'Content-Type': 'application/json' } }),
    },
    r.credentials ?? ORDERS,
  );
  return {
    method: signed.method!,
    target: signed.path!,
    headers: signed.headers as Record<string, string>,
  };
}

/** Send exactly the signed method, target and headers (node:http keeps `host` as given). */
function send(port: number, s: Signed, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: s.method, path: s.target }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          body: text,
          requestId: String(res.headers['x-request-id'] ?? ''),
        }),
      );
    });
    for (const [name, value] of Object.entries(s.headers)) req.setHeader(name, value);
    if (body !== undefined) req.setHeader('content-length', String(Buffer.byteLength(body)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The access log line of a request (written once the exchange ended, so polled briefly). */
async function logLine(gw: TestGateway, requestId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 50; i++) {
    const line = (await gw.readAccessLog()).find((l) => l.reqId === requestId);
    if (line) return line;
    await sleep(20);
  }
  throw new Error(`no access log line for ${requestId}`);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const run = promisify(execFile);
const curlVersion = await run('curl', ['--version']).then(
  (r) => /^curl (\d+)\.(\d+)/.exec(r.stdout),
  () => null,
);
const curlHasSigV4 = curlVersion !== null && (Number(curlVersion[1]) > 7 || Number(curlVersion[2]) >= 75);

describe('SigV4 over real sockets', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  let port: number;
  let keyStore: KeyStore;
  let issued: { accessKeyId: string; secretAccessKey: string };

  before(async () => {
    process.env.RAMPART_TEST_SIGV4_SECRET = SECRET;
    process.env.RAMPART_TEST_SIGV4_SESSION_SECRET = SESSION_SECRET;
    process.env.RAMPART_TEST_SIGV4_TOKEN = SESSION_TOKEN;
    process.env.RAMPART_TEST_SIGV4_PEPPER = PEPPER;
    const created = KeyStore.load('/nonexistent/keys.json', { allowMissing: true }).create(
      { kind: 'sigv4', owner: 'svc-issued', scopes: ['items:read'] },
      PEPPER,
      Date.now(),
    );
    keyStore = created.store;
    assert.equal(created.secret.kind, 'sigv4');
    if (created.secret.kind === 'sigv4') issued = created.secret;
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: config(upstream.url),
      files: { 'openapi.yaml': OPENAPI, 'keys.json': JSON.stringify(keyStore.toJSON()) },
    });
    port = gw.port;
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  /** Asserts a 200 whose upstream request carried the principal and exactly `body`. */
  async function assertServed(s: Signed, body?: string, principal = 'svc-orders') {
    const before = upstream.seen.length;
    const res = await send(port, s, body);
    const line = await logLine(gw, res.requestId);
    assert.equal(res.status, 200, `want 200, got ${res.status} (${String(line.reason)})`);
    assert.equal(upstream.seen.length, before + 1);
    const seen = upstream.seen.at(-1)!;
    assert.equal(seen.headers['x-principal-id'], principal);
    assert.equal(seen.headers['x-principal-kind'], 'sigv4');
    assert.equal(seen.body.toString('utf8'), body ?? '');
    assert.equal(line.principal, principal);
    return seen;
  }

  /** Asserts a 401 with `reason` that never reached the upstream. */
  async function assertRefused(s: Signed, reason: string, body?: string) {
    const before = upstream.seen.length;
    const res = await send(port, s, body);
    const line = await logLine(gw, res.requestId);
    assert.equal(res.status, 401, `want 401 ${reason}, got ${res.status} (${String(line.reason)})`);
    assert.equal(line.reason, reason);
    assert.equal(upstream.seen.length, before, 'the upstream never sees a refused request');
    return res;
  }

  describe('@smithy/signature-v4', () => {
    it('GET with a query of spaces, unicode and reserved characters', async () => {
      const query = {
        x: 'two words',
        uni: 'café ü 東京',
        reserved: "a+b/c?d=e&f=g#h;i,j:k@l$m!n'o(p)q*r",
        tilde: '~-._',
        empty: '',
        n: String(++unique),
      };
      const s = await smithy(port, { path: '/items', query });
      assert.match(s.target, /x=two%20words/);
      const seen = await assertServed(s);
      const received = new URL(seen.url, 'http://x').searchParams;
      for (const [name, value] of Object.entries(query)) assert.equal(received.get(name), value, name);
    });

    it('POST with a JSON body: the upstream gets the exact bytes', async () => {
      const body = JSON.stringify({ name: 'widget ✓', qty: 2, n: ++unique });
      const s = await smithy(port, { method: 'POST', path: '/items', body });
      assert.equal(s.headers['x-amz-content-sha256'], sha256(body));
      await assertServed(s, body);
    });

    it('a path with spaces (sent once-encoded, signed double-encoded)', async () => {
      const s = await smithy(port, { path: '/files/annual%20report%202024.csv' });
      const seen = await assertServed(s);
      assert.equal(seen.url, '/files/annual%20report%202024.csv');
    });

    it('refuses an unknown access key id (signature_credential_unknown)', async () => {
      const s = await smithy(port, {
        path: '/items',
        credentials: { accessKeyId: 'AKIDUNKNOWN0000001', secretAccessKey: SECRET },
      });
      await assertRefused(s, 'signature_credential_unknown');
    });

    it('refuses a credential scope for another region (signature_credential_unknown)', async () => {
      await assertRefused(
        await smithy(port, { path: '/items', region: 'eu-west-1' }),
        'signature_credential_unknown',
      );
    });

    it('refuses a signature made with the wrong secret (signature_invalid)', async () => {
      const s = await smithy(port, {
        path: '/items',
        credentials: { accessKeyId: AKID, secretAccessKey: `${SECRET}x` },
      });
      await assertRefused(s, 'signature_invalid');
    });

    it('refuses a body changed after signing (signature_invalid)', async () => {
      const s = await smithy(port, { method: 'POST', path: '/items', body: '{"qty":2}' });
      await assertRefused(s, 'signature_invalid', '{"qty":9}');
    });

    it('refuses an x-amz-content-sha256 that claims another body (signature_invalid)', async () => {
      // The signature is valid for the claimed hash; the body sent is not the one it names.
      const s = await smithy(port, {
        method: 'POST',
        path: '/items',
        body: '{"qty":2}',
        headers: { 'x-amz-content-sha256': sha256('{"qty":1}') },
      });
      assert.equal(s.headers['x-amz-content-sha256'], sha256('{"qty":1}'));
      await assertRefused(s, 'signature_invalid', '{"qty":2}');
    });

    it('refuses UNSIGNED-PAYLOAD by default (signature_invalid)', async () => {
      const body = '{"qty":3}';
      const s = await smithy(port, {
        method: 'POST',
        path: '/items',
        body,
        headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      });
      await assertRefused(s, 'signature_invalid', body);
    });

    it('accepts UNSIGNED-PAYLOAD where allowUnsignedPayload is on', async () => {
      const body = '{"unsigned":true}';
      const s = await smithy(port, {
        method: 'POST',
        path: '/lax',
        body,
        headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      });
      await assertServed(s, body);
    });

    it('refuses a request signed 10 minutes ago (signature_expired, clock skew 5m)', async () => {
      const s = await smithy(port, { path: '/items', signingDate: new Date(Date.now() - 10 * 60_000) });
      await assertRefused(s, 'signature_expired');
    });

    it('refuses a request signed 10 minutes in the future (signature_expired)', async () => {
      const s = await smithy(port, { path: '/items', signingDate: new Date(Date.now() + 10 * 60_000) });
      await assertRefused(s, 'signature_expired');
    });

    it('serves a presigned URL within its expiry', async () => {
      const s = await smithy(port, {
        path: '/files/a%20b.txt',
        query: { n: String(++unique) },
        presignExpires: 300,
      });
      assert.match(s.target, /X-Amz-Expires=300/);
      await assertServed(s);
    });

    it('refuses a presigned URL past its expiry (signature_expired)', async () => {
      const s = await smithy(port, {
        path: '/files/old.txt',
        signingDate: new Date(Date.now() - 120_000),
        presignExpires: 60,
      });
      await assertRefused(s, 'signature_expired');
    });

    it('refuses a presigned URL whose query was changed (signature_invalid)', async () => {
      const s = await smithy(port, { path: '/items', query: { x: 'a' }, presignExpires: 60 });
      await assertRefused({ ...s, target: s.target.replace('x=a', 'x=b') }, 'signature_invalid');
    });

    it('checks the scopes the operation requires (403 insufficient_scope)', async () => {
      const res = await send(port, await smithy(port, { path: '/admin' }));
      assert.equal(res.status, 403);
      assert.equal((await logLine(gw, res.requestId)).reason, 'insufficient_scope');
    });
  });

  describe('aws4', () => {
    it('GET with a query, signed in the Authorization header', async () => {
      const s = viaAws4(port, { path: `/items?x=two%20words&uni=%C3%A9&plus=a%2Bb&n=${++unique}` });
      const seen = await assertServed(s);
      assert.equal(new URL(seen.url, 'http://x').searchParams.get('plus'), 'a+b');
    });

    it('POST with a JSON body', async () => {
      const body = JSON.stringify({ via: 'aws4', n: ++unique });
      await assertServed(viaAws4(port, { path: '/items', body }), body);
    });

    it('a path with spaces', async () => {
      const seen = await assertServed(viaAws4(port, { path: `/files/my file ${++unique}.txt` }));
      assert.match(seen.url, /^\/files\/my%20file%20\d+\.txt$/);
    });

    it('presigned URL with X-Amz-Expires', async () => {
      const s = viaAws4(port, {
        path: `/files/report.csv?X-Amz-Expires=300&n=${++unique}`,
        signQuery: true,
      });
      assert.match(s.target, /X-Amz-Signature=/);
      assert.equal(s.headers.Authorization, undefined);
      await assertServed(s);
    });

    it('refuses a body changed after signing (no x-amz-content-sha256: the signature covers it)', async () => {
      const s = viaAws4(port, { path: '/items', body: '{"qty":2}' });
      assert.equal(s.headers['X-Amz-Content-Sha256'], undefined);
      await assertRefused(s, 'signature_invalid', '{"qty":9}');
    });
  });

  describe('curl --aws-sigv4', {
    skip: curlHasSigV4 ? false : 'curl 7.75+ with --aws-sigv4 not found',
  }, () => {
    async function curl(path: string, ...args: string[]): Promise<{ status: number; requestId: string }> {
      const { stdout } = await run('curl', [
        '-sS',
        '-o',
        '/dev/null',
        '-D',
        '-',
        '--aws-sigv4',
        `aws:amz:${REGION}:${SERVICE}`,
        '--user',
        `${AKID}:${SECRET}`,
        ...args,
        `http://127.0.0.1:${port}${path}`,
      ]);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(stdout)?.[1] ?? 0);
      const requestId = /^x-request-id: *(\S+)/im.exec(stdout)?.[1] ?? '';
      return { status, requestId };
    }

    it('GET with a (canonical) query', async () => {
      const before = upstream.seen.length;
      const res = await curl(`/items?n=${++unique}&x=abc`);
      assert.equal(res.status, 200, String((await logLine(gw, res.requestId)).reason));
      assert.equal(upstream.seen.length, before + 1);
      assert.equal(upstream.seen.at(-1)!.headers['x-principal-id'], 'svc-orders');
    });

    it('POST with -d and a content type', async () => {
      const body = JSON.stringify({ via: 'curl', n: ++unique });
      const res = await curl('/items', '-H', 'Content-Type: application/json', '-d', body);
      assert.equal(res.status, 200, String((await logLine(gw, res.requestId)).reason));
      const seen = upstream.seen.at(-1)!;
      assert.equal(seen.method, 'POST');
      assert.equal(seen.headers['x-principal-id'], 'svc-orders');
      assert.equal(seen.body.toString('utf8'), body);
    });
  });

  describe('session tokens', () => {
    const session: Credentials = {
      accessKeyId: SESSION_AKID,
      secretAccessKey: SESSION_SECRET,
      sessionToken: SESSION_TOKEN,
    };

    it('accepts the matching, signed X-Amz-Security-Token', async () => {
      const s = await smithy(port, { path: '/items', query: { n: String(++unique) }, credentials: session });
      assert.equal(s.headers['x-amz-security-token'], SESSION_TOKEN);
      await assertServed(s, undefined, 'svc-session');
    });

    it('accepts it in a presigned URL', async () => {
      const s = await smithy(port, {
        path: '/files/t.txt',
        query: { n: String(++unique) },
        credentials: session,
        presignExpires: 60,
      });
      assert.match(s.target, /X-Amz-Security-Token=/);
      await assertServed(s, undefined, 'svc-session');
    });

    it('refuses a request without the token (signature_invalid)', async () => {
      const s = await smithy(port, {
        path: '/items',
        credentials: { accessKeyId: SESSION_AKID, secretAccessKey: SESSION_SECRET },
      });
      await assertRefused(s, 'signature_invalid');
    });

    it('refuses another token, even one correctly signed (signature_invalid)', async () => {
      const s = await smithy(port, {
        path: '/items',
        credentials: { ...session, sessionToken: `${SESSION_TOKEN}x` },
      });
      await assertRefused(s, 'signature_invalid');
    });

    it('refuses a token on a credential that has none (signature_invalid)', async () => {
      const s = await smithy(port, {
        path: '/items',
        credentials: { ...ORDERS, sessionToken: SESSION_TOKEN },
      });
      await assertRefused(s, 'signature_invalid');
    });
  });

  it('refuses two Authorization headers (signature_malformed)', async () => {
    const s = await smithy(port, { path: '/items', query: { n: String(++unique) } });
    const auth = s.headers.authorization as string;
    await assertRefused(
      { ...s, headers: { ...s.headers, authorization: [auth, auth] } },
      'signature_malformed',
    );
  });

  it('answers an unsigned request 401 unauthenticated with a SigV4 challenge', async () => {
    const res = await fetch(`${gw.url}/items`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'AWS4-HMAC-SHA256');
    assert.equal((await logLine(gw, res.headers.get('x-request-id')!)).reason, 'unauthenticated');
  });

  describe('credentials issued into the key store', () => {
    it('verifies a sigv4 key store record (principal = owner)', async () => {
      assert.match(issued.accessKeyId, /^RK[A-Z2-7]{18}$/);
      const s = await smithy(port, { path: '/items', query: { n: String(++unique) }, credentials: issued });
      await assertServed(s, undefined, 'svc-issued');
    });

    it('refuses it once revoked (signature_credential_unknown), without a reload', async () => {
      keyStore = keyStore.revoke(issued.accessKeyId, Date.now());
      keyStore.save(join(gw.dir, 'keys.json'));
      const started = Date.now();
      let res: Answer | undefined;
      while (Date.now() - started < 3000) {
        const s = await smithy(port, { path: '/items', query: { n: String(++unique) }, credentials: issued });
        res = await send(port, s);
        if (res.status === 401) break;
        await sleep(100);
      }
      assert.equal(res?.status, 401, 'revocation not picked up within 3 s');
      assert.ok(Date.now() - started < 2500, `took ${Date.now() - started} ms`);
      assert.equal((await logLine(gw, res.requestId)).reason, 'signature_credential_unknown');
    });
  });
});
