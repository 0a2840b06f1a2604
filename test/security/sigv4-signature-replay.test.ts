import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

/**
 * Attack: replaying a captured SigV4-signed request. A signature stays valid for the whole
 * clock-skew window (a presigned URL until it expires), so whoever sees one request on the
 * wire or in a log could send it again. With the replay guard (the default) each signature is
 * accepted once; a replay is 401 `signature_replayed` and never reaches the upstream. Changing
 * the request to make it look new breaks the signature instead.
 */

const REGION = 'us-east-1';
const SERVICE = 'execute-api';
const AKID = 'AKIDEXAMPLE0000001';
const SECRET = randomBytes(30).toString('base64');

const OPENAPI = `openapi: 3.1.0
info: { title: t, version: '1' }
components:
  securitySchemes:
    sigv4: { type: apiKey, in: header, name: Authorization, x-amazon-apigateway-authtype: awsSigv4 }
paths:
  /items:
    get:
      operationId: listItems
      security: [{ sigv4: [] }]
      responses: { '200': { description: ok } }
    post:
      operationId: createItem
      security: [{ sigv4: [] }]
      responses: { '200': { description: ok } }
  /files/{name}:
    get:
      operationId: getFile
      parameters: [{ name: name, in: path, required: true, schema: { type: string } }]
      security: [{ sigv4: [] }]
      responses: { '200': { description: ok } }
`;

function config(upstreamUrl: string, replayGuard: boolean): string {
  return `version: 1
server: { listen: [{ host: 127.0.0.1, port: 0 }], trustedProxies: [127.0.0.1] }
log: { access: { destination: \${dir}/access.log } }
upstreams: { backend: { url: ${upstreamUrl} } }
authn:
  bruteForce: { enabled: false }
  schemes:
    sigv4:
      sigv4:
        region: ${REGION}
        service: ${SERVICE}
        replayGuard: ${replayGuard}
        credentials:
          ${AKID}:
            secret: env:RAMPART_TEST_REPLAY_SECRET
            principal: svc-orders
apis: { t: { openapi: openapi.yaml, upstream: backend } }
`;
}

interface Signed {
  method: string;
  target: string;
  headers: Record<string, string>;
}

interface Answer {
  status: number;
  requestId: string;
}

function query(q: Record<string, string>): string {
  return Object.keys(q)
    .sort()
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(q[k]!)}`)
    .join('&');
}

let unique = 0;

async function sign(
  port: number,
  r: { method?: string; path: string; body?: string; presignExpires?: number },
): Promise<Signed> {
  const signer = new SignatureV4({
    service: SERVICE,
    region: REGION,
    sha256: Sha256,
    credentials: { accessKeyId: AKID, secretAccessKey: SECRET },
  });
  const headers: Record<string, string> = { host: `127.0.0.1:${port}` };
  if (r.body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(r.body));
  }
  const request = new HttpRequest({
    method: r.method ?? 'GET',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port,
    path: r.path,
    // A distinct request each time: otherwise two signed within a second would be the same.
    query: { n: String(++unique) },
    headers,
    body: r.body,
  });
  const signed =
    r.presignExpires === undefined
      ? await signer.sign(request)
      : await signer.presign(request, { expiresIn: r.presignExpires });
  return {
    method: signed.method,
    target: `${signed.path}?${query(signed.query as Record<string, string>)}`,
    headers: signed.headers,
  };
}

function send(port: number, s: Signed, body?: string, extra: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: s.method, path: s.target, headers: { ...s.headers, ...extra } },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode!, requestId: String(res.headers['x-request-id'] ?? '') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function logLine(gw: TestGateway, requestId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 50; i++) {
    const line = (await gw.readAccessLog()).find((l) => l.reqId === requestId);
    if (line) return line;
    await sleep(20);
  }
  throw new Error(`no access log line for ${requestId}`);
}

describe('attack: SigV4 signature replay', () => {
  let upstream: TestUpstream;
  let guarded: TestGateway;
  let open: TestGateway;

  before(async () => {
    process.env.RAMPART_TEST_REPLAY_SECRET = SECRET;
    upstream = await startUpstream();
    guarded = await startTestGateway({
      config: config(upstream.url, true),
      files: { 'openapi.yaml': OPENAPI },
    });
    open = await startTestGateway({
      config: config(upstream.url, false),
      files: { 'openapi.yaml': OPENAPI },
    });
  });
  after(async () => {
    await guarded.stop();
    await open.stop();
    await upstream.close();
  });

  async function assertReplayed(gw: TestGateway, res: Answer) {
    assert.equal(res.status, 401);
    assert.equal((await logLine(gw, res.requestId)).reason, 'signature_replayed');
  }

  it('refuses the same signed GET sent twice; the upstream sees it once', async () => {
    const s = await sign(guarded.port, { path: '/items' });
    const before = upstream.seen.length;
    const first = await send(guarded.port, s);
    assert.equal(first.status, 200);
    await assertReplayed(guarded, await send(guarded.port, s));
    await assertReplayed(guarded, await send(guarded.port, s));
    assert.equal(upstream.seen.length, before + 1);
  });

  it('refuses a replayed POST with the same body; the upstream sees it once', async () => {
    const body = JSON.stringify({ transfer: 100, to: 'mallory' });
    const s = await sign(guarded.port, { method: 'POST', path: '/items', body });
    const before = upstream.seen.length;
    assert.equal((await send(guarded.port, s, body)).status, 200);
    await assertReplayed(guarded, await send(guarded.port, s, body));
    assert.equal(upstream.seen.length, before + 1);
    assert.equal(upstream.seen.at(-1)!.body.toString(), body);
  });

  it('lets exactly one of eight concurrent copies through (race)', async () => {
    const s = await sign(guarded.port, { path: '/items' });
    const before = upstream.seen.length;
    const answers = await Promise.all(Array.from({ length: 8 }, () => send(guarded.port, s)));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 401, 401, 401, 401, 401, 401, 401]);
    assert.equal(upstream.seen.length, before + 1);
  });

  it('refuses a replay from another client address or with extra unsigned headers', async () => {
    const s = await sign(guarded.port, { path: '/items' });
    assert.equal((await send(guarded.port, s)).status, 200);
    await assertReplayed(
      guarded,
      await send(guarded.port, s, undefined, { 'x-forwarded-for': '203.0.113.9' }),
    );
    await assertReplayed(guarded, await send(guarded.port, s, undefined, { 'x-padding': 'something new' }));
  });

  it('does not let a tampered copy pass as new: changing what is signed breaks the signature', async () => {
    const s = await sign(guarded.port, { path: '/items' });
    assert.equal((await send(guarded.port, s)).status, 200);
    const other = await send(guarded.port, { ...s, target: s.target.replace(/n=\d+/, 'n=999999') });
    assert.equal(other.status, 401);
    assert.equal((await logLine(guarded, other.requestId)).reason, 'signature_invalid');
    // The signature in upper case names the same bytes: refused as malformed, not as new.
    const auth = s.headers.authorization!;
    const upper = auth.replace(
      /Signature=([0-9a-f]{64})/,
      (_, sig: string) => `Signature=${sig.toUpperCase()}`,
    );
    const shouted = await send(guarded.port, { ...s, headers: { ...s.headers, authorization: upper } });
    assert.equal(shouted.status, 401);
    assert.equal((await logLine(guarded, shouted.requestId)).reason, 'signature_malformed');
  });

  it('does not burn a signature on a refused attempt (a tampered body does not block the real one)', async () => {
    // Whoever sees a signed request in flight cannot deny it by racing a corrupted copy.
    const body = '{"qty":1}';
    const s = await sign(guarded.port, { method: 'POST', path: '/items', body });
    const tampered = await send(guarded.port, s, '{"qty":9}');
    assert.equal(tampered.status, 401);
    assert.equal((await logLine(guarded, tampered.requestId)).reason, 'signature_invalid');
    assert.equal((await send(guarded.port, s, body)).status, 200);
  });

  it('accepts a presigned URL once', async () => {
    const s = await sign(guarded.port, { path: '/files/report.csv', presignExpires: 300 });
    assert.equal(s.headers.authorization, undefined);
    const before = upstream.seen.length;
    assert.equal((await send(guarded.port, s)).status, 200);
    await assertReplayed(guarded, await send(guarded.port, s));
    assert.equal(upstream.seen.length, before + 1);
  });

  it('with replayGuard: false, the same signed request passes twice', async () => {
    const s = await sign(open.port, { path: '/items' });
    const before = upstream.seen.length;
    assert.equal((await send(open.port, s)).status, 200);
    assert.equal((await send(open.port, s)).status, 200);
    const p = await sign(open.port, { path: '/files/report.csv', presignExpires: 300 });
    assert.equal((await send(open.port, p)).status, 200);
    assert.equal((await send(open.port, p)).status, 200);
    assert.equal(upstream.seen.length, before + 4);
  });
});
