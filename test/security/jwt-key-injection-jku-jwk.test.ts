import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestPki } from '../helpers/certs.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { generateKey, startIdp, type TestIdp } from '../helpers/idp.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

/**
 * Attack: key injection through JOSE header parameters. The attacker signs a token with their
 * own key and tells the verifier where to find it: `jku` (a URL of a JWKS on the attacker's
 * server), `jwk` (the public key embedded in the header, CVE-2018-0114), `x5u` (a URL of a
 * certificate chain) or `x5c` (an embedded certificate). A verifier that follows them verifies
 * the attacker's signature with the attacker's key; one that fetches a `jku`/`x5u` also becomes
 * an SSRF tool. Keys must come only from the configured key set: every such token is 401, never
 * reaches the upstream, and the attacker's server (or an internal address) is never contacted.
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

describe('JWT key injection (jku, jwk, x5u, x5c)', () => {
  let idp: TestIdp;
  let attacker: TestIdp;
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    idp = await startIdp();
    attacker = await startIdp({ audience: idp.audience });
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
      jwt:
        issuers: [${idp.issuer}]
        audiences: [${idp.audience}]
        jwksUri: ${idp.jwksUri}
        jwks: { cooldown: 100ms }
apis: { t: { openapi: openapi.yaml, upstream: backend } }
`,
      files: { 'openapi.yaml': OPENAPI },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
    await idp.close();
    await attacker.close();
  });

  async function refused(token: string, path = '/me'): Promise<unknown> {
    const before = upstream.seen.length;
    const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    await res.text();
    assert.equal(res.status, 401, path);
    assert.equal(
      upstream.seen.length,
      before,
      'the upstream never sees the request (nor a fetch of a jku/x5u)',
    );
    const id = res.headers.get('x-request-id');
    for (let i = 0; i < 50; i++) {
      const line = (await gw.readAccessLog()).find((l) => l.reqId === id);
      if (line) return line.reason;
      await sleep(20);
    }
    throw new Error('no access log line');
  }

  /** Claims the gateway would accept, signed by the attacker's key, with `header` added. */
  const forged = (header: Record<string, unknown>, key = attacker.rs256) =>
    idp.sign({ sub: 'admin', scope: 'admin' }, { key, header });

  const assertAttackerNeverContacted = async () => {
    await sleep(150); // a fetch started in the background would have arrived by now
    assert.deepEqual(attacker.requests, [], 'the attacker server is never contacted');
  };

  it('serves a genuine token (control), and the attacker key really signs', async () => {
    const res = await fetch(`${gw.url}/me`, { headers: { authorization: `Bearer ${idp.sign()}` } });
    assert.equal(res.status, 200);
    assert.equal(forged({}).split('.').length, 3);
  });

  it('refuses a token whose jku points at the attacker JWKS, and never fetches it', async () => {
    for (const kid of [attacker.rs256.kid, idp.rs256.kid]) {
      assert.equal(await refused(forged({ jku: attacker.jwksUri, kid })), 'token_malformed');
      assert.equal(await refused(forged({ jku: attacker.jwksUri, kid }), '/optional'), 'token_malformed');
    }
    assert.equal(await refused(forged({ jku: attacker.jwksUri }, attacker.es256)), 'token_malformed');
    await assertAttackerNeverContacted();
  });

  it('refuses a jku pointing at an internal address (no SSRF) or at the trusted IdP itself', async () => {
    const fetches = idp.requests.length;
    assert.equal(await refused(forged({ jku: `${upstream.url}/internal/jwks.json` })), 'token_malformed');
    assert.equal(await refused(idp.sign({}, { header: { jku: idp.jwksUri } })), 'token_malformed');
    await sleep(150);
    assert.ok(
      !upstream.seen.some((r) => r.url.startsWith('/internal')),
      'the internal address was never requested',
    );
    assert.equal(
      idp.requests.slice(fetches).filter((r) => r.url !== '/jwks.json').length,
      0,
      'only the configured jwksUri is ever fetched',
    );
  });

  it('refuses a token carrying the attacker public key as an embedded jwk', async () => {
    for (const key of [attacker.rs256, attacker.es256]) {
      assert.equal(await refused(forged({ jwk: key.jwk }, key)), 'token_malformed');
      assert.equal(await refused(forged({ jwk: key.jwk, kid: undefined }, key)), 'token_malformed');
      assert.equal(
        await refused(forged({ jwk: { ...key.jwk, kid: idp.rs256.kid }, kid: idp.rs256.kid }, key)),
        'token_malformed',
      );
    }
    await assertAttackerNeverContacted();
  });

  it('refuses a token whose x5u points at the attacker', async () => {
    assert.equal(await refused(forged({ x5u: `${attacker.url}/cert.pem` })), 'token_malformed');
    assert.equal(
      await refused(forged({ x5u: `${attacker.url}/cert.pem`, kid: undefined })),
      'token_malformed',
    );
    await assertAttackerNeverContacted();
  });

  it('never trusts an embedded x5c certificate: the key still comes from the key set', async () => {
    const pki = createTestPki('jwt-x5c');
    const cert = pki.issue('mallory', { cn: 'mallory' });
    const x5c = [new X509Certificate(cert.cert).raw.toString('base64')];
    const certKey = { ...(await generateKey('ES256')), privateKey: createPrivateKey(cert.key) };
    // Unknown kid: nothing in the key set to verify with (and the certificate is not one).
    assert.equal(await refused(forged({ x5c, kid: 'mallory' }, certKey)), 'token_key_unknown');
    // The kid of a real key, or no kid: the real key does not verify the attacker's signature.
    assert.equal(await refused(forged({ x5c, kid: idp.es256.kid }, certKey)), 'token_signature_invalid');
    assert.equal(await refused(forged({ x5c, kid: undefined }, certKey)), 'token_signature_invalid');
    await assertAttackerNeverContacted();
  });
});
