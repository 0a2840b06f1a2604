import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { b64url, startIdp, type TestIdp } from '../helpers/idp.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

/**
 * Attack: the unsecured JWT (`alg: none`, RFC 7519 §6). The attacker writes any claims they
 * like, sets the header to `{"alg":"none"}` and sends no signature (or a leftover one). A
 * verifier that lets the token choose its algorithm, or that matches `none` case-sensitively
 * (`None`, `NONE`), accepts a token nobody signed (CVE-2015-9235, CVE-2018-1000531 and kin).
 * Every variant must be refused with 401 and never reach the upstream, including on an
 * operation that admits anonymous callers: a forged credential is not an absent one.
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
  /optional:
    get:
      operationId: getOptional
      security: [{ bearer: [] }, {}]
      responses: { '200': { description: ok } }
`;

describe('JWT alg none', () => {
  let idp: TestIdp;
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    idp = await startIdp();
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: `version: 1
server: { listen: [{ host: 127.0.0.1, port: 0 }] }
log: { access: { destination: \${dir}/access.log } }
upstreams: { backend: { url: ${upstream.url} } }
authn:
  bruteForce: { enabled: false }
  schemes:
    bearer:
      jwt: { issuers: [${idp.issuer}], audiences: [${idp.audience}], jwksUri: ${idp.jwksUri} }
apis: { t: { openapi: openapi.yaml, upstream: backend } }
`,
      files: { 'openapi.yaml': OPENAPI },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
    await idp.close();
  });

  /** Sends `token`; asserts 401 without reaching the upstream; returns the logged reason. */
  async function refused(token: string, path = '/me'): Promise<unknown> {
    const before = upstream.seen.length;
    const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    await res.text();
    assert.equal(res.status, 401, `${path} ${token.slice(0, 60)}…`);
    assert.equal(upstream.seen.length, before, 'the upstream never sees a refused request');
    const id = res.headers.get('x-request-id');
    for (let i = 0; i < 50; i++) {
      const line = (await gw.readAccessLog()).find((l) => l.reqId === id);
      if (line) return line.reason;
      await sleep(20);
    }
    throw new Error('no access log line');
  }

  const admin = () => JSON.stringify(idp.claims({ sub: 'admin', scope: 'admin' }));

  it('serves a properly signed token (control)', async () => {
    const res = await fetch(`${gw.url}/me`, { headers: { authorization: `Bearer ${idp.sign()}` } });
    assert.equal(res.status, 200);
  });

  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    it(`refuses an unsigned token with alg ${JSON.stringify(alg)} (token_malformed)`, async () => {
      const unsigned = idp.sign(
        {},
        { headerText: JSON.stringify({ alg, typ: 'JWT' }), payloadText: admin(), signatureText: '' },
      );
      assert.equal(await refused(unsigned), 'token_malformed');
      assert.equal(await refused(unsigned, '/optional'), 'token_malformed', 'not served anonymously either');
    });
  }

  it('refuses alg none carrying the kid of a published key', async () => {
    const header = JSON.stringify({ alg: 'none', typ: 'JWT', kid: idp.rs256.kid });
    assert.equal(
      await refused(idp.sign({}, { headerText: header, payloadText: admin(), signatureText: '' })),
      'token_malformed',
    );
  });

  it('refuses alg none with a leftover signature from a genuine token', async () => {
    const genuine = idp.sign({ sub: 'admin' });
    const [, payload, sig] = genuine.split('.');
    for (const alg of ['none', 'NONE']) {
      const token = `${b64url(JSON.stringify({ alg, kid: idp.rs256.kid }))}.${payload}.${sig}`;
      assert.equal(await refused(token), 'token_malformed');
    }
  });

  it('refuses an unsigned token without the trailing dot, and a header without alg', async () => {
    const p = b64url(admin());
    assert.equal(await refused(`${b64url('{"alg":"none"}')}.${p}`), 'token_malformed');
    assert.equal(await refused(`${b64url('{"typ":"JWT"}')}.${p}.`), 'token_malformed');
    assert.equal(await refused(`${b64url('{"alg":""}')}.${p}.`), 'token_malformed');
  });

  it('refuses near-miss spellings of none (not in the allowlist)', async () => {
    for (const alg of ['none ', ' none', 'none\u0000', 'nonе' /* Cyrillic e */]) {
      const token = idp.sign(
        {},
        { headerText: JSON.stringify({ alg }), payloadText: admin(), signatureText: 'AA' },
      );
      assert.ok(
        ['token_malformed', 'token_signature_invalid'].includes(String(await refused(token))),
        JSON.stringify(alg),
      );
    }
  });
});
