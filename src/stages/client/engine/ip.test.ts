import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CidrSet, canonicalIp, parseCidr } from './ip.ts';

describe('canonicalIp', () => {
  const vectors: [input: string, canonical: string][] = [
    ['10.0.0.1', '10.0.0.1'],
    // IPv4-mapped IPv6 (RFC 4291 §2.5.5.2), however it is spelled, is the IPv4 address.
    ['::ffff:10.0.0.1', '10.0.0.1'],
    ['::FFFF:10.0.0.1', '10.0.0.1'],
    ['::ffff:a00:1', '10.0.0.1'],
    ['0:0:0:0:0:ffff:10.0.0.1', '10.0.0.1'],
    ['0000:0000:0000:0000:0000:FFFF:0A00:0001', '10.0.0.1'],
    // Other IPv6 addresses in RFC 5952 form: lower case, zeros compressed.
    ['::1', '::1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    // Not mapped: IPv4-translated and IPv4-compatible stay IPv6.
    ['::ffff:0:1.2.3.4', '::ffff:0:102:304'],
    // Not an address: left for the caller's isIP check (lower-cased only).
    ['Not-An-IP', 'not-an-ip'],
    ['fe80::1%eth0', 'fe80::1%eth0'],
  ];
  for (const [input, canonical] of vectors) {
    it(`${input} → ${canonical}`, () => assert.equal(canonicalIp(input), canonical));
  }
});

describe('parseCidr', () => {
  const good: [text: string, address: string, prefix: number, family: 'ipv4' | 'ipv6'][] = [
    ['10.0.0.0/8', '10.0.0.0', 8, 'ipv4'],
    ['10.0.0.1', '10.0.0.1', 32, 'ipv4'],
    ['0.0.0.0/0', '0.0.0.0', 0, 'ipv4'],
    [' 192.168.1.0/24 ', '192.168.1.0', 24, 'ipv4'],
    ['::1', '::1', 128, 'ipv6'],
    ['2001:db8::/32', '2001:db8::', 32, 'ipv6'],
    ['::ffff:10.0.0.0/104', '::ffff:10.0.0.0', 104, 'ipv6'],
  ];
  for (const [text, address, prefix, family] of good) {
    it(`parses ${JSON.stringify(text)}`, () =>
      assert.deepEqual(parseCidr(text), { address, prefix, family }));
  }

  const bad: [text: string, message: RegExp][] = [
    ['', /not an IPv4 or IPv6 address/],
    ['localhost', /not an IPv4 or IPv6 address/],
    ['10.0.0', /not an IPv4 or IPv6 address/],
    ['192.168.1.300/24', /not an IPv4 or IPv6 address/],
    ['010.0.0.1', /not an IPv4 or IPv6 address/],
    ['10.0.0.0 /8', /not an IPv4 or IPv6 address/],
    ['10.0.0.0/33', /longer than 32 bits/],
    ['::/129', /longer than 128 bits/],
    ['10.0.0.0/', /not a prefix length/],
    ['10.0.0.0/-1', /not a prefix length/],
    ['10.0.0.0/08', /not a prefix length/],
    ['10.0.0.0/8.5', /not a prefix length/],
    ['10.0.0.0/ 8', /not a prefix length/],
    ['10.0.0.0/8/8', /not a CIDR block/],
    ['fe80::1%eth0/64', /zone id/],
  ];
  for (const [text, message] of bad) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      const result = parseCidr(text);
      assert.equal(typeof result, 'string');
      assert.match(result as string, message);
    });
  }
});

describe('CidrSet', () => {
  it('matches addresses inside its blocks and nothing else', () => {
    const set = new CidrSet(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32']);
    assert.equal(set.size, 3);
    assert.equal(set.has('10.255.0.1'), true);
    assert.equal(set.has('11.0.0.1'), false);
    assert.equal(set.has('192.168.1.7'), true);
    assert.equal(set.has('192.168.1.8'), false);
    assert.equal(set.has('2001:db8:1::9'), true);
    assert.equal(set.has('2001:db9::1'), false);
  });

  it('matches an IPv4-mapped IPv6 address against IPv4 blocks', () => {
    const set = new CidrSet(['10.0.0.0/8']);
    assert.equal(set.has('::ffff:10.1.2.3'), true);
    assert.equal(set.has('::ffff:11.1.2.3'), false);
  });

  it('is empty, and matches nothing, with no blocks', () => {
    const set = new CidrSet([]);
    assert.equal(set.size, 0);
    assert.equal(set.has('127.0.0.1'), false);
  });

  it('never matches text that is not an address', () => {
    const set = new CidrSet(['0.0.0.0/0', '::/0']);
    for (const text of ['', 'unknown', '1.2.3', '127.0.0.1, 10.0.0.1', '[::1]']) {
      assert.equal(set.has(text), false, text);
    }
  });

  it('throws on the first bad entry with its index, instead of skipping it', () => {
    assert.throws(
      () => new CidrSet(['10.0.0.0/8', '::1', 'nope/8']),
      (err: Error & { index?: number }) => err.index === 2 && /nope/.test(err.message),
    );
  });
});
