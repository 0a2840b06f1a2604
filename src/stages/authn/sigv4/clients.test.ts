import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import aws4 from 'aws4';
import {
  canonicalRequest,
  deriveSigningKey,
  parseSigV4,
  payloadHashOf,
  type SignedRequestInput,
  stringToSign,
  verifySigV4,
} from './engine.ts';

/**
 * Requests signed by real clients, sent over a real socket to a capture server, and verified
 * from what arrived (method, raw target, rawHeaders, body): the form the gateway sees.
 */

const AKID = 'AKIDEXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const TOKEN = 'IQoJb3JpZ2luX2VjE//session+token/with=chars';
const REGION = 'us-east-1';
const SERVICE = 'execute-api';

interface Captured extends SignedRequestInput {
  readonly body: Buffer;
}

let server: http.Server;
let port = 0;
let last: Captured | undefined;

before(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      last = {
        method: req.method!,
        target: req.url!,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks),
      };
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(() => server.close());

function send(
  method: string,
  target: string,
  headers: http.OutgoingHttpHeaders,
  body?: string,
): Promise<Captured> {
  last = undefined;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers }, (res) => {
      res.resume();
      res.on('end', () => (last ? resolve(last) : reject(new Error('nothing captured'))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** 'ok' or the refusal reason, verified against the hash of the body as received. */
function verdict(c: Captured, secret = SECRET): string {
  const parsed = parseSigV4(c);
  if (!parsed.ok) return parsed.absent ? 'absent' : `${parsed.reason}: ${parsed.detail}`;
  const bodyHash = payloadHashOf(c.body);
  const r = verifySigV4(c, parsed.auth, {
    secret,
    payloadHash: bodyHash,
    nowMs: Date.now(),
    clockSkewMs: 5 * 60_000,
    maxPresignedExpirySec: 3600,
    region: REGION,
    service: SERVICE,
  });
  return r.ok ? 'ok' : r.reason;
}

interface Req {
  method?: string;
  /** As the SDK sets it: already percent-encoded. */
  path: string;
  query?: Record<string, string | string[]>;
  body?: string;
  headers?: Record<string, string>;
}

/** Query string as @smithy/node-http-handler writes it (buildQueryString of @smithy/core). */
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

async function smithy(r: Req, o: { token?: string; presignExpires?: number } = {}): Promise<Captured> {
  const signer = new SignatureV4({
    service: SERVICE,
    region: REGION,
    sha256: Sha256,
    credentials: { accessKeyId: AKID, secretAccessKey: SECRET, sessionToken: o.token },
  });
  const headers: Record<string, string> = { host: `127.0.0.1:${port}`, ...r.headers };
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
    query: r.query ?? {},
    headers,
    body: r.body,
  });
  const signed =
    o.presignExpires === undefined
      ? await signer.sign(request)
      : await signer.presign(request, { expiresIn: o.presignExpires });
  const qs = smithyQuery(signed.query ?? {});
  return send(signed.method, qs ? `${signed.path}?${qs}` : signed.path, signed.headers, r.body);
}

/** aws4 takes path and query together and rewrites `path` to what goes on the wire. */
async function viaAws4(
  r: { method?: string; path: string; body?: string },
  o: { token?: string; signQuery?: boolean } = {},
) {
  const signed = aws4.sign(
    {
      host: '127.0.0.1',
      port,
      method: r.method ?? (r.body === undefined ? 'GET' : 'POST'),
      path: r.path,
      service: SERVICE,
      region: REGION,
      signQuery: o.signQuery,
      ...(r.body !== undefined && { body: r.body, headers: { 'Content-Type': 'application/json' } }),
    },
    { accessKeyId: AKID, secretAccessKey: SECRET, sessionToken: o.token },
  );
  return send(signed.method!, signed.path!, signed.headers!, r.body);
}

const QUERY = { b: '2', a: ['x y', '1'], plus: 'a+b', slash: '/', uni: 'é', empty: '', tilde: '~!*' };
/** The SDKs send paths already encoded (extendedEncodeURIComponent per label). */
const ENCODED_PATHS = [
  '/a%20b/c',
  '/caf%C3%A9',
  '/a%2Fb',
  '/a+b=c',
  '/~user/x.y_z-1',
  '/a//b/',
  '/x/./y/../z',
  '/%21%27%28%29%2A',
  "/a!b'c",
  '/a%7Eb',
  '/%2E%2E/a',
];

describe('@smithy/signature-v4 (AWS SDK for JavaScript v3)', () => {
  it('GET with a query of spaces, plus, slash, unicode, repeats and empty values', async () => {
    const c = await smithy({ path: '/items', query: QUERY });
    assert.match(c.target, /a=x%20y/);
    assert.equal(verdict(c), 'ok');
    assert.equal(verdict(c, `${SECRET}x`), 'signature_invalid');
  });

  it('POST with a JSON body (x-amz-content-sha256 signed)', async () => {
    const c = await smithy({ method: 'POST', path: '/items', body: '{"name":"widget","qty":2}' });
    const parsed = parseSigV4(c);
    assert.ok(parsed.ok && parsed.auth.contentSha256 === payloadHashOf(c.body));
    assert.equal(verdict(c), 'ok');
    assert.equal(verdict({ ...c, body: Buffer.from('{"name":"widget","qty":3}') }), 'signature_invalid');
  });

  for (const path of ENCODED_PATHS) {
    it(`path ${path}`, async () => {
      assert.equal(verdict(await smithy({ path })), 'ok');
    });
  }

  it('session token in a signed header', async () => {
    const c = await smithy({ path: '/items' }, { token: TOKEN });
    const parsed = parseSigV4(c);
    assert.ok(parsed.ok && parsed.auth.securityToken === TOKEN);
    assert.equal(verdict(c), 'ok');
  });

  it('presigned GET with a query and a session token', async () => {
    const c = await smithy(
      { path: '/files/a%20b', query: { versionId: '3' } },
      { token: TOKEN, presignExpires: 600 },
    );
    const parsed = parseSigV4(c);
    assert.ok(
      parsed.ok &&
        parsed.auth.presigned &&
        parsed.auth.expiresSec === 600 &&
        parsed.auth.securityToken === TOKEN,
    );
    assert.equal(verdict(c), 'ok');
    assert.equal(
      verdict({ ...c, target: c.target.replace('versionId=3', 'versionId=4') }),
      'signature_invalid',
    );
  });

  it('presigned POST signs the body hash', async () => {
    assert.equal(
      verdict(await smithy({ method: 'POST', path: '/upload', body: '{"a":1}' }, { presignExpires: 60 })),
      'ok',
    );
  });
});

describe('aws4', () => {
  it('GET with a query of spaces, plus, slash, unicode, repeats and empty values', async () => {
    // aws4 parses the query with querystring (a `+` would become a space), so a plus is sent as %2B.
    const c = await viaAws4({
      path: '/items?b=2&a=x%20y&a=1&plus=a%2Bb&slash=%2F&uni=%C3%A9&empty=&tilde=~!*',
    });
    assert.equal(verdict(c), 'ok');
    assert.equal(verdict(c, `${SECRET}x`), 'signature_invalid');
  });

  it('POST with a JSON body', async () => {
    const c = await viaAws4({ path: '/items', body: '{"name":"widget"}' });
    assert.equal(verdict(c), 'ok');
  });

  for (const path of [...ENCODED_PATHS, '/a b/café', '/ü/%C3%BC']) {
    it(`path ${path}`, async () => {
      assert.equal(verdict(await viaAws4({ path })), 'ok');
    });
  }

  it('session token in a signed header', async () => {
    assert.equal(verdict(await viaAws4({ path: '/items' }, { token: TOKEN })), 'ok');
  });

  it('presigned GET (signQuery) with a session token', async () => {
    const c = await viaAws4(
      { path: '/files/a%20b?X-Amz-Expires=300&versionId=3' },
      { signQuery: true, token: TOKEN },
    );
    const parsed = parseSigV4(c);
    assert.ok(parsed.ok && parsed.auth.presigned && parsed.auth.securityToken === TOKEN);
    assert.equal(verdict(c), 'ok');
  });

  it('presigned without X-Amz-Expires (aws4 adds none outside S3) is refused', async () => {
    const c = await viaAws4({ path: '/files/x' }, { signQuery: true });
    assert.match(verdict(c), /^signature_malformed: .*-Expires/);
  });
});

const run = promisify(execFile);
const curlVersion = await run('curl', ['--version']).then(
  (r) => /^curl (\d+)\.(\d+)/.exec(r.stdout),
  () => null,
);
const curlHasSigV4 = curlVersion !== null && (Number(curlVersion[1]) > 7 || Number(curlVersion[2]) >= 75);

function curl(path: string, ...args: string[]): Promise<Captured> {
  last = undefined;
  const url = `http://127.0.0.1:${port}${path}`;
  return run('curl', [
    '-sS',
    '--aws-sigv4',
    `aws:amz:${REGION}:${SERVICE}`,
    '--user',
    `${AKID}:${SECRET}`,
    ...args,
    url,
  ]).then(() => {
    assert.ok(last, 'curl request not captured');
    return last;
  });
}

describe('curl --aws-sigv4', {
  // CI installs curl (.ci/run): there a missing or old curl fails these tests instead of skipping them.
  skip: curlHasSigV4 || process.env.CI === 'true' ? false : 'curl with --aws-sigv4 (7.75+) not found',
}, () => {
  it('GET with a canonical path and sorted query', async () => {
    const c = await curl('/items/a-1?a=1&b=two%20words');
    assert.match(c.rawHeaders[c.rawHeaders.indexOf('Authorization') + 1]!, /SignedHeaders=host;x-amz-date,/);
    assert.equal(verdict(c), 'ok');
  });

  it('POST with a JSON body (payload hash of the body)', async () => {
    const c = await curl(
      '/items',
      '-H',
      'Content-Type: application/json',
      '--data-binary',
      '{"name":"widget"}',
    );
    assert.equal(c.method, 'POST');
    assert.equal(verdict(c), 'ok');
  });

  // curl 7.x signs the wire path and query verbatim: no second encoding of the path, no sorting
  // or re-encoding of the query. AWS refuses those signatures too; later curl releases
  // canonicalise both. The gateway follows AWS and the SDKs, not curl 7's shortcut.
  it('curl 7 signs path and query verbatim, so non-canonical targets are refused', {
    skip: curlVersion?.[1] === '7' ? false : 'only curl 7.x signs verbatim',
  }, async () => {
    const c = await curl('/a%20b/c?b=2&a=x+y');
    assert.equal(verdict(c), 'signature_invalid');
    const parsed = parseSigV4(c);
    assert.ok(parsed.ok);
    const lines = canonicalRequest(c, parsed.auth, payloadHashOf(c.body)).split('\n');
    lines[1] = '/a%20b/c';
    lines[2] = 'b=2&a=x+y';
    const key = deriveSigningKey(SECRET, parsed.auth.date, REGION, SERVICE);
    const verbatim = createHmac('sha256', key)
      .update(stringToSign(parsed.auth, lines.join('\n')))
      .digest('hex');
    assert.equal(parsed.auth.signature, verbatim);
  });
});
