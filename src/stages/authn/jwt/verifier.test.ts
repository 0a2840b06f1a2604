import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  CompactSign,
  type CryptoKey,
  exportJWK,
  exportSPKI,
  type GenerateKeyPairResult,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';
import { JwksCache } from './jwks.ts';
import { checkJwtOptions, createJwtVerifier, type JwtVerdict, type JwtVerifierOptions } from './verifier.ts';

const ISS = 'https://idp.example';
const AUD = 'orders-api';
const NOW = 1_750_000_000; // seconds
const SECRET = 'a-test-secret-that-is-32-bytes!!';
const b64 = (text: string) => Buffer.from(text).toString('base64url');
const encode = (text: string) => new TextEncoder().encode(text);

let rsa: GenerateKeyPairResult;
let rsaOther: GenerateKeyPairResult;
let ec: GenerateKeyPairResult;
let ed: GenerateKeyPairResult;
let jwks: JWK[];

const OPTIONS = {
  issuers: [ISS],
  audiences: [AUD],
  algorithms: ['RS256', 'ES256', 'EdDSA'],
  clockSkewMs: 30_000,
  requiredClaims: ['sub', 'exp'],
  types: ['JWT', 'at+jwt'],
  requireType: false,
  maxTokenBytes: 8192,
  principalClaim: 'sub',
  now: () => NOW * 1000,
} satisfies Partial<JwtVerifierOptions>;

function keySet(fetchJson: (url: string) => Promise<unknown> = async () => ({ keys: jwks })) {
  return new JwksCache({
    jwksUri: `${ISS}/jwks`,
    issuers: [ISS],
    refreshIntervalMs: 300_000,
    cooldownMs: 30_000,
    maxStaleMs: 3_600_000,
    timeoutMs: 5_000,
    now: () => NOW * 1000,
    fetchJson,
  });
}

function verifier(extra: Partial<JwtVerifierOptions> = {}) {
  return createJwtVerifier({ ...OPTIONS, keys: keySet(), ...extra });
}

const CLAIMS = { iss: ISS, aud: AUD, sub: 'alice', iat: NOW - 10, exp: NOW + 300 };

interface SignOptions {
  alg?: string;
  kid?: string;
  typ?: string;
  key?: CryptoKey | Uint8Array;
}

function sign(claims: JWTPayload = {}, { alg = 'RS256', kid = 'rsa-1', typ = 'JWT', key }: SignOptions = {}) {
  return new SignJWT({ ...CLAIMS, ...claims })
    .setProtectedHeader({ alg, kid, typ })
    .sign(key ?? rsa.privateKey);
}

/** A JWS over exactly these payload bytes and header (what SignJWT would never produce). */
function signRaw(payload: string, header: Record<string, unknown> = { alg: 'RS256', kid: 'rsa-1' }) {
  return new CompactSign(encode(payload)).setProtectedHeader(header as { alg: string }).sign(rsa.privateKey);
}

async function refused(verdict: Promise<JwtVerdict>, token: string, reason: string, detail: RegExp) {
  const v = await verdict;
  assert.equal(v.ok, false, 'refused');
  if (v.ok) return v;
  assert.equal(v.reason, reason);
  assert.match(v.detail, detail);
  for (const part of token.split('.')) {
    if (part.length >= 8) assert.ok(!v.detail.includes(part.slice(0, 8)), 'detail never carries the token');
  }
  return v;
}

describe('createJwtVerifier', () => {
  before(async () => {
    [rsa, rsaOther, ec, ed] = await Promise.all([
      generateKeyPair('RS256'),
      generateKeyPair('RS256'),
      generateKeyPair('ES256'),
      generateKeyPair('EdDSA'),
    ]);
    jwks = [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256' },
      { ...(await exportJWK(ed.publicKey)), kid: 'ed-1' },
    ];
  });

  describe('accepts', () => {
    for (const [alg, kid, pair] of [
      ['RS256', 'rsa-1', () => rsa],
      ['ES256', 'ec-1', () => ec],
      ['EdDSA', 'ed-1', () => ed],
    ] as const) {
      it(`a valid ${alg} token`, async () => {
        const token = await sign({}, { alg, kid, key: pair().privateKey });
        const v = await verifier().verify(token);
        assert.ok(v.ok, JSON.stringify(v));
        assert.equal(v.subject, 'alice');
        assert.equal(v.claims.iss, ISS);
        assert.deepEqual(v.header, { alg, kid, typ: 'JWT' });
        assert.deepEqual(v.scopes, []);
      });
    }

    it('a valid HS256 token', async () => {
      const v = await createJwtVerifier({ ...OPTIONS, algorithms: ['HS256'], hmacSecret: SECRET }).verify(
        await sign({}, { alg: 'HS256', key: encode(SECRET) }),
      );
      assert.ok(v.ok, JSON.stringify(v));
      assert.equal(v.subject, 'alice');
    });

    it('times within the clock skew', async () => {
      const v = verifier();
      for (const claims of [{ exp: NOW - 29 }, { nbf: NOW + 29 }, { iat: NOW + 29 }]) {
        const verdict = await v.verify(await sign(claims));
        assert.ok(verdict.ok, JSON.stringify(claims));
      }
    });

    it('typ in any case, with or without application/, and absent unless requireType', async () => {
      const v = verifier();
      for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt', 'jwt']) {
        assert.ok((await v.verify(await sign({}, { typ }))).ok, typ);
      }
      const untyped = await new SignJWT(CLAIMS)
        .setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' })
        .sign(rsa.privateKey);
      assert.ok((await v.verify(untyped)).ok);
      await refused(
        verifier({ requireType: true }).verify(untyped),
        untyped,
        'token_claims_invalid',
        /typ missing/,
      );
    });

    it('the principal from the configured claim', async () => {
      const token = await sign({ email: 'alice@example.com' });
      const v = await verifier({ principalClaim: 'email' }).verify(token);
      assert.ok(v.ok);
      assert.equal(v.subject, 'alice@example.com');
      await refused(
        verifier({ principalClaim: 'client_id' }).verify(token),
        token,
        'token_claims_invalid',
        /claim "client_id" is not a non-empty string/,
      );
    });

    it('scopes from scope and scp, de-duplicated', async () => {
      const v = verifier();
      const both = await v.verify(
        await sign({ scope: 'orders:read  orders:write orders:read', scp: ['admin', 'orders:write', 7] }),
      );
      assert.ok(both.ok);
      assert.deepEqual(both.scopes, ['orders:read', 'orders:write', 'admin']);
      const scpString = await v.verify(await sign({ scp: 'a b' }));
      assert.ok(scpString.ok);
      assert.deepEqual(scpString.scopes, ['a', 'b']);
    });
  });

  describe('refuses', () => {
    it('an expired token, naming the verified subject', async () => {
      const token = await sign({ exp: NOW - 31 });
      const v = await refused(verifier().verify(token), token, 'token_expired', /expired 31s ago/);
      assert.equal(v.subject, 'alice');
    });

    it('a token not yet valid (nbf, and iat in the future)', async () => {
      const nbf = await sign({ nbf: NOW + 60 });
      assert.equal(
        (await refused(verifier().verify(nbf), nbf, 'token_not_yet_valid', /nbf is 60s in the future/))
          .subject,
        'alice',
      );
      const iat = await sign({ iat: NOW + 60 });
      assert.equal(
        (await refused(verifier().verify(iat), iat, 'token_not_yet_valid', /iat is 60s in the future/))
          .subject,
        'alice',
      );
    });

    it('a wrong issuer or audience', async () => {
      const iss = await sign({ iss: 'https://other.example' });
      await refused(
        verifier().verify(iss),
        iss,
        'token_claims_invalid',
        /iss "https:\/\/other.example" not accepted \(want https:\/\/idp.example\)/,
      );
      const aud = await sign({ aud: ['billing-api', 'x'] });
      await refused(
        verifier().verify(aud),
        aud,
        'token_claims_invalid',
        /aud \["billing-api","x"\] not accepted \(want orders-api\)/,
      );
    });

    it('a token missing a required claim', async () => {
      const token = await sign({ exp: undefined });
      await refused(verifier().verify(token), token, 'token_claims_invalid', /required claim "exp" missing/);
    });

    it('a principal claim that is not a non-empty string', async () => {
      for (const sub of [123, '']) {
        const token = await sign({ sub } as unknown as JWTPayload);
        await refused(verifier().verify(token), token, 'token_claims_invalid', /claim "sub"/);
      }
    });

    it('an alg outside the allowlist (ES256 token, RS256-only verifier)', async () => {
      const token = await sign({}, { alg: 'ES256', kid: 'ec-1', key: ec.privateKey });
      await refused(
        verifier({ algorithms: ['RS256'] }).verify(token),
        token,
        'token_signature_invalid',
        /alg "ES256" not accepted \(want RS256\)/,
      );
    });

    it('alg none', async () => {
      const token = `${b64('{"alg":"none","typ":"JWT"}')}.${b64(JSON.stringify(CLAIMS))}.`;
      await refused(verifier().verify(token), token, 'token_malformed', /signature: empty/);
      const withSig = `${b64('{"alg":"none"}')}.${b64(JSON.stringify(CLAIMS))}.${b64('x')}`;
      await refused(verifier().verify(withSig), withSig, 'token_malformed', /alg "none"/);
    });

    it('algorithm confusion: HS256 signed with the RSA public key as secret', async () => {
      const pem = await exportSPKI(rsa.publicKey);
      const token = await sign({}, { alg: 'HS256', key: encode(pem) });
      await refused(
        verifier({ algorithms: ['RS256'] }).verify(token),
        token,
        'token_signature_invalid',
        /alg "HS256" not accepted/,
      );
      // And the configuration that would make it possible is refused up front.
      assert.match(
        checkJwtOptions({ ...OPTIONS, algorithms: ['RS256', 'HS256'], keys: keySet() }) ?? '',
        /algorithm confusion/,
      );
      assert.throws(
        () =>
          createJwtVerifier({ ...OPTIONS, algorithms: ['RS256', 'HS256'], keys: keySet(), hmacSecret: pem }),
        /algorithm confusion/,
      );
    });

    it('a wrong typ', async () => {
      const token = await sign({}, { typ: 'logout+jwt' });
      await refused(
        verifier().verify(token),
        token,
        'token_claims_invalid',
        /typ "logout\+jwt" not accepted \(want JWT, at\+jwt\)/,
      );
    });

    it('a tampered payload, without naming its subject', async () => {
      const [h, , s] = (await sign()).split('.');
      const token = `${h}.${b64(JSON.stringify({ ...CLAIMS, sub: 'admin' }))}.${s}`;
      const v = await refused(
        verifier().verify(token),
        token,
        'token_signature_invalid',
        /signature does not verify/,
      );
      assert.equal(v.subject, undefined);
    });

    it('a token signed by a key not in the set (unknown kid, or a known kid with the wrong key)', async () => {
      const unknown = await sign({}, { kid: 'rsa-2', key: rsaOther.privateKey });
      await refused(
        verifier().verify(unknown),
        unknown,
        'token_key_unknown',
        /kid "rsa-2" is not in the key set/,
      );
      const forged = await sign({}, { kid: 'rsa-1', key: rsaOther.privateKey });
      await refused(
        verifier().verify(forged),
        forged,
        'token_signature_invalid',
        /signature does not verify/,
      );
    });

    it('a kid whose key is for another algorithm', async () => {
      const token = await sign({}, { alg: 'ES256', kid: 'rsa-1', key: ec.privateKey });
      await refused(verifier().verify(token), token, 'token_key_unknown', /no key in the key set/);
    });

    it('every token when the key set is unavailable (fail closed)', async () => {
      const token = await sign();
      const v = verifier({ keys: keySet(async () => Promise.reject(new Error('connect ECONNREFUSED'))) });
      await refused(v.verify(token), token, 'jwks_unavailable', /no keys fetched yet.*ECONNREFUSED/);
    });

    it('an oversized token, before parsing', async () => {
      const token = await sign({ pad: 'x'.repeat(9000) });
      await refused(verifier().verify(token), token, 'token_too_large', /longer than 8192 bytes/);
      await refused(verifier().verify('x'.repeat(10_000)), 'x'.repeat(10_000), 'token_too_large', /longer/);
    });

    it('non-canonical base64url: padding, whitespace, trailing bits', async () => {
      const token = await sign();
      const [h, p, s] = token.split('.') as [string, string, string];
      assert.equal(s.length % 4, 2); // RS256: 256 bytes → 342 chars
      const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const last = ALPHABET.indexOf(s.at(-1)!);
      const sloppy = `${s.slice(0, -1)}${ALPHABET[last | 1]}`;
      assert.deepEqual(
        Buffer.from(sloppy, 'base64url'),
        Buffer.from(s, 'base64url'),
        'same bytes, other spelling',
      );
      for (const [bad, detail] of [
        [`${h}.${p}.${s}==`, /signature: not base64url/],
        [`${h}.${p} .${s}`, /payload: not base64url/],
        [`${h}.${p}.${s.slice(0, 100)}\n${s.slice(100)}`, /signature: not base64url/],
        [`${h}.${p}.${sloppy}`, /signature: non-zero trailing bits/],
      ] as const) {
        await refused(verifier().verify(bad), bad, 'token_malformed', detail);
      }
    });

    it('a duplicate claim member that jose alone would accept', async () => {
      const payload = `{"iss":"${ISS}","aud":"${AUD}","sub":"alice","sub":"admin","exp":${NOW + 300}}`;
      const token = await signRaw(payload);
      // JSON.parse keeps the last "sub": without the strict parser this would be admin.
      const lenient = await jwtVerify(token, rsa.publicKey, { currentDate: new Date(NOW * 1000) });
      assert.equal(lenient.payload.sub, 'admin');
      await refused(
        verifier().verify(token),
        token,
        'token_malformed',
        /payload: invalid JSON: duplicate member "sub"/,
      );
      const escaped = await signRaw(payload.replace('"sub":"admin"', '"s\\u0075b":"admin"'));
      await refused(verifier().verify(escaped), escaped, 'token_malformed', /duplicate member "sub"/);
    });

    it('jku, x5u and jwk headers, even with a valid signature', async () => {
      const jwk = await exportJWK(rsa.publicKey);
      for (const [name, value] of [
        ['jku', 'https://evil.example/jwks'],
        ['x5u', 'https://evil.example/cert.pem'],
        ['jwk', jwk],
      ] as const) {
        const token = await signRaw(JSON.stringify(CLAIMS), { alg: 'RS256', kid: 'rsa-1', [name]: value });
        await refused(
          verifier().verify(token),
          token,
          'token_malformed',
          new RegExp(`"${name}" is never followed`),
        );
      }
    });

    it('a JWE', async () => {
      const token = `${b64('{"alg":"dir","enc":"A256GCM"}')}..${b64('iv')}.${b64('ct')}.${b64('tag')}`;
      await refused(verifier().verify(token), token, 'token_malformed', /JWE \(5 parts\) is not accepted/);
    });

    it('an HS256 token signed with another secret', async () => {
      const token = await sign({}, { alg: 'HS256', key: encode('another-secret-that-is-32-bytes!') });
      const v = createJwtVerifier({ ...OPTIONS, algorithms: ['HS256'], hmacSecret: SECRET });
      await refused(v.verify(token), token, 'token_signature_invalid', /signature does not verify/);
    });
  });
});

describe('checkJwtOptions', () => {
  const keys = () => keySet(async () => ({ keys: [] }));
  it('accepts a sound public-key or HMAC configuration', () => {
    assert.equal(checkJwtOptions({ ...OPTIONS, keys: keys() }), null);
    assert.equal(
      checkJwtOptions({ ...OPTIONS, algorithms: ['HS256', 'HS384'], hmacSecret: 'x'.repeat(48) }),
      null,
    );
  });

  for (const [name, options, problem] of [
    ['HMAC without a secret', { algorithms: ['HS256'] }, /need a secret/],
    ['HMAC with a key set', { algorithms: ['HS256'], hmacSecret: SECRET, keys: 'keys' }, /not a key set/],
    ['a short HMAC secret', { algorithms: ['HS256'], hmacSecret: 'x'.repeat(31) }, /at least 32 bytes/],
    [
      'a secret shorter than the HS512 hash',
      { algorithms: ['HS512'], hmacSecret: SECRET },
      /at least 64 bytes/,
    ],
    ['public keys without a key set', {}, /need a key set/],
    ['a secret with public-key algorithms', { hmacSecret: SECRET, keys: 'keys' }, /only used with HS\*/],
    [
      'mixed HS* and public-key algorithms',
      { algorithms: ['ES256', 'HS256'], keys: 'keys' },
      /algorithm confusion/,
    ],
    ['alg none', { algorithms: ['none'], keys: 'keys' }, /"none" is not supported/],
    ['no algorithms', { algorithms: [], keys: 'keys' }, /no algorithm/],
    ['a clock skew over 5 minutes', { clockSkewMs: 300_001, keys: 'keys' }, /at most 5m/],
  ] as const) {
    it(`refuses ${name}`, () => {
      const o = {
        ...OPTIONS,
        ...options,
        keys: 'keys' in options ? keys() : undefined,
      } as JwtVerifierOptions;
      assert.match(checkJwtOptions(o) ?? 'null', problem);
      assert.throws(() => createJwtVerifier(o), problem);
    });
  }

  it('summarizes the verifier in one line', () => {
    assert.equal(
      createJwtVerifier({ ...OPTIONS, keys: keys() }).summary,
      'JWT from https://idp.example for orders-api (RS256, ES256, EdDSA; keys https://idp.example/jwks)',
    );
  });
});
