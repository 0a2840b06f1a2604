import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { generateApiKey, generateSigV4Credential, hashSecret, parseApiKey } from './format.ts';

describe('API key format', () => {
  it('generates rk_<16 base32 chars>_<43 base64url chars> that parses back', () => {
    for (let i = 0; i < 200; i++) {
      const key = generateApiKey();
      assert.match(key.id, /^[a-z2-7]{16}$/);
      assert.match(key.secret, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(key.token, `rk_${key.id}_${key.secret}`);
      assert.deepEqual(parseApiKey(key.token), { id: key.id, secret: key.secret });
    }
  });

  it('generates distinct keys', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => generateApiKey().id));
    assert.equal(ids.size, 1000);
  });

  it('parses a secret that itself contains _ and -', () => {
    const secret = `_-${'a'.repeat(39)}_-`;
    assert.deepEqual(parseApiKey(`rk_abcdefghijklmnop_${secret}`), { id: 'abcdefghijklmnop', secret });
  });

  it('refuses anything but the exact shape', () => {
    const { id, secret, token } = generateApiKey();
    const bad = [
      '',
      `RK_${id}_${secret}`,
      `rk-${id}_${secret}`,
      `xk_${id}_${secret}`,
      `${id}_${secret}`,
      `rk_${id.slice(1)}_${secret}`,
      `rk_${id}a_${secret}`,
      `rk_${id.toUpperCase()}_${secret}`,
      `rk_${id.slice(0, 15)}1_${secret}`, // 1 is not base32
      `rk_${id}_${secret.slice(1)}`,
      `rk_${id}_${secret}A`,
      `rk_${id}_${secret.slice(0, 42)}=`,
      `rk_${id}_${secret.slice(0, 42)}+`,
      ` ${token}`,
      `${token} `,
      `${token}\n`,
      `${token}\r\n`,
      `rk_${id} ${secret}`,
      `rk_${id}_${secret}_${secret}`,
    ];
    for (const t of bad) assert.equal(parseApiKey(t), null, JSON.stringify(t));
  });

  it('hashes a secret as hex HMAC-SHA-256 under the pepper', () => {
    const pepper = 'p'.repeat(32);
    const expected = createHmac('sha256', pepper).update('secret').digest('hex');
    assert.equal(hashSecret(pepper, 'secret'), expected);
    assert.match(expected, /^[0-9a-f]{64}$/);
    assert.notEqual(hashSecret('q'.repeat(32), 'secret'), expected);
  });

  it('generates SigV4 credentials that fit the access key id pattern', () => {
    for (let i = 0; i < 100; i++) {
      const c = generateSigV4Credential();
      assert.match(c.accessKeyId, /^RK[A-Z2-7]{18}$/);
      assert.match(c.accessKeyId, /^[A-Z0-9]{16,128}$/);
      assert.match(c.secretAccessKey, /^[A-Za-z0-9+/]{40}$/);
    }
  });
});
