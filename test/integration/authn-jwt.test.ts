import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { generateKey, startIdp, type TestIdp } from '../helpers/idp.ts';
import { rawRequest } from '../helpers/raw.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

/**
 * Bearer JWTs over real sockets, against a test identity provider: keys from a JWKS, from
 * OpenID Connect discovery (configured, or the OpenAPI `openIdConnectUrl`), or an HMAC secret;
 * every claim check with its reason code; scopes and the OR/AND of security requirements; key
 * rotation and the cooldown on re-fetches; and what happens while the IdP is down (cached keys
 * serve for `maxStale`, then every token is refused until it is back).
 */

const OPENAPI = `openapi: 3.1.0
info: { title: t, version: '1' }
components:
  securitySchemes:
    bearer: { type: http, scheme: bearer, bearerFormat: JWT }
    partner: { type: http, scheme: bearer, bearerFormat: JWT }
paths:
  /me:
    get:
      operationId: getMe
      security: [{ bearer: [] }]
      responses: { '200': { description: ok } }
  /orders:
    post:
      operationId: createOrder
      security: [{ bearer: [orders:write] }]
      responses: { '200': { description: ok } }
  /optional:
    get:
      operationId: getOptional
      security: [{ bearer: [] }, {}]
      responses: { '200': { description: ok } }
  /partner:
    get:
      operationId: getPartner
      security: [{ bearer: [], partner: [] }]
      responses: { '200': { description: ok } }
`;

/** Gateway config with `schemes` (YAML lines under `authn.schemes`, indented 4). */
function config(upstreamUrl: string, schemes: string): string {
  return `version: 1
server: { listen: [{ host: 127.0.0.1, port: 0 }] }
log: { access: { destination: \${dir}/access.log } }
upstreams: { backend: { url: ${upstreamUrl} } }
authn:
  bruteForce: { enabled: false }
  schemes:
${schemes}
apis: { t: { openapi: openapi.yaml, upstream: backend } }
`;
}

function jwtScheme(name: string, idp: TestIdp, extra = '', keys = `jwksUri: ${idp.jwksUri}`): string {
  return `    ${name}:
      jwt:
        issuers: [${idp.issuer}]
        audiences: [${idp.audience}]
        ${keys}
${extra}`;
}

interface Answer {
  status: number;
  headers: Headers;
  body: string;
  requestId: string;
}

async function call(
  gw: TestGateway,
  path: string,
  token?: string,
  init: { method?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${gw.url}${path}`, { method: init.method ?? 'GET', headers });
  const body = await res.text();
  return { status: res.status, headers: res.headers, body, requestId: res.headers.get('x-request-id') ?? '' };
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

/** Asserts a 401 with `reason` that never reached the upstream. */
async function assertRefused(
  gw: TestGateway,
  upstream: TestUpstream,
  token: string | undefined,
  reason: string,
  path = '/me',
): Promise<Answer> {
  const before = upstream.seen.length;
  const res = await call(gw, path, token);
  assert.equal(res.status, 401, `want 401 ${reason}, got ${res.status} ${res.body}`);
  assert.equal(upstream.seen.length, before, 'the upstream never sees a refused request');
  assert.equal((await logLine(gw, res.requestId)).reason, reason);
  return res;
}

/** Repeats `probe` until it returns true or `ms` pass; returns the time it took. */
async function until(ms: number, probe: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await probe()) return Date.now() - start;
    await sleep(50);
  }
  throw new Error(`condition not met within ${ms} ms`);
}

const now = () => Math.floor(Date.now() / 1000);

describe('JWT from a JWKS (jwksUri)', () => {
  let idp: TestIdp;
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    idp = await startIdp();
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: config(
        upstream.url,
        jwtScheme('bearer', idp, '        maxTokenSize: 2kb\n') +
          jwtScheme('partner', idp).replace(`audiences: [${idp.audience}]`, 'audiences: [partner-api]'),
      ),
      files: { 'openapi.yaml': OPENAPI },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
    await idp.close();
  });

  it('serves a valid RS256 token; the upstream sees the subject as x-principal-id and kind jwt', async () => {
    const res = await call(gw, '/me', idp.sign({ sub: 'alice' }));
    assert.equal(res.status, 200, res.body);
    const seen = upstream.seen.at(-1)!;
    assert.equal(seen.headers['x-principal-id'], 'alice');
    assert.equal(seen.headers['x-principal-kind'], 'jwt');
    assert.equal((await logLine(gw, res.requestId)).principal, 'alice');
  });

  it('serves a valid ES256 token', async () => {
    const res = await call(gw, '/me', idp.sign({ sub: 'bob' }, { key: idp.es256 }));
    assert.equal(res.status, 200, res.body);
    assert.equal(upstream.seen.at(-1)!.headers['x-principal-id'], 'bob');
  });

  it('replaces client-sent identity headers with the verified principal', async () => {
    const res = await call(gw, '/me', idp.sign({ sub: 'carol' }), {
      headers: { 'x-principal-id': 'admin', 'x-principal-kind': 'root', 'x-user-id': 'admin' },
    });
    assert.equal(res.status, 200);
    const seen = upstream.seen.at(-1)!;
    assert.equal(seen.headers['x-principal-id'], 'carol');
    assert.equal(seen.headers['x-principal-kind'], 'jwt');
    assert.equal(seen.headers['x-user-id'], undefined);
  });

  it('answers 401 with WWW-Authenticate: Bearer when there is no token', async () => {
    const res = await assertRefused(gw, upstream, undefined, 'unauthenticated');
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer\b/);
    assert.match(res.headers.get('content-type') ?? '', /problem\+json/);
  });

  it('treats an Authorization header of another scheme as no token', async () => {
    const before = upstream.seen.length;
    const res = await fetch(`${gw.url}/me`, { headers: { authorization: 'Basic YWxpY2U6c2VjcmV0' } });
    await res.text();
    assert.equal(res.status, 401);
    assert.equal(upstream.seen.length, before);
    assert.equal((await logLine(gw, res.headers.get('x-request-id')!)).reason, 'unauthenticated');
  });

  it('refuses an expired token (token_expired), but tolerates the clock skew', async () => {
    const res = await assertRefused(
      gw,
      upstream,
      idp.sign({ exp: now() - 120, iat: now() - 600 }),
      'token_expired',
    );
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer\b/);
    assert.equal((await call(gw, '/me', idp.sign({ exp: now() - 5, iat: now() - 600 }))).status, 200);
  });

  it('refuses a token not yet valid: nbf or iat in the future (token_not_yet_valid)', async () => {
    await assertRefused(gw, upstream, idp.sign({ nbf: now() + 300 }), 'token_not_yet_valid');
    await assertRefused(
      gw,
      upstream,
      idp.sign({ iat: now() + 300, exp: now() + 900 }),
      'token_not_yet_valid',
    );
    assert.equal((await call(gw, '/me', idp.sign({ nbf: now() + 5 }))).status, 200, 'within the clock skew');
  });

  it('refuses a token from another issuer (token_claims_invalid)', async () => {
    await assertRefused(gw, upstream, idp.sign({ iss: 'https://evil.example' }), 'token_claims_invalid');
    await assertRefused(gw, upstream, idp.sign({ iss: `${idp.issuer}/` }), 'token_claims_invalid');
  });

  it('refuses a token for another audience (token_claims_invalid); one accepted audience in a list is enough', async () => {
    await assertRefused(gw, upstream, idp.sign({ aud: 'other-api' }), 'token_claims_invalid');
    await assertRefused(gw, upstream, idp.sign({ aud: ['a', 'b'] }), 'token_claims_invalid');
    assert.equal((await call(gw, '/me', idp.sign({ aud: ['other-api', idp.audience] }))).status, 200);
  });

  it('refuses an algorithm outside the allowlist, even signed by a published key (token_signature_invalid)', async () => {
    const rs384 = await idp.rotate('RS384');
    const ps256 = await idp.rotate('PS256');
    await assertRefused(gw, upstream, idp.sign({}, { key: rs384 }), 'token_signature_invalid');
    await assertRefused(gw, upstream, idp.sign({}, { key: ps256 }), 'token_signature_invalid');
  });

  it('refuses a token whose typ is not an access-token type (token_claims_invalid)', async () => {
    await assertRefused(
      gw,
      upstream,
      idp.sign({}, { header: { typ: 'logout+jwt' } }),
      'token_claims_invalid',
    );
    await assertRefused(gw, upstream, idp.sign({}, { header: { typ: 'JWE' } }), 'token_claims_invalid');
    for (const typ of ['at+jwt', 'application/at+JWT', 'jwt', undefined]) {
      const res = await call(gw, '/me', idp.sign({}, { header: { typ } }));
      assert.equal(res.status, 200, `typ ${typ}`);
    }
  });

  it('refuses a token missing a required claim (token_claims_invalid)', async () => {
    await assertRefused(gw, upstream, idp.sign({ exp: undefined }), 'token_claims_invalid');
    await assertRefused(gw, upstream, idp.sign({ sub: undefined }), 'token_claims_invalid');
    await assertRefused(gw, upstream, idp.sign({ sub: '' }), 'token_claims_invalid');
  });

  it('refuses a token whose payload was changed after signing (token_signature_invalid)', async () => {
    const [h, , s] = idp.sign({ sub: 'alice' }).split('.');
    const p = Buffer.from(JSON.stringify(idp.claims({ sub: 'admin' }))).toString('base64url');
    await assertRefused(gw, upstream, `${h}.${p}.${s}`, 'token_signature_invalid');
  });

  it('refuses a token whose kid is in no key set (token_key_unknown)', async () => {
    const stranger = await generateKey('RS256', 'never-published');
    await assertRefused(gw, upstream, idp.sign({}, { key: stranger }), 'token_key_unknown');
  });

  it('refuses a token over maxTokenSize before parsing it (token_too_large)', async () => {
    const big = idp.sign({ pad: 'x'.repeat(2048) });
    await assertRefused(gw, upstream, big, 'token_too_large');
    await assertRefused(gw, upstream, `${'a'.repeat(3000)}.b.c`, 'token_too_large');
  });

  it('refuses a request with two Authorization headers, even both valid (token_malformed)', async () => {
    const token = idp.sign();
    const before = upstream.seen.length;
    const res = await rawRequest(
      gw.port,
      `GET /me HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(res.status, 401, res.text);
    assert.equal(upstream.seen.length, before);
    const id = /x-request-id: (\S+)/i.exec(res.text)![1]!;
    assert.equal((await logLine(gw, id)).reason, 'token_malformed');
  });

  it('refuses a Bearer header with nothing after it (token_malformed), even where anonymous is allowed', async () => {
    // The HTTP parser trims trailing whitespace: `Bearer   ` reaches the gateway as `Bearer`.
    for (const path of ['/me', '/optional']) {
      const before = upstream.seen.length;
      const res = await rawRequest(
        gw.port,
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer   \r\nConnection: close\r\n\r\n`,
      );
      assert.equal(res.status, 401, `${path}: ${res.text}`);
      assert.equal(upstream.seen.length, before);
      const id = /x-request-id: (\S+)/i.exec(res.text)![1]!;
      assert.equal((await logLine(gw, id)).reason, 'token_malformed');
    }
  });

  it('reads a token after Bearer and a tab: a forged one is refused, not passed on as anonymous', async () => {
    const forged = idp.sign({ sub: 'admin' }, { key: await generateKey('RS256', idp.rs256.kid) });
    for (const path of ['/me', '/optional']) {
      const before = upstream.seen.length;
      const res = await rawRequest(
        gw.port,
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer\t${forged}\r\nConnection: close\r\n\r\n`,
      );
      assert.equal(res.status, 401, `${path}: ${res.text}`);
      assert.equal(upstream.seen.length, before, 'the forged token never reaches the upstream');
      const id = /x-request-id: (\S+)/i.exec(res.text)![1]!;
      assert.equal((await logLine(gw, id)).reason, 'token_signature_invalid');
    }
  });

  it('requires the scopes of the operation: 403 insufficient_scope without, 200 with (scope or scp)', async () => {
    const before = upstream.seen.length;
    const denied = await call(gw, '/orders', idp.sign({ scope: 'orders:read orders:writer' }), {
      method: 'POST',
    });
    assert.equal(denied.status, 403, denied.body);
    assert.equal(upstream.seen.length, before);
    assert.equal((await logLine(gw, denied.requestId)).reason, 'insufficient_scope');
    assert.equal(
      (await call(gw, '/orders', idp.sign({}), { method: 'POST' })).status,
      403,
      'no scope claim at all',
    );

    const scp = await call(gw, '/orders', idp.sign({ scp: ['orders:read', 'orders:write'] }), {
      method: 'POST',
    });
    assert.equal(scp.status, 200, scp.body);
    const scope = await call(gw, '/orders', idp.sign({ scope: 'orders:read orders:write' }), {
      method: 'POST',
    });
    assert.equal(scope.status, 200, scope.body);
    assert.equal(upstream.seen.length, before + 2);
  });

  it('OR with {}: serves an anonymous caller, but refuses an invalid token rather than ignoring it', async () => {
    const anon = await call(gw, '/optional');
    assert.equal(anon.status, 200);
    assert.equal(upstream.seen.at(-1)!.headers['x-principal-id'], undefined);
    assert.equal((await logLine(gw, anon.requestId)).principal, undefined);

    await assertRefused(gw, upstream, idp.sign({ exp: now() - 3600 }), 'token_expired', '/optional');
    await assertRefused(gw, upstream, 'not-a-jwt', 'token_malformed', '/optional');

    const ok = await call(gw, '/optional', idp.sign({ sub: 'dave' }));
    assert.equal(ok.status, 200);
    assert.equal(upstream.seen.at(-1)!.headers['x-principal-id'], 'dave');
  });

  it('AND of two schemes: the token must satisfy both (here, both audiences)', async () => {
    const both = await call(gw, '/partner', idp.sign({ sub: 'erin', aud: [idp.audience, 'partner-api'] }));
    assert.equal(both.status, 200, both.body);
    assert.equal(upstream.seen.at(-1)!.headers['x-principal-id'], 'erin');
    await assertRefused(gw, upstream, idp.sign({ aud: idp.audience }), 'token_claims_invalid', '/partner');
    await assertRefused(gw, upstream, idp.sign({ aud: 'partner-api' }), 'token_claims_invalid', '/partner');
  });
});

describe('JWT key rotation and the re-fetch cooldown', () => {
  const COOLDOWN = 2000;
  let idp: TestIdp;
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    idp = await startIdp();
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: config(
        upstream.url,
        jwtScheme('bearer', idp, `        jwks: { cooldown: ${COOLDOWN}ms, refreshInterval: 1h }\n`),
      ),
      files: { 'openapi.yaml': OPENAPI },
    });
    // The first fetch happens at start; let its cooldown pass.
    await until(2000, async () => idp.jwksFetches >= 1);
    await sleep(COOLDOWN + 100);
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
    await idp.close();
  });

  it('picks up a key rotated in at the IdP: an unknown kid causes one re-fetch', async () => {
    assert.equal((await call(gw, '/me', idp.sign())).status, 200);
    const fetches = idp.jwksFetches;
    const fresh = await idp.rotate('ES256');
    const res = await call(gw, '/me', idp.sign({ sub: 'rotated' }, { key: fresh }));
    assert.equal(res.status, 200, res.body);
    assert.equal(upstream.seen.at(-1)!.headers['x-principal-id'], 'rotated');
    assert.equal(idp.jwksFetches, fetches + 1);
  });

  it('a flood of unknown kids causes at most one fetch per cooldown', async () => {
    await sleep(COOLDOWN + 100);
    const attacker = await generateKey('RS256');
    const fetches = idp.jwksFetches;
    const flood = async () =>
      Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          call(gw, '/me', idp.sign({}, { key: attacker, header: { kid: `forged-${i}-${Math.random()}` } })),
        ),
      );
    const first = await flood();
    assert.ok(first.every((r) => r.status === 401));
    assert.ok(idp.jwksFetches - fetches <= 1, `${idp.jwksFetches - fetches} fetches for the first flood`);
    const afterFirst = idp.jwksFetches;
    const second = await flood();
    assert.ok(second.every((r) => r.status === 401));
    assert.equal(idp.jwksFetches, afterFirst, 'no fetch within the cooldown');

    // A key rotated in during the cooldown is found once it is over.
    const fresh = await idp.rotate('RS256');
    const token = idp.sign({ sub: 'late' }, { key: fresh });
    const early = await call(gw, '/me', token);
    assert.equal(early.status, 401);
    assert.equal((await logLine(gw, early.requestId)).reason, 'token_key_unknown');
    await sleep(COOLDOWN + 100);
    assert.equal((await call(gw, '/me', token)).status, 200);
  });
});

describe('JWT keys from OpenID Connect discovery', () => {
  let idp: TestIdp;
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    idp = await startIdp();
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: config(upstream.url, jwtScheme('bearer', idp, '', `discovery: ${idp.discoveryUrl}`)),
      files: { 'openapi.yaml': OPENAPI },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
    await idp.close();
  });

  it('verifies RS256 and ES256 tokens with the keys at the discovered jwks_uri', async () => {
    assert.equal((await call(gw, '/me', idp.sign({ sub: 'd1' }))).status, 200);
    assert.equal(upstream.seen.at(-1)!.headers['x-principal-id'], 'd1');
    assert.equal((await call(gw, '/me', idp.sign({ sub: 'd2' }, { key: idp.es256 }))).status, 200);
    assert.ok(idp.discoveryFetches >= 1);
    assert.ok(idp.jwksFetches >= 1);
    await assertRefused(gw, upstream, idp.sign({ iss: 'https://evil.example' }), 'token_claims_invalid');
  });
});

describe('JWT discovery whose issuer is not the configured one', () => {
  let idp: TestIdp;
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    idp = await startIdp();
    idp.discoveryIssuer = 'https://impostor.example';
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: config(upstream.url, jwtScheme('bearer', idp, '', `discovery: ${idp.discoveryUrl}`)),
      files: { 'openapi.yaml': OPENAPI },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
    await idp.close();
  });

  it('never uses the keys: every token is refused (jwks_unavailable)', async () => {
    await assertRefused(gw, upstream, idp.sign(), 'jwks_unavailable');
    assert.equal(idp.jwksFetches, 0, 'the jwks_uri of a document speaking for another issuer is not fetched');
  });
});

describe('JWT keys from the OpenAPI openIdConnectUrl (no discovery in the config)', () => {
  let idp: TestIdp;
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    idp = await startIdp();
    upstream = await startUpstream();
    const doc = `openapi: 3.1.0
info: { title: t, version: '1' }
components:
  securitySchemes:
    oidc: { type: openIdConnect, openIdConnectUrl: '${idp.discoveryUrl}' }
paths:
  /me:
    get:
      operationId: getMe
      security: [{ oidc: [] }]
      responses: { '200': { description: ok } }
`;
    gw = await startTestGateway({
      config: config(
        upstream.url,
        `    oidc:\n      jwt: { issuers: [${idp.issuer}], audiences: [${idp.audience}] }\n`,
      ),
      files: { 'openapi.yaml': doc },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
    await idp.close();
  });

  it('follows openIdConnectUrl to the keys and verifies tokens', async () => {
    const res = await call(gw, '/me', idp.sign({ sub: 'oidc-user' }, { key: idp.es256 }));
    assert.equal(res.status, 200, res.body);
    assert.equal(upstream.seen.at(-1)!.headers['x-principal-id'], 'oidc-user');
    assert.ok(idp.discoveryFetches >= 1);
    await assertRefused(gw, upstream, idp.sign({ aud: 'elsewhere' }), 'token_claims_invalid');
  });
});

describe('JWT with an HMAC secret from the environment', () => {
  const ENV = `RAMPART_TEST_JWT_SECRET_${process.pid}`;
  let secret: string;
  let idp: TestIdp; // only for its signing helper and claims; its keys are not configured
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    secret = randomBytes(32).toString('hex');
    process.env[ENV] = secret;
    idp = await startIdp();
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: config(
        upstream.url,
        `    bearer:
      jwt:
        issuers: [${idp.issuer}]
        audiences: [${idp.audience}]
        algorithms: [HS256]
        secret: env:${ENV}
`,
      ),
      files: { 'openapi.yaml': OPENAPI.replace(/\n {2}\/partner:[\s\S]*$/, '\n') },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
    await idp.close();
    delete process.env[ENV];
  });

  const hs256 = (overrides: Record<string, unknown> = {}, key: string | Uint8Array = secret) =>
    idp.sign(overrides, { header: { alg: 'HS256', kid: undefined }, signWith: { alg: 'HS256', key } });

  it('serves a token signed with the secret', async () => {
    const res = await call(gw, '/me', hs256({ sub: 'hmac-user' }));
    assert.equal(res.status, 200, res.body);
    assert.equal(upstream.seen.at(-1)!.headers['x-principal-id'], 'hmac-user');
    assert.equal(upstream.seen.at(-1)!.headers['x-principal-kind'], 'jwt');
  });

  it('refuses a token signed with another secret, or with a public-key algorithm', async () => {
    await assertRefused(gw, upstream, hs256({}, randomBytes(32).toString('hex')), 'token_signature_invalid');
    await assertRefused(gw, upstream, idp.sign(), 'token_signature_invalid');
    await assertRefused(gw, upstream, hs256({ exp: now() - 3600 }), 'token_expired');
  });
});

describe('JWT while the IdP is down (keys cached)', () => {
  const MAX_STALE = 2000;
  const REFRESH = 300;
  let idp: TestIdp;
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    idp = await startIdp();
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: config(
        upstream.url,
        jwtScheme(
          'bearer',
          idp,
          `        jwks: { refreshInterval: ${REFRESH}ms, maxStale: ${MAX_STALE}ms, cooldown: 200ms, timeout: 500ms }\n`,
        ),
      ),
      files: { 'openapi.yaml': OPENAPI },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
    await idp.close();
  });

  it('keeps verifying within maxStale, refuses after it (jwks_unavailable), recovers when the IdP is back', async () => {
    const token = idp.sign({ sub: 'patient', exp: now() + 600 });
    assert.equal((await call(gw, '/me', token)).status, 200);

    await idp.down('503');
    const downAt = Date.now();
    assert.equal((await call(gw, '/me', token)).status, 200, 'cached keys serve during a short outage');
    await sleep(MAX_STALE - REFRESH - 500);
    assert.equal((await call(gw, '/me', token)).status, 200, 'still within maxStale');

    let refused: Answer | undefined;
    await until(3000, async () => {
      refused = await call(gw, '/me', token);
      return refused.status !== 200;
    });
    assert.ok(Date.now() - downAt >= MAX_STALE - REFRESH - 100, 'not refused before maxStale');
    assert.equal(refused!.status, 401);
    assert.equal((await logLine(gw, refused!.requestId)).reason, 'jwks_unavailable');
    const seen = upstream.seen.length;
    await assertRefused(gw, upstream, token, 'jwks_unavailable');
    assert.equal(upstream.seen.length, seen);

    await idp.up();
    await until(3000, async () => (await call(gw, '/me', token)).status === 200);
    assert.equal(upstream.seen.at(-1)!.headers['x-principal-id'], 'patient');
  });
});

describe('JWT with the IdP down when the gateway starts', () => {
  let idp: TestIdp;
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    idp = await startIdp();
    await idp.down('close');
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: config(
        upstream.url,
        jwtScheme(
          'bearer',
          idp,
          '        jwks: { refreshInterval: 500ms, cooldown: 200ms, timeout: 500ms }\n',
        ),
      ),
      files: { 'openapi.yaml': OPENAPI },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
    await idp.close();
  });

  it('fails closed (401 jwks_unavailable) and recovers when the IdP comes up', async () => {
    const token = idp.sign({ sub: 'early' });
    await assertRefused(gw, upstream, token, 'jwks_unavailable');
    await sleep(300);
    await assertRefused(gw, upstream, token, 'jwks_unavailable');
    await idp.up();
    await until(3000, async () => (await call(gw, '/me', token)).status === 200);
    assert.equal(upstream.seen.at(-1)!.headers['x-principal-id'], 'early');
  });
});
