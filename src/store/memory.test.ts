import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from './memory.ts';

describe('MemoryStore', () => {
  const clock = () => {
    let t = 1_000;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  it('counts within a window that ends when it began plus the ttl, not extended by increments', async () => {
    const c = clock();
    const store = new MemoryStore({ now: c.now });
    assert.equal(await store.increment('k', 1000), 1);
    c.advance(600);
    assert.equal(await store.increment('k', 1000), 2);
    c.advance(500);
    assert.equal(await store.count('k'), 0, 'the window ended 1000 ms after the first increment');
    assert.equal(await store.increment('k', 1000), 1);
    await store.close();
  });

  it('accepts a replay-guard key once until it expires', async () => {
    const c = clock();
    const store = new MemoryStore({ now: c.now });
    assert.equal(await store.setIfAbsent('sig', 100), true);
    assert.equal(await store.setIfAbsent('sig', 100), false);
    c.advance(100);
    assert.equal(await store.setIfAbsent('sig', 100), true);
    await store.close();
  });

  it('reports the time left of a key and deletes keys', async () => {
    const c = clock();
    const store = new MemoryStore({ now: c.now });
    await store.set('lock', 5000);
    c.advance(1000);
    assert.equal(await store.ttl('lock'), 4000);
    await store.delete('lock');
    assert.equal(await store.ttl('lock'), 0);
    await store.close();
  });

  it('stays within maxKeys when flooded with distinct keys (an attacker spraying IPs)', async () => {
    const store = new MemoryStore({ maxKeys: 100 });
    for (let i = 0; i < 1000; i++) await store.increment(`ip:${i}`, 60_000);
    assert.ok(store.size <= 100, `size ${store.size}`);
    assert.equal(await store.count('ip:999'), 1, 'the newest keys are kept');
    await store.close();
  });

  it('sweeps expired keys', async () => {
    const c = clock();
    const store = new MemoryStore({ now: c.now });
    for (let i = 0; i < 10; i++) await store.set(`k${i}`, 10);
    c.advance(11);
    store.sweep();
    assert.equal(store.size, 0);
    await store.close();
  });
});
