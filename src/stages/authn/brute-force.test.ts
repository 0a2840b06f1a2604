import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from '../../store/memory.ts';
import { BruteForceGuard } from './brute-force.ts';

const OPTIONS = {
  windowMs: 60_000,
  delayAfter: 2,
  delayMs: 100,
  maxDelayMs: 350,
  lockoutAfter: 5,
  lockoutMs: 30_000,
};

describe('BruteForceGuard', () => {
  it('delays failures past delayAfter, doubling up to maxDelay', () => {
    const guard = new BruteForceGuard(new MemoryStore(), OPTIONS);
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((n) => guard.delayFor(n)),
      [0, 0, 100, 200, 350, 350],
    );
  });

  it('locks an IP out at lockoutAfter failures, for lockoutMs', async () => {
    let now = 0;
    const store = new MemoryStore({ now: () => now });
    const guard = new BruteForceGuard(store, OPTIONS);
    for (let i = 1; i < 5; i++) assert.equal((await guard.fail('203.0.113.9', null)).lockedOut, false);
    assert.equal((await guard.fail('203.0.113.9', null)).lockedOut, true);
    assert.equal(await guard.ipLockedFor('203.0.113.9'), 30_000);
    assert.equal(await guard.ipLockedFor('203.0.113.10'), 0, 'another IP is not locked out');
    now += 30_000;
    assert.equal(await guard.ipLockedFor('203.0.113.9'), 0, 'the lockout expires');
    await store.close();
  });

  it('locks a credential out whatever IPs the failures come from (distributed guessing)', async () => {
    const store = new MemoryStore();
    const guard = new BruteForceGuard(store, OPTIONS);
    let locked = false;
    for (let i = 1; i <= 5; i++) locked = (await guard.fail(`198.51.100.${i}`, 'key:abc')).lockedOut;
    assert.equal(locked, true);
    assert.ok((await guard.credentialLockedFor('key:abc')) > 0);
    assert.equal(await guard.credentialLockedFor('key:other'), 0);
    await store.close();
  });

  it('forgets the failures of an IP and credential after a success', async () => {
    const store = new MemoryStore();
    const guard = new BruteForceGuard(store, OPTIONS);
    await guard.fail('203.0.113.9', 'key:abc');
    await guard.fail('203.0.113.9', 'key:abc');
    assert.equal(await guard.failures('203.0.113.9'), 2);
    await guard.succeed('203.0.113.9', 'key:abc');
    assert.equal(await guard.failures('203.0.113.9'), 0);
    assert.equal((await guard.fail('203.0.113.9', 'key:abc')).failures, 1, 'counting starts again');
    await store.close();
  });
});
