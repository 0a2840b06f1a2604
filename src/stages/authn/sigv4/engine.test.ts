import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  ALGORITHM,
  canonicalRequest,
  deriveSigningKey,
  EMPTY_SHA256,
  parseSigV4,
  payloadHashOf,
  replayKey,
  type SignedRequestInput,
  SigningKeyCache,
  type SigV4Auth,
  stringToSign,
  UNSIGNED_PAYLOAD,
  verifySigV4,
} from './engine.ts';

const AKID = 'AKIDEXAMPLE';
const SECRET = 'test/secret+key';
const REGION = 'eu-west-1';
const SERVICE = 'execute-api';
const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);
const AMZ = '20240501T120000Z';
const HOST = 'api.example.com';

/**
 * A test signer built on the engine's own canonicalisation: it proves that every part of the
 * request is covered (tampering tests) and drives the time and scope rules. Whether the
 * canonicalisation itself is right is asserted on literal strings below, against AWS's vectors
 * (vectors.test.ts) and against real clients (clients.test.ts).
 */
function signatureOf(
  input: SignedRequestInput,
  auth: SigV4Auth,
  payloadHash: string,
  secret = SECRET,
): string {
  const key = deriveSigningKey(secret, auth.date, auth.region, auth.service);
  return createHmac('sha256', key)
    .update(stringToSign(auth, canonicalRequest(input, auth, payloadHash)))
    .digest('hex');
}

function authFor(
  amzDate: string,
  signedHeaders: string[],
  presigned: boolean,
  scope = { region: REGION, service: SERVICE },
) {
  return {
    accessKeyId: AKID,
    date: amzDate.slice(0, 8),
    amzDate,
    timestampMs: 0,
    ...scope,
    signedHeaders,
    signature: '',
    presigned,
  };
}

interface Req {
  method?: string;
  target?: string;
  headers?: [string, string][];
  body?: string;
  amzDate?: string;
  secret?: string;
  signedHeaders?: string[];
  scope?: { region: string; service: string };
}

function sign(r: Req = {}): SignedRequestInput {
  const method = r.method ?? 'GET';
  const target = r.target ?? '/';
  const amzDate = r.amzDate ?? AMZ;
  const rawHeaders = ['Host', HOST, 'X-Amz-Date', amzDate, ...(r.headers ?? []).flat()];
  const names =
    r.signedHeaders ??
    [...new Set(rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase()))].sort();
  const auth = authFor(amzDate, names, false, r.scope);
  const signature = signatureOf(
    { method, target, rawHeaders },
    auth,
    payloadHashOf(Buffer.from(r.body ?? '')),
    r.secret,
  );
  const credential = `${AKID}/${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  return {
    method,
    target,
    rawHeaders: [
      ...rawHeaders,
      'Authorization',
      `${ALGORITHM} Credential=${credential}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
    ],
  };
}

const enc = (s: string) => encodeURIComponent(s);

function presign(
  r: { path?: string; query?: [string, string][]; expires?: number; amzDate?: string; token?: string } = {},
) {
  const amzDate = r.amzDate ?? AMZ;
  const params: [string, string][] = [
    ...(r.query ?? []),
    ['X-Amz-Algorithm', ALGORITHM],
    ['X-Amz-Credential', `${AKID}/${amzDate.slice(0, 8)}/${REGION}/${SERVICE}/aws4_request`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', String(r.expires ?? 300)],
    ['X-Amz-SignedHeaders', 'host'],
    ...(r.token === undefined ? [] : ([['X-Amz-Security-Token', r.token]] as [string, string][])),
  ];
  const unsigned = {
    method: 'GET',
    target: `${r.path ?? '/file'}?${params.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&')}`,
    rawHeaders: ['Host', HOST],
  };
  const signature = signatureOf(unsigned, authFor(amzDate, ['host'], true), UNSIGNED_PAYLOAD);
  return { ...unsigned, target: `${unsigned.target}&X-Amz-Signature=${signature}` };
}

/** 'ok', or the reason the request is refused (parse, then verify). */
function outcome(
  input: SignedRequestInput,
  o: { body?: string; payloadHash?: string; now?: number; secret?: string; maxExpiry?: number } = {},
) {
  const parsed = parseSigV4(input);
  if (!parsed.ok) return parsed.absent ? 'absent' : parsed.reason;
  const r = verifySigV4(input, parsed.auth, {
    secret: o.secret ?? SECRET,
    payloadHash: o.payloadHash ?? payloadHashOf(Buffer.from(o.body ?? '')),
    nowMs: o.now ?? NOW,
    clockSkewMs: 5 * 60_000,
    maxPresignedExpirySec: o.maxExpiry ?? 900,
    region: REGION,
    service: SERVICE,
  });
  return r.ok ? 'ok' : r.reason;
}

function malformed(input: SignedRequestInput, detail: RegExp) {
  const r = parseSigV4(input);
  assert.equal(r.ok, false);
  if (r.ok || r.absent) assert.fail('expected signature_malformed, got absent');
  assert.equal(r.reason, 'signature_malformed');
  assert.match(r.detail, detail);
}

/** Replace the value of the first header line named `name` (any case). */
function withHeader(input: SignedRequestInput, name: string, value: string): SignedRequestInput {
  const raw = [...input.rawHeaders];
  const i = raw.findIndex((h, j) => j % 2 === 0 && h.toLowerCase() === name);
  raw[i + 1] = value;
  return { ...input, rawHeaders: raw };
}

const authHeader = (input: SignedRequestInput) =>
  input.rawHeaders[input.rawHeaders.indexOf('Authorization') + 1]!;

describe('parseSigV4', () => {
  it('returns the header-form fields', () => {
    const input = sign({ headers: [['X-Amz-Content-Sha256', EMPTY_SHA256]] });
    const r = parseSigV4(input);
    assert.ok(r.ok);
    assert.deepEqual(r.auth, {
      accessKeyId: AKID,
      date: '20240501',
      amzDate: AMZ,
      timestampMs: NOW,
      region: REGION,
      service: SERVICE,
      signedHeaders: ['host', 'x-amz-content-sha256', 'x-amz-date'],
      signature: /Signature=([0-9a-f]{64})$/.exec(authHeader(input))![1],
      presigned: false,
      contentSha256: EMPTY_SHA256,
    });
    assert.equal(replayKey(r.auth), `sigv4:${r.auth.signature}`);
  });

  it('is absent without SigV4 credentials, a Bearer token included', () => {
    assert.equal(outcome({ method: 'GET', target: '/', rawHeaders: ['Host', HOST] }), 'absent');
    assert.equal(
      outcome({ method: 'GET', target: '/?x-amz-date=1', rawHeaders: ['Authorization', 'Bearer abc'] }),
      'absent',
    );
    assert.equal(outcome({ method: 'GET', target: '/a%zz', rawHeaders: ['Host', HOST] }), 'absent');
  });

  it('accepts components in any order and without spaces after commas', () => {
    const input = sign();
    const m = /^AWS4-HMAC-SHA256 (Credential=[^,]+), (SignedHeaders=[^,]+), (Signature=\w+)$/.exec(
      authHeader(input),
    )!;
    assert.equal(
      outcome(withHeader(input, 'authorization', `AWS4-HMAC-SHA256 ${m[3]},${m[1]},${m[2]}`)),
      'ok',
    );
  });

  it('refuses a repeated Authorization header, and header plus query auth', () => {
    const input = sign();
    malformed(
      { ...input, rawHeaders: [...input.rawHeaders, 'authorization', authHeader(input)] },
      /more than one Authorization/,
    );
    malformed(
      { ...input, rawHeaders: [...input.rawHeaders, 'Authorization', 'Bearer x'] },
      /more than one Authorization/,
    );
    malformed(
      { ...input, target: '/?X-Amz-Algorithm=AWS4-HMAC-SHA256' },
      /both an Authorization header and a presigned query/,
    );
  });

  it('refuses malformed Authorization headers', () => {
    const good = authHeader(sign());
    const sig = /Signature=(\w+)/.exec(good)![1]!;
    const cred = `${AKID}/20240501/${REGION}/${SERVICE}/aws4_request`;
    const variants: [string, RegExp][] = [
      [good.replace('AWS4-HMAC-SHA256', 'aws4-hmac-sha256'), /is not "AWS4-HMAC-SHA256/],
      [good.replace('AWS4-HMAC-SHA256', 'AWS4-ECDSA-P256-SHA256'), /is not "AWS4-HMAC-SHA256/],
      [`AWS4-HMAC-SHA256 Credential=${cred}, SignedHeaders=host;x-amz-date`, /lacks/],
      [`${good}, Signature=${sig}`, /repeated/],
      [`${good}, Extra=1`, /unknown/],
      [`AWS4-HMAC-SHA256 Credential=${cred}, SignedHeaders=, Signature=${sig}`, /empty/],
      [good.replace(sig, sig.toUpperCase()), /64 lowercase hex/],
      [good.replace(sig, sig.slice(2)), /64 lowercase hex/],
      [good.replace('/aws4_request', ''), /credential is not/],
      [good.replace('/aws4_request', '/aws4_reqest'), /credential is not/],
      [good.replace(AKID, 'AKID-EX'), /alphanumeric/],
      [good.replace('20240501/', '20240502/'), /different days/],
      [good.replace('host;x-amz-date', 'x-amz-date;host'), /sorted and unique/],
      [good.replace('host;x-amz-date', 'host;host;x-amz-date'), /sorted and unique/],
      [good.replace('host;x-amz-date', 'Host;x-amz-date'), /upper-case/],
      [good.replace('host;x-amz-date', 'host;;x-amz-date'), /empty/],
      [good.replace('host;x-amz-date', 'x-amz-date'), /does not include host/],
      [good.replace('host;x-amz-date', 'host'), /does not include x-amz-date/],
    ];
    for (const [value, detail] of variants) malformed(withHeader(sign(), 'authorization', value), detail);
  });

  it('refuses a malformed, repeated or missing X-Amz-Date', () => {
    for (const date of [
      '2024-05-01T12:00:00Z',
      '20240501T120000',
      '20240230T120000Z',
      '20240501T240000Z',
      '20240501T125960Z',
    ]) {
      malformed(withHeader(sign(), 'x-amz-date', date), /X-Amz-Date|different days/);
    }
    const input = sign();
    malformed({ ...input, rawHeaders: [...input.rawHeaders, 'X-Amz-Date', AMZ] }, /exactly one x-amz-date/);
    malformed(
      { ...input, rawHeaders: input.rawHeaders.slice(0, 2).concat(input.rawHeaders.slice(4)) },
      /exactly one x-amz-date/,
    );
  });

  it('refuses a signed header that is absent', () => {
    const input = sign({ headers: [['X-Custom', 'v']] });
    malformed(
      {
        ...input,
        rawHeaders: input.rawHeaders.filter((h, i, a) => h !== 'X-Custom' && a[i - 1] !== 'X-Custom'),
      },
      /signed header x-custom is absent/,
    );
  });

  it('requires a session token to be signed', () => {
    const signed = parseSigV4(sign({ headers: [['X-Amz-Security-Token', 'tok']] }));
    assert.ok(signed.ok);
    assert.equal(signed.auth.securityToken, 'tok');
    const input = sign();
    malformed(
      { ...input, rawHeaders: [...input.rawHeaders, 'X-Amz-Security-Token', 'tok'] },
      /x-amz-security-token is not signed/,
    );
    malformed({ ...input, target: '/?X-Amz-Security-Token=tok' }, /X-Amz-Security-Token in the query/);
  });

  it('requires x-amz-content-sha256 to be signed, and a digest or UNSIGNED-PAYLOAD', () => {
    const input = sign();
    malformed(
      { ...input, rawHeaders: [...input.rawHeaders, 'x-amz-content-sha256', EMPTY_SHA256] },
      /not signed/,
    );
    malformed(sign({ headers: [['x-amz-content-sha256', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD']] }), /neither/);
    const r = parseSigV4(sign({ headers: [['x-amz-content-sha256', UNSIGNED_PAYLOAD]] }));
    assert.ok(r.ok && r.auth.contentSha256 === UNSIGNED_PAYLOAD);
  });

  it('refuses a target that is not visible ASCII with valid escapes', () => {
    const input = sign();
    malformed({ ...input, target: '/a%zz' }, /valid escapes/);
    malformed({ ...input, target: '/a?b=%' }, /valid escapes/);
    malformed({ ...input, target: '/café' }, /visible ASCII/);
    malformed({ ...input, target: 'http://h/' }, /origin-form/);
    malformed({ ...input, target: '/a?b=%C3' }, /not UTF-8/);
  });

  it('parses a presigned URL', () => {
    const r = parseSigV4(presign({ token: 'tok', expires: 600 }));
    assert.ok(r.ok);
    assert.equal(r.auth.presigned, true);
    assert.equal(r.auth.expiresSec, 600);
    assert.equal(r.auth.securityToken, 'tok');
    assert.deepEqual(r.auth.signedHeaders, ['host']);
  });

  it('refuses malformed presigned queries', () => {
    const good = presign().target;
    const variants: [string, RegExp][] = [
      [good.replace(/&X-Amz-Expires=\d+/, ''), /each once/],
      [`${good}&X-Amz-Date=${AMZ}`, /each once/],
      [`${good}&x-amz-signature=${'0'.repeat(64)}`, /another case/],
      [
        good.replace('X-Amz-Algorithm=AWS4-HMAC-SHA256', 'X-Amz-Algorithm=AWS4-HMAC-SHA1'),
        /X-Amz-Algorithm is not/,
      ],
      [good.replace('X-Amz-Expires=300', 'X-Amz-Expires=0'), /X-Amz-Expires/],
      [good.replace('X-Amz-Expires=300', 'X-Amz-Expires=0300'), /X-Amz-Expires/],
      [good.replace('X-Amz-Expires=300', 'X-Amz-Expires=604801'), /X-Amz-Expires/],
      [
        good.replace('X-Amz-SignedHeaders=host', 'X-Amz-SignedHeaders=x-custom'),
        /does not include host|absent/,
      ],
      [`${good}&X-Amz-Security-Token=a&X-Amz-Security-Token=b`, /more than one X-Amz-Security-Token/],
    ];
    for (const [target, detail] of variants) malformed({ ...presign(), target }, detail);
    malformed(
      { ...presign(), rawHeaders: ['Host', HOST, 'X-Amz-Security-Token', 'tok'] },
      /header on a presigned/,
    );
  });
});

describe('canonicalRequest', () => {
  const canon = (target: string, headers: string[] = [], signed = ['host'], uriEscapePath = true) =>
    canonicalRequest(
      { method: 'GET', target, rawHeaders: ['Host', HOST, ...headers] },
      authFor(AMZ, signed, false),
      EMPTY_SHA256,
      {
        uriEscapePath,
      },
    ).split('\n');

  it('decodes, RFC 3986-encodes and sorts the query; a wire + is a literal plus', () => {
    const [, , query] = canon('/p?b=2&a=x%20y&c=x+y&d=%2B&e&f=&u=%C3%A9&a=1&B=3&t=~&s=%2f&&q=!*');
    assert.equal(query, 'B=3&a=1&a=x%20y&b=2&c=x%2By&d=%2B&e=&f=&q=%21%2A&s=%2F&t=~&u=%C3%A9');
  });

  it('sorts by name, then value (not by the joined pair)', () => {
    // As strings, "a-b=1" < "a=2"; SigV4 sorts names first, and "a" < "a-b".
    assert.equal(canon('/?a-b=1&a=2')[2], 'a=2&a-b=1');
  });

  it('encodes each wire path segment once more, after removing empty and dot segments', () => {
    assert.equal(
      canon('/a%20b/c+d=e/%2F/caf%C3%A9//x/./y/../z/')[1],
      '/a%2520b/c%2Bd%3De/%252F/caf%25C3%25A9/x/z/',
    );
    assert.equal(canon('/%2E%2E/a')[1], '/%252E%252E/a');
    assert.equal(canon('/a/..')[1], '/');
    assert.equal(canon('/a/b/..')[1], '/a');
  });

  it('uses the wire path as is without uriEscapePath (S3)', () => {
    assert.equal(canon('/a%20b//./c', [], ['host'], false)[1], '/a%20b//./c');
  });

  it('joins repeated header lines with commas and folds whitespace', () => {
    const lines = canon('/', ['X-Multi', 'a', 'x-multi', ' b \t  c ', 'Other', 'z'], ['host', 'x-multi']);
    assert.deepEqual(lines.slice(3), [`host:${HOST}`, 'x-multi:a,b c', '', 'host;x-multi', EMPTY_SHA256]);
  });
});

describe('verifySigV4', () => {
  it('verifies a GET with a query and a POST with a JSON body', () => {
    assert.equal(outcome(sign({ target: '/items?b=2&a=x%20y&c=%2B' })), 'ok');
    const body = '{"name":"widget","qty":2}';
    const post = sign({
      method: 'POST',
      target: '/items',
      body,
      headers: [['Content-Type', 'application/json']],
    });
    assert.equal(outcome(post, { body }), 'ok');
    assert.equal(outcome(post, { body: `${body} ` }), 'signature_invalid');
  });

  it('detects tampering with method, path, query, a signed header or the body', () => {
    const body = '{"a":1}';
    const input = sign({ method: 'PUT', target: '/a/b?x=1', body, headers: [['X-Tenant', 't1']] });
    assert.equal(outcome(input, { body }), 'ok');
    assert.equal(outcome({ ...input, method: 'POST' }, { body }), 'signature_invalid');
    assert.equal(outcome({ ...input, target: '/a/c?x=1' }, { body }), 'signature_invalid');
    assert.equal(outcome({ ...input, target: '/a/b?x=2' }, { body }), 'signature_invalid');
    assert.equal(outcome({ ...input, target: '/a/b?x=1&y=2' }, { body }), 'signature_invalid');
    assert.equal(outcome(withHeader(input, 'x-tenant', 't2'), { body }), 'signature_invalid');
    assert.equal(
      outcome({ ...input, rawHeaders: [...input.rawHeaders, 'X-Tenant', 't2'] }, { body }),
      'signature_invalid',
    );
    assert.equal(outcome(input, { body: '{"a":2}' }), 'signature_invalid');
    assert.equal(outcome(input, { payloadHash: UNSIGNED_PAYLOAD }), 'signature_invalid');
    // Unsigned headers may change: they are not covered, and not forwarded as trusted.
    assert.equal(outcome({ ...input, rawHeaders: [...input.rawHeaders, 'User-Agent', 'x'] }, { body }), 'ok');
  });

  it('refuses a wrong secret, and a scope of another region or service', () => {
    assert.equal(outcome(sign(), { secret: `${SECRET}x` }), 'signature_invalid');
    assert.equal(
      outcome(sign({ scope: { region: 'us-east-1', service: SERVICE } })),
      'signature_credential_unknown',
    );
    assert.equal(outcome(sign({ scope: { region: REGION, service: 's3' } })), 'signature_credential_unknown');
  });

  it('accepts X-Amz-Date within the clock skew in both directions, not beyond', () => {
    const input = sign();
    assert.equal(outcome(input, { now: NOW + 5 * 60_000 }), 'ok');
    assert.equal(outcome(input, { now: NOW - 5 * 60_000 }), 'ok');
    assert.equal(outcome(input, { now: NOW + 5 * 60_000 + 1 }), 'signature_expired');
    assert.equal(outcome(input, { now: NOW - 5 * 60_000 - 1 }), 'signature_expired');
  });

  it('verifies a session token it signed, and refuses a swapped one', () => {
    const input = sign({ headers: [['X-Amz-Security-Token', 'tok-1']] });
    assert.equal(outcome(input), 'ok');
    assert.equal(outcome(withHeader(input, 'x-amz-security-token', 'tok-2')), 'signature_invalid');
  });

  it('verifies presigned URLs within their lifetime only', () => {
    const input = presign({ path: '/files/a%20b', query: [['versionId', '3']], expires: 300, token: 'tok' });
    const o = { payloadHash: UNSIGNED_PAYLOAD };
    assert.equal(outcome(input, o), 'ok');
    assert.equal(outcome(input, { ...o, now: NOW + 300_000 }), 'ok');
    assert.equal(outcome(input, { ...o, now: NOW + 300_001 }), 'signature_expired');
    assert.equal(outcome(input, { ...o, now: NOW - 5 * 60_000 }), 'ok');
    assert.equal(outcome(input, { ...o, now: NOW - 5 * 60_000 - 1 }), 'signature_expired');
    assert.equal(outcome(input, { ...o, maxExpiry: 299 }), 'signature_expired');
    assert.equal(
      outcome({ ...input, target: input.target.replace('versionId=3', 'versionId=4') }, o),
      'signature_invalid',
    );
    assert.equal(outcome({ ...input, target: input.target.replace('tok', 'tak') }, o), 'signature_invalid');
    assert.equal(outcome(input, { ...o, secret: 'other' }), 'signature_invalid');
  });

  it('refuses, without throwing, an auth that does not match the input', () => {
    const parsed = parseSigV4(sign({ headers: [['X-Custom', 'v']] }));
    assert.ok(parsed.ok);
    const r = verifySigV4({ method: 'GET', target: '/', rawHeaders: ['Host', HOST] }, parsed.auth, {
      secret: SECRET,
      payloadHash: EMPTY_SHA256,
      nowMs: NOW,
      clockSkewMs: 60_000,
      maxPresignedExpirySec: 900,
      region: REGION,
      service: SERVICE,
    });
    assert.deepEqual(r, {
      ok: false,
      reason: 'signature_malformed',
      detail: 'signed header x-amz-date is absent',
    });
  });
});

describe('signing keys', () => {
  it('caches derived keys, evicting the least recently used', () => {
    const cache = new SigningKeyCache(2);
    const a = cache.get('s1', '20240501', REGION, SERVICE);
    assert.deepEqual(a, deriveSigningKey('s1', '20240501', REGION, SERVICE));
    cache.get('s2', '20240501', REGION, SERVICE);
    assert.equal(cache.get('s1', '20240501', REGION, SERVICE), a); // hit: same Buffer, now most recent
    cache.get('s3', '20240501', REGION, SERVICE); // evicts s2
    assert.equal(cache.size, 2);
    assert.equal(cache.get('s1', '20240501', REGION, SERVICE), a);
    assert.notEqual(cache.get('s1', '20240502', REGION, SERVICE), a);
  });

  it('payloadHashOf is the hex SHA-256 of the body', () => {
    assert.equal(payloadHashOf(Buffer.alloc(0)), EMPTY_SHA256);
  });
});
