import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { b64url, startIdp, type TestIdp } from '../helpers/idp.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

/**
 * Attack: algorithm confusion (key confusion, CVE-2015-9235 / CVE-2016-10555). The scheme
 * verifies RS256 with the IdP's public key, which anyone can download. The attacker sets
 * `alg: HS256` and signs with HMAC, using the bytes of that public key (its PEM, its DER, its
 * JWK, its modulus) as the secret. A verifier that picks the algorithm from the token and hands
 * "the key" to HMAC accepts it. A variant switches between public-key families (an ES256
 * claim with the RSA key's `kid`). All must be 401 and never reach the upstream; and a config
 * that mixes HS* with public-key algorithms is refused at load.
 */
const OPENAPI = `openapi: 3.1.0
info: { title: t, version: '1' }
components:
  securitySchemes:
    bearer: { type: http, scheme: bearer, bearerFormat: JWT }
paths:
  /me:
    get:
      operationId: getMe
      security: [{ bearer: [] }]
      responses: { '200': { description: ok } }
`;

function config(upstreamUrl: string, scheme: string): string {
  return `version: 1
server: { listen: [{ host: 127.0.0.1, port: 0 }] }
log: { access: { destination: \${dir}/access.log } }
upstreams: { backend: { url: ${upstreamUrl} } }
authn:
  bruteForce: { enabled: false }
  schemes:
    bearer:
      jwt: ${scheme}
apis: { t: { openapi: openapi.yaml, upstream: backend } }
`;
}

describe('JWT algorithm confusion', () => {
  let idp: TestIdp;
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    idp = await startIdp();
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: config(
        upstream.url,
        `{ issuers: [${idp.issuer}], audiences: [${idp.audience}], jwksUri: ${idp.jwksUri}, algorithms: [RS256, ES256] }`,
      ),
      files: { 'openapi.yaml': OPENAPI },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
    await idp.close();
  });

  async function refused(token: string): Promise<unknown> {
    const before = upstream.seen.length;
    const res = await fetch(`${gw.url}/me`, { headers: { authorization: `Bearer ${token}` } });
    await res.text();
    assert.equal(res.status, 401);
    assert.equal(upstream.seen.length, before, 'the upstream never sees a refused request');
    const id = res.headers.get('x-request-id');
    for (let i = 0; i < 50; i++) {
      const line = (await gw.readAccessLog()).find((l) => l.reqId === id);
      if (line) return line.reason;
      await sleep(20);
    }
    throw new Error('no access log line');
  }

  it('serves a genuine RS256 token (control)', async () => {
    const res = await fetch(`${gw.url}/me`, { headers: { authorization: `Bearer ${idp.sign()}` } });
    assert.equal(res.status, 200);
  });

  it('refuses HS256 signed with the RSA public key as the HMAC secret (PEM, DER, JWK, modulus)', async () => {
    const key = idp.rs256;
    const jwkJson = JSON.stringify(key.jwk);
    const secrets: Record<string, string | Uint8Array> = {
      'SPKI PEM': key.publicPem,
      'SPKI PEM without the final newline': key.publicPem.trimEnd(),
      'PKCS#1 PEM': key.publicKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      'SPKI DER': key.publicKey.export({ type: 'spki', format: 'der' }),
      'JWK JSON': jwkJson,
      'JWK JSON as published': JSON.stringify({ keys: [key.jwk] }),
      'modulus (base64url)': String(key.jwk.n),
      'modulus (bytes)': Buffer.from(String(key.jwk.n), 'base64url'),
    };
    for (const [what, secret] of Object.entries(secrets)) {
      for (const alg of ['HS256', 'HS384', 'HS512']) {
        for (const kid of [key.kid, undefined]) {
          const token = idp.sign({ sub: 'admin' }, { header: { alg, kid }, signWith: { alg, key: secret } });
          assert.equal(await refused(token), 'token_signature_invalid', `${alg} with ${what}, kid ${kid}`);
        }
      }
    }
  });

  it('refuses HS256 signed with the EC public key as the HMAC secret', async () => {
    const key = idp.es256;
    for (const secret of [key.publicPem, JSON.stringify(key.jwk)]) {
      const token = idp.sign(
        { sub: 'admin' },
        { header: { alg: 'HS256', kid: key.kid }, signWith: { alg: 'HS256', key: secret } },
      );
      assert.equal(await refused(token), 'token_signature_invalid');
    }
  });

  it('refuses a token claiming another public-key family than the key its kid names', async () => {
    // ES256 claimed, RSA kid: the key set must not hand the RSA key to ECDSA (or vice versa).
    const es = idp.sign({ sub: 'admin' }, { key: idp.es256, header: { kid: idp.rs256.kid } });
    assert.equal(await refused(es), 'token_key_unknown');
    const rs = idp.sign({ sub: 'admin' }, { key: idp.rs256, header: { kid: idp.es256.kid } });
    assert.equal(await refused(rs), 'token_key_unknown');
    // The RSA key signs PS256 perfectly well, but PS256 is not allowed.
    const ps = idp.sign(
      { sub: 'admin' },
      { header: { alg: 'PS256' }, signWith: { alg: 'PS256', key: idp.rs256.privateKey } },
    );
    assert.equal(await refused(ps), 'token_signature_invalid');
  });

  it('refuses a genuine RS256 signature re-labelled as HS256', async () => {
    const [, p, s] = idp.sign({ sub: 'admin' }).split('.');
    const h = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: idp.rs256.kid }));
    assert.equal(await refused(`${h}.${p}.${s}`), 'token_signature_invalid');
  });
});

describe('JWT algorithm confusion: configuration', () => {
  it('refuses at load a scheme allowing both HS256 and a public-key algorithm', async () => {
    const env = `RAMPART_TEST_CONFUSION_${process.pid}`;
    process.env[env] = 'x'.repeat(64);
    try {
      await assert.rejects(
        startTestGateway({
          config: config(
            'http://127.0.0.1:9',
            `{ issuers: [https://idp.example], audiences: [a], jwksUri: 'http://127.0.0.1:9/jwks.json', algorithms: [RS256, HS256], secret: 'env:${env}' }`,
          ),
          files: { 'openapi.yaml': OPENAPI },
        }),
        /algorithm confusion/,
      );
    } finally {
      delete process.env[env];
    }
  });
});
