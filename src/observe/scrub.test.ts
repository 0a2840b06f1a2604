import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCardNumber, MASKS, scrub } from './scrub.ts';

const JWT =
  'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MTcwMDAwMDAwMH0.c2lnbmF0dXJlLWJ5dGVz';
const KEY = `rk_abcdefghijklmnop_${'A'.repeat(20)}-_${'z'.repeat(21)}`;

describe('scrub', () => {
  it('masks a JWT wherever it appears', () => {
    assert.equal(scrub(`"path":"/debug/${JWT}"`), `"path":"/debug/${MASKS.jwt}"`);
    assert.equal(scrub(`token=${JWT}&x=1`), `token=${MASKS.jwt}&x=1`);
  });

  it('masks the secret of a Rampart API key and keeps its public id', () => {
    assert.equal(scrub(`key ${KEY} used`), `key rk_abcdefghijklmnop_${MASKS.secret} used`);
  });

  it('masks credentials after Bearer and Basic, also URL-encoded', () => {
    assert.equal(scrub('Authorization: Bearer abc.def-ghi_jkl'), `Authorization: Bearer ${MASKS.secret}`);
    assert.equal(scrub('auth=Basic%20dXNlcjpwYXNzd29yZA=='), `auth=Basic%20${MASKS.secret}`);
    assert.equal(scrub('basic authentication'), 'basic authentication', 'a word, not a credential');
    assert.equal(scrub('Bearer dXNlcjpwYXNz'), `Bearer ${MASKS.secret}`);
  });

  it('masks email addresses, plain and percent-encoded', () => {
    assert.equal(scrub('/users/jane.doe+x@example.co.uk/orders'), `/users/${MASKS.email}/orders`);
    assert.equal(scrub('q=jane%40example.com'), `q=${MASKS.email}`);
    assert.equal(scrub('@scope/package'), '@scope/package');
  });

  it('masks Luhn-valid card numbers, grouped or not, and leaves other numbers', () => {
    assert.equal(scrub('/pay/4111111111111111'), `/pay/${MASKS.card}`);
    assert.equal(scrub('card=4111 1111 1111 1111;'), `card=${MASKS.card};`);
    assert.equal(scrub('card=5500-0000-0000-0004'), `card=${MASKS.card}`);
    assert.equal(scrub('/orders/4111111111111112'), '/orders/4111111111111112', 'fails the Luhn check');
    assert.equal(scrub('/orders/123456789012'), '/orders/123456789012', 'too short');
    assert.equal(
      scrub('"reqId":"12345678-1234-4234-8234-123456789012"'),
      '"reqId":"12345678-1234-4234-8234-123456789012"',
      'a UUID is not a card number',
    );
    assert.equal(scrub('"time":"2026-12-04T03:05:04.123Z"'), '"time":"2026-12-04T03:05:04.123Z"');
  });

  it('returns the same string when there is nothing to mask', () => {
    const line = '"reqId":"35b4703c-d0f3-420f-a297-8504afaebba7","client":"127.0.0.1","status":200';
    assert.equal(scrub(line), line);
  });

  // Many near-misses of each pattern: a backtracking blow-up would not finish before the timeout.
  it('finishes on long hostile inputs (no catastrophic backtracking)', { timeout: 10_000 }, () => {
    const hostile = `${'a.'.repeat(20_000)}@${'b.'.repeat(20_000)} ${'1 '.repeat(20_000)} eyJ${'x'.repeat(20_000)}.`;
    assert.equal(typeof scrub(hostile), 'string');
  });
});

describe('isCardNumber', () => {
  it('checks Luhn and consistent grouping', () => {
    assert.equal(isCardNumber('4012888888881881'), true);
    assert.equal(isCardNumber('4012 8888-8888 1881'), false);
    assert.equal(isCardNumber('4012888888881882'), false);
  });
});
