import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitToken } from './token.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64url');
const HEADER = b64('{"alg":"RS256","typ":"JWT","kid":"k1"}');
const PAYLOAD = b64('{"sub":"alice","exp":2000000000}');
const SIG = b64('not-a-real-signature');
const token = (h = HEADER, p = PAYLOAD, s = SIG) => `${h}.${p}.${s}`;

function refused(t: string, detail: RegExp, reason = 'token_malformed', max = 8192) {
  const r = splitToken(t, max);
  assert.equal(r.ok, false, t);
  if (r.ok) return;
  assert.equal(r.reason, reason);
  assert.match(r.detail, detail);
  // The detail goes to logs: it never carries the token itself.
  assert.ok(!r.detail.includes(t.slice(0, 20)));
}

describe('splitToken', () => {
  it('splits a well-formed compact JWS', () => {
    const r = splitToken(token(), 8192);
    assert.ok(r.ok);
    assert.deepEqual(r.header, { alg: 'RS256', typ: 'JWT', kid: 'k1' });
    assert.deepEqual(r.payload, { sub: 'alice', exp: 2000000000 });
    assert.equal(r.signingInput, `${HEADER}.${PAYLOAD}`);
    assert.equal(Buffer.from(r.signature).toString(), 'not-a-real-signature');
  });

  it('refuses a token over the size limit before parsing it', () => {
    refused('x'.repeat(101), /longer than 100 bytes/, 'token_too_large', 100);
    refused(token(), /longer than 50 bytes/, 'token_too_large', 50);
    // Counted in bytes, not characters.
    refused('é'.repeat(60), /longer/, 'token_too_large', 100);
  });

  it('refuses anything but three parts', () => {
    refused(`${HEADER}.${PAYLOAD}`, /2 parts/);
    refused(`${token()}.${SIG}`, /4 parts/);
    refused(`${HEADER}.${b64('k')}.${b64('iv')}.${PAYLOAD}.${SIG}`, /JWE/);
  });

  it('refuses empty parts, including the unsecured-JWT empty signature', () => {
    refused(token(HEADER, PAYLOAD, ''), /signature: empty/);
    refused(token(HEADER, '', SIG), /payload: empty/);
    refused(token('', PAYLOAD, SIG), /header: empty/);
  });

  it('refuses padding, whitespace and non-base64url characters', () => {
    const padded = b64('{"alg":"RS256"}x'); // 16 bytes: 22 chars, would take "=="
    assert.equal(padded.length % 4, 2);
    refused(token(`${padded}==`), /header: not base64url/);
    refused(token(HEADER, `${PAYLOAD} `), /payload: not base64url/);
    refused(token(HEADER, PAYLOAD, `${SIG.slice(0, 4)}\n${SIG.slice(4)}`), /signature: not base64url/);
    refused(token(HEADER.replace(/./, '+')), /not base64url/);
    refused(token(HEADER, PAYLOAD, SIG.replace(/-|_|[a-z]/, '/')), /not base64url/);
  });

  it('refuses an impossible length', () => {
    refused(token(HEADER, PAYLOAD, 'A'), /impossible base64url length/);
    refused(token(HEADER, PAYLOAD, 'AAAAA'), /impossible base64url length/);
  });

  it('refuses non-zero trailing bits (a second spelling of the same bytes)', () => {
    // "a" is 1 byte → 2 chars; "YQ" is canonical, "YR" decodes to the same byte.
    assert.equal(Buffer.from('YR', 'base64url').toString(), 'a');
    refused(token(HEADER, PAYLOAD, 'YR'), /signature: non-zero trailing bits/);
    // "ab" is 2 bytes → 3 chars; "YWI" is canonical, "YWJ" decodes to the same bytes.
    assert.equal(Buffer.from('YWJ', 'base64url').toString(), 'ab');
    refused(token(HEADER, PAYLOAD, 'YWJ'), /trailing bits/);
    assert.ok(splitToken(token(HEADER, PAYLOAD, 'YWI'), 8192).ok);
    assert.ok(splitToken(token(HEADER, PAYLOAD, 'YQ'), 8192).ok);
  });

  it('refuses a header or payload that is not a JSON object', () => {
    refused(token(b64('[1]')), /header: not a JSON object/);
    refused(token(HEADER, b64('"alice"')), /payload: not a JSON object/);
    refused(token(HEADER, b64('null')), /payload: not a JSON object/);
    refused(token(HEADER, b64('{"sub":')), /payload: invalid JSON/);
  });

  it('refuses invalid UTF-8 and a byte order mark', () => {
    const bad = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]).toString(
      'base64url',
    );
    refused(token(HEADER, bad), /payload: not UTF-8/);
    refused(token(HEADER, b64('\ufeff{"sub":"a"}')), /payload: invalid JSON/);
  });

  it('refuses duplicate members, in the payload and in the header', () => {
    refused(token(HEADER, b64('{"sub":"a","sub":"b"}')), /payload: invalid JSON: duplicate member "sub"/);
    refused(token(b64('{"alg":"RS256","alg":"HS256"}')), /header: invalid JSON: duplicate member "alg"/);
    refused(token(HEADER, b64('{"sub":"a","s\\u0075b":"b"}')), /duplicate member "sub"/);
  });

  it('requires a string alg and refuses "none" in any case', () => {
    refused(token(b64('{"typ":"JWT"}')), /no "alg"/);
    refused(token(b64('{"alg":5}')), /no "alg"/);
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      refused(token(b64(`{"alg":"${alg}"}`)), /alg "none" is never accepted/);
    }
  });

  it('refuses jku, x5u and jwk headers (keys named by the token are never followed)', () => {
    refused(token(b64('{"alg":"RS256","jku":"https://evil.example/jwks"}')), /"jku" is never followed/);
    refused(token(b64('{"alg":"RS256","x5u":"https://evil.example/cert"}')), /"x5u" is never followed/);
    refused(token(b64('{"alg":"RS256","jwk":{"kty":"RSA"}}')), /"jwk" is never followed/);
  });

  it('ignores x5c (never used to select a key)', () => {
    const r = splitToken(token(b64('{"alg":"RS256","x5c":["MIIB"]}')), 8192);
    assert.ok(r.ok);
  });
});
