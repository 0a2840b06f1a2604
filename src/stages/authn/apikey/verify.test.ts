import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateApiKey } from './format.ts';
import { type IssuedSecret, KeyStore } from './store.ts';
import { sealSigV4Secret, unsealSigV4Secret, verifyApiKey } from './verify.ts';

const PEPPER = 'another-test-pepper-of-32-bytes-or-more';
const NOW = Date.parse('2025-03-01T12:00:00.000Z');
const HOUR = 3_600_000;

function tokenOf(secret: IssuedSecret): string {
  assert.equal(secret.kind, 'apiKey');
  return secret.kind === 'apiKey' ? secret.token : '';
}

function oneKey(expiresAt?: string) {
  const issued = new KeyStore([]).create(
    { kind: 'apiKey', owner: 'alice', scopes: ['read'], expiresAt },
    PEPPER,
    NOW,
  );
  return { store: issued.store, record: issued.record, token: tokenOf(issued.secret) };
}

/** The same token with a different (well-formed) secret. */
function wrongSecret(token: string): string {
  const last = token.at(-1) === 'A' ? 'B' : 'A';
  return token.slice(0, -1) + last;
}

describe('verifyApiKey', () => {
  it('accepts a valid key and returns its record and public id', () => {
    const { store, record, token } = oneKey();
    const v = verifyApiKey(token, store, PEPPER, NOW);
    assert.equal(v.ok, true);
    assert.equal(v.ok && v.record, record);
    assert.equal(v.credentialId, record.id);
  });

  it('refuses a wrong secret as api_key_invalid, with the id for brute-force counting', () => {
    const { store, record, token } = oneKey();
    const v = verifyApiKey(wrongSecret(token), store, PEPPER, NOW);
    assert.deepEqual(v, {
      ok: false,
      reason: 'api_key_invalid',
      detail: `API key ${record.id}: wrong secret`,
      credentialId: record.id,
    });
  });

  it('refuses a key verified under another pepper', () => {
    const { store, token } = oneKey();
    const v = verifyApiKey(token, store, `${PEPPER}!`, NOW);
    assert.equal(!v.ok && v.reason, 'api_key_invalid');
  });

  it('refuses an unknown id as api_key_invalid', () => {
    const { store } = oneKey();
    const other = generateApiKey();
    const v = verifyApiKey(other.token, store, PEPPER, NOW);
    assert.equal(!v.ok && v.reason, 'api_key_invalid');
    assert.equal(v.credentialId, other.id);
    assert.match(!v.ok ? v.detail : '', /unknown id/);
  });

  it('refuses malformed tokens without a credential id', () => {
    const { store, token, record } = oneKey();
    const malformed = [
      '',
      token.replace('rk_', 'pk_'),
      token.replace(`rk_${record.id}`, `rk_${record.id.slice(1)}`),
      `${token}x`,
      ` ${token}`,
      `${token} `,
      `${token}\n`,
      `Bearer ${token}`,
      token.toUpperCase(),
    ];
    for (const t of malformed) {
      const v = verifyApiKey(t, store, PEPPER, NOW);
      assert.equal(!v.ok && v.reason, 'api_key_invalid', JSON.stringify(t));
      assert.equal(v.credentialId, undefined);
    }
  });

  it('answers api_key_revoked only to the right secret', () => {
    const { store, record, token } = oneKey();
    const revoked = store.revoke(record.id, NOW);
    const v = verifyApiKey(token, revoked, PEPPER, NOW + 1);
    assert.equal(!v.ok && v.reason, 'api_key_revoked');
    assert.equal(v.credentialId, record.id);
    const probe = verifyApiKey(wrongSecret(token), revoked, PEPPER, NOW + 1);
    assert.equal(!probe.ok && probe.reason, 'api_key_invalid', 'status is not revealed without the secret');
  });

  it('answers api_key_expired at and after the expiry, only to the right secret', () => {
    const { store, token } = oneKey(new Date(NOW + HOUR).toISOString());
    assert.equal(verifyApiKey(token, store, PEPPER, NOW + HOUR - 1).ok, true);
    const v = verifyApiKey(token, store, PEPPER, NOW + HOUR);
    assert.equal(!v.ok && v.reason, 'api_key_expired');
    const probe = verifyApiKey(wrongSecret(token), store, PEPPER, NOW + HOUR);
    assert.equal(!probe.ok && probe.reason, 'api_key_invalid');
  });

  it('keeps both keys valid during a rotation overlap, then only the new one', () => {
    const { store, record, token } = oneKey();
    const rotated = store.rotate(record.id, HOUR, NOW, PEPPER);
    const fresh = tokenOf(rotated.secret);
    assert.equal(verifyApiKey(token, rotated.store, PEPPER, NOW + HOUR - 1).ok, true);
    assert.equal(verifyApiKey(fresh, rotated.store, PEPPER, NOW + HOUR - 1).ok, true);
    const old = verifyApiKey(token, rotated.store, PEPPER, NOW + HOUR);
    assert.equal(!old.ok && old.reason, 'api_key_expired');
    assert.match(!old.ok ? old.detail : '', /rotated to/);
    assert.equal(verifyApiKey(fresh, rotated.store, PEPPER, NOW + HOUR).ok, true);
  });

  it('answers key_store_unavailable when there is no store (fail closed)', () => {
    const { token, record } = oneKey();
    const v = verifyApiKey(token, null, PEPPER, NOW);
    assert.equal(!v.ok && v.reason, 'key_store_unavailable');
    assert.equal(v.credentialId, record.id);
  });
});

describe('SigV4 secret sealing', () => {
  it('round-trips, uses a fresh IV each time, and detects tampering', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const a = sealSigV4Secret(secret, PEPPER);
    const b = sealSigV4Secret(secret, PEPPER);
    assert.notEqual(a, b);
    assert.ok(!a.includes(secret));
    const record = { id: 'RKAAAAAAAAAAAAAAAAAA', kind: 'sigv4' as const, sealed: a };
    assert.equal(unsealSigV4Secret(record, PEPPER), secret);
    const raw = Buffer.from(a, 'base64url');
    raw[14]! ^= 1;
    assert.throws(
      () => unsealSigV4Secret({ ...record, sealed: raw.toString('base64url') }, PEPPER),
      /does not open/,
    );
    assert.throws(() => unsealSigV4Secret({ ...record, sealed: 'AAAA' }, PEPPER), /does not open/);
  });
});
