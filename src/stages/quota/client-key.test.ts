import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ipKey, valueKey } from './client-key.ts';

describe('ipKey', () => {
  it('keeps IPv4 addresses whole', () => {
    assert.equal(ipKey('203.0.113.7', 64), '203.0.113.7');
  });

  it('counts IPv6 clients per prefix, whatever the host part (address rotation within a /64)', () => {
    const a = ipKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd', 64);
    const b = ipKey('2001:db8:1:2::1', 64);
    assert.equal(a, '2001:db8:1:2/64');
    assert.equal(b, a);
    assert.notEqual(ipKey('2001:db8:1:3::1', 64), a, 'the next /64 is another client');
  });

  it('masks a prefix that ends inside a group, and keeps whole addresses at /128', () => {
    assert.equal(ipKey('2001:db8:abcd:ffff::1', 56), '2001:db8:abcd:ff00/56');
    assert.equal(ipKey('2001:db8::1', 128), '2001:db8::1');
    assert.equal(ipKey('::1', 64), '0:0:0:0/64');
  });
});

describe('valueKey', () => {
  it('keeps short printable values', () => {
    assert.equal(valueKey('tenant-42'), 'tenant-42');
  });

  it('hashes long, non-ASCII, hash-tag or hash-like values, so no key is chosen by the client', () => {
    const long = valueKey('x'.repeat(10_000));
    assert.match(long, /^#[A-Za-z0-9_-]{22}$/);
    assert.notEqual(valueKey('caf\u00e9'), 'caf\u00e9');
    assert.notEqual(valueKey('a{b}'), 'a{b}');
    assert.notEqual(valueKey('a b'), 'a b');
    // A client cannot send a value equal to another's hashed key.
    assert.notEqual(valueKey(long), long);
  });
});
