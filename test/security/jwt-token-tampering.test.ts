import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { b64url, generateKey, type IdpKey, signature, startIdp, type TestIdp } from '../helpers/idp.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

/**
 * Attack: tampering with a token. The attacker holds a genuine token (or none) and edits it:
 * changes the payload after signing (`sub: alice` → `admin`), strips or truncates the
 * signature, signs with their own key under the `kid` of a real one, points `kid` at a file
 * (`../../dev/null`, whose content is empty: the classic HS256-with-an-empty-key trick against
 * verifiers that read keys from disk), or exploits parser differentials: a duplicate `sub` (one
 * parser reads the first, another the last), and non-canonical base64url (padding, stray
 * trailing bits, the standard alphabet) that gives one token several spellings, each slipping
 * past a deny list or replay cache keyed on the string. Every variant must be 401 and never
 * reach the upstream; the untouched token still passes (the controls).
 */
const OPENAPI = `openapi: 3.1.0
info: { title: t, version: '1' }
components:
  securitySchemes:
    bearer: { type: http, scheme: bearer, bearerFormat: JWT }
    hmac: { type: http, scheme: bearer, bearerFormat: JWT }
paths:
  /me:
    get:
      operationId: getMe
      security: [{ bearer: [] }]
      responses: { '200': { description: ok } }
  /hmac:
    get:
      operationId: getHmac
      security: [{ hmac: [] }]
      responses: { '200': { description: ok } }
`;

const ENV = `RAMPART_TEST_TAMPERING_SECRET_${process.pid}`;

/** A base64url segment spelled differently but decoding to the same bytes (null if it cannot be). */
function withTrailingBits(segment: string): string | null {
  if (segment.length % 4 === 0) return null;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(segment.at(-1)!);
  return segment.slice(0, -1) + alphabet[last | 1];
}

describe('JWT token tampering', () => {
  let idp: TestIdp;
  let upstream: TestUpstream;
  let gw: TestGateway;
  let secret: string;

  before(async () => {
    secret = randomBytes(32).toString('hex');
    process.env[ENV] = secret;
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
    hmac:
      jwt: { issuers: [${idp.issuer}], audiences: [${idp.audience}], algorithms: [HS256], secret: 'env:${ENV}' }
apis: { t: { openapi: openapi.yaml, upstream: backend } }
`,
      files: { 'openapi.yaml': OPENAPI },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
    await idp.close();
    delete process.env[ENV];
  });

  async function send(token: string, path = '/me'): Promise<{ status: number; reason: unknown }> {
    const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    await res.text();
    const id = res.headers.get('x-request-id');
    for (let i = 0; i < 50; i++) {
      const line = (await gw.readAccessLog()).find((l) => l.reqId === id);
      if (line) return { status: res.status, reason: line.reason };
      await sleep(20);
    }
    throw new Error('no access log line');
  }

  /** Asserts 401 with `reason` (one of, if a list) and that the upstream saw nothing. */
  async function refused(token: string, reason: string | string[], path = '/me'): Promise<void> {
    const before = upstream.seen.length;
    const res = await send(token, path);
    assert.equal(res.status, 401, `${path}: ${token.slice(0, 80)}…`);
    assert.equal(upstream.seen.length, before, 'the upstream never sees a refused request');
    if (Array.isArray(reason)) assert.ok(reason.includes(String(res.reason)), `reason ${res.reason}`);
    else assert.equal(res.reason, reason);
  }

  async function accepted(token: string, path = '/me'): Promise<void> {
    const res = await send(token, path);
    assert.equal(res.status, 200, `control token refused: ${res.reason}`);
  }

  /** A token over exact header and payload segments (already encoded), signed over them as they are. */
  const signRaw = (h: string, p: string, key: IdpKey = idp.rs256) =>
    `${h}.${p}.${b64url(signature(key.alg, key.privateKey, `${h}.${p}`))}`;

  const hs256 = (
    overrides: Record<string, unknown>,
    options: { kid?: string; key?: string | Uint8Array } = {},
  ) =>
    idp.sign(overrides, {
      header: { alg: 'HS256', kid: options.kid },
      signWith: { alg: 'HS256', key: options.key ?? secret },
    });

  it('serves untouched RS256, ES256 and HS256 tokens (controls)', async () => {
    await accepted(idp.sign());
    await accepted(idp.sign({}, { key: idp.es256 }));
    await accepted(hs256({}), '/hmac');
  });

  it('refuses a payload changed after signing', async () => {
    for (const key of [idp.rs256, idp.es256]) {
      const [h, , s] = idp.sign({ sub: 'alice' }, { key }).split('.');
      const p = b64url(JSON.stringify(idp.claims({ sub: 'admin' })));
      await refused(`${h}.${p}.${s}`, 'token_signature_invalid');
    }
    const [h, , s] = hs256({ sub: 'alice' }).split('.');
    await refused(
      `${h}.${b64url(JSON.stringify(idp.claims({ sub: 'admin' })))}.${s}`,
      'token_signature_invalid',
      '/hmac',
    );
  });

  it('refuses a header changed after signing', async () => {
    const [, p, s] = idp.sign().split('.');
    const h = b64url(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: idp.rs256.kid }));
    await refused(`${h}.${p}.${s}`, 'token_signature_invalid');
  });

  it('refuses a stripped, truncated, zeroed or foreign signature', async () => {
    const token = idp.sign({ sub: 'admin' });
    const [h, p, s] = token.split('.') as [string, string, string];
    await refused(`${h}.${p}.`, 'token_malformed');
    await refused(`${h}.${p}`, 'token_malformed');
    await refused(`${h}.${p}.${s.slice(0, -4)}`, ['token_signature_invalid', 'token_malformed']);
    await refused(`${h}.${p}.${b64url(Buffer.alloc(256))}`, 'token_signature_invalid');
    await refused(`${h}.${p}.${s}.${s}`, 'token_malformed');
    await refused(`${h}.${p}.${s}.x.y`, 'token_malformed');
    // The signature of another genuine token.
    await refused(`${h}.${p}.${idp.sign({ sub: 'bob' }).split('.')[2]}`, 'token_signature_invalid');
    // An ES256 signature in DER (ASN.1) form instead of the raw r||s of RFC 7518 §3.4.
    const es = idp.sign({ sub: 'admin' }, { key: idp.es256 }).split('.') as [string, string, string];
    const raw = Buffer.from(es[2], 'base64url');
    const der = derEcdsa(raw);
    await refused(`${es[0]}.${es[1]}.${b64url(der)}`, 'token_signature_invalid');
  });

  it('refuses a signature by another key that claims the kid of a real one', async () => {
    for (const real of [idp.rs256, idp.es256]) {
      const impostor = await generateKey(real.alg, real.kid);
      await refused(idp.sign({ sub: 'admin' }, { key: impostor }), 'token_signature_invalid');
    }
  });

  it('refuses kid path traversal and injection, whatever the key it was signed with', async () => {
    const attacker = await generateKey('RS256');
    const kids = [
      '../../dev/null',
      '/dev/null',
      '../../../../../../etc/passwd',
      "' OR '1'='1",
      'x|cat /etc/passwd',
      'a\u0000b',
    ];
    for (const kid of kids) {
      // RS256 scheme: an unknown kid.
      await refused(idp.sign({ sub: 'admin' }, { key: attacker, header: { kid } }), 'token_key_unknown');
      // HS256 with an empty key (what /dev/null holds): HS256 is not allowed on the RS256 scheme,
      await refused(hs256({ sub: 'admin' }, { kid, key: '' }), 'token_signature_invalid');
      // and the HMAC scheme verifies with its secret, never with a key named by the token.
      await refused(hs256({ sub: 'admin' }, { kid, key: '' }), 'token_signature_invalid', '/hmac');
      await refused(
        hs256({ sub: 'admin' }, { kid, key: Buffer.alloc(1) }),
        'token_signature_invalid',
        '/hmac',
      );
    }
    // The IdP was only ever asked for its key set.
    assert.ok(idp.requests.every((r) => r.url === '/jwks.json'));
  });

  it('refuses a duplicate member, even correctly signed (parser differential)', async () => {
    const c = idp.claims({ sub: 'alice' });
    const base = `"iss":${JSON.stringify(c.iss)},"aud":${JSON.stringify(c.aud)},"iat":${c.iat},"exp":${c.exp}`;
    const payloads = [
      `{${base},"sub":"alice","sub":"admin"}`,
      `{"sub":"admin",${base},"sub":"alice"}`,
      `{${base},"sub":"alice","s\\u0075b":"admin"}`,
      `{${base},"sub":"alice","aud":"other"}`,
      `{${base},"sub":"alice","__proto__":{"sub":"admin"}}`,
    ];
    for (const payloadText of payloads) {
      await refused(idp.sign({}, { payloadText }), 'token_malformed');
    }
    const kid = JSON.stringify(idp.rs256.kid);
    for (const headerText of [
      `{"alg":"RS256","kid":${kid},"alg":"none"}`,
      `{"alg":"none","kid":${kid},"alg":"RS256"}`,
      `{"alg":"RS256","kid":"unknown","kid":${kid}}`,
    ]) {
      await refused(idp.sign({}, { headerText }), 'token_malformed');
    }
    // The control: the same payload without the duplicate passes.
    await accepted(idp.sign({}, { payloadText: `{${base},"sub":"alice"}` }));
  });

  it('refuses non-canonical base64url: padding, trailing bits, the standard alphabet, whitespace', async () => {
    // A payload whose encoding is not a multiple of 4 characters (so it has spare bits).
    let claims = idp.claims({ sub: 'alice' });
    for (let pad = ''; b64url(JSON.stringify(claims)).length % 4 !== 2; pad += 'x')
      claims = idp.claims({ pad });
    const h = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: idp.rs256.kid }));
    const p = b64url(JSON.stringify(claims));
    const token = signRaw(h, p);
    await accepted(token);
    const s = token.split('.')[2]!;

    // Padding, signed over as sent (a lenient decoder sees the same claims, and the signature verifies).
    await refused(signRaw(h, `${p}==`), 'token_malformed');
    await refused(`${h}.${p}.${s}==`, 'token_malformed');
    // Stray trailing bits: the same bytes, another string.
    await refused(signRaw(h, withTrailingBits(p)!), 'token_malformed');
    assert.ok(withTrailingBits(s), 'an RS256 signature (256 bytes) has spare bits');
    await refused(`${h}.${p}.${withTrailingBits(s)}`, 'token_malformed');
    // The standard base64 alphabet.
    let standard = idp.sign();
    for (let i = 0; !/[-_]/.test(standard.split('.')[2]!) && i < 50; i++) standard = idp.sign({ n: i });
    const [sh, sp, ss] = standard.split('.') as [string, string, string];
    await accepted(standard);
    await refused(`${sh}.${sp}.${ss.replaceAll('-', '+').replaceAll('_', '/')}`, 'token_malformed');
    // Whitespace inside the token.
    await refused(`${h}.${p} .${s}`, 'token_malformed');
    await refused(`${h}. ${p}.${s}`, 'token_malformed');
    // An impossible length (1 mod 4).
    assert.equal(`${s}AAA`.length % 4, 1);
    await refused(`${h}.${p}.${s}AAA`, 'token_malformed');
  });
});

/** ECDSA P-256 r||s (64 bytes) as an ASN.1 DER SEQUENCE of two INTEGERs. */
function derEcdsa(raw: Buffer): Buffer {
  const int = (b: Buffer) => {
    let v = b;
    while (v.length > 1 && v[0] === 0 && v[1]! < 0x80) v = v.subarray(1);
    if (v[0]! >= 0x80) v = Buffer.concat([Buffer.from([0]), v]);
    return Buffer.concat([Buffer.from([0x02, v.length]), v]);
  };
  const body = Buffer.concat([int(raw.subarray(0, 32)), int(raw.subarray(32))]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}
