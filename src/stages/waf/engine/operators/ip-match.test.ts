import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createOperator } from './index.ts';
import { FakeTx, rejects, vectors } from './vectors.test-helper.ts';

vectors('ipMatch', '127.0.0.1,::1', [
  ['127.0.0.1', true],
  ['::1', true],
  ['::ffff:127.0.0.1', true],
  ['127.0.0.2', false],
  ['not an ip', false],
  ['', false],
]);
vectors('ipMatch', '10.0.0.0/8, 192.168.1.0/24,2001:db8::/32', [
  ['10.255.1.2', true],
  ['192.168.1.77', true],
  ['192.168.2.1', false],
  ['2001:DB8:1::5', true],
  ['2001:db9::1', false],
]);
rejects('ipMatch', '10.0.0.0/8,10.0.0.300', /not an IPv4 or IPv6 address/);
rejects('ipMatch', '10.0.0.0/33', /prefix/);
rejects('ipMatch', '', /no addresses/);

test('@ipMatchFromFile reads one block per line, with comments', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-ipf-'));
  writeFileSync(join(dir, 'ips.data'), '# office\n203.0.113.0/24\n\n2001:db8::1\n');
  for (const name of ['ipMatchFromFile', 'ipMatchF']) {
    const op = createOperator(name, 'ips.data', { dir, file: 'r.conf', line: 1 });
    assert.equal(op.match('203.0.113.9', new FakeTx()), true);
    assert.equal(op.match('2001:db8::1', new FakeTx()), true);
    assert.equal(op.match('198.51.100.1', new FakeTx()), false);
  }
  writeFileSync(join(dir, 'bad.data'), '203.0.113.0/24\nnonsense\n');
  assert.throws(
    () => createOperator('ipMatchFromFile', 'bad.data', { dir, file: 'r.conf', line: 1 }),
    /nonsense/,
  );
});
