import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LIMIT_VECTORS, playVector } from './limit-vectors.ts';
import { decideBatch, type QuotaPeriod, quotaKey, quotaWindow } from './limits.ts';
import { MemoryStore } from './memory.ts';

const DAY = 86_400_000;

describe('rate limits and quotas through MemoryStore (the vectors RedisStore also runs)', () => {
  for (const vector of LIMIT_VECTORS) {
    it(vector.name, async () => {
      let now = 0;
      const store = new MemoryStore({ now: () => now });
      for (const r of await playVector(store, (ms) => (now = ms), vector, 'v:')) {
        assert.deepEqual(r.actual, r.expected, `${vector.name}, step ${r.step}`);
      }
      await store.close();
    });
  }
});

describe('quotaWindow', () => {
  const at = (iso: string) => Date.parse(iso);
  const cases: [QuotaPeriod, string, string, string][] = [
    ['day', '2026-03-10T23:59:59.999Z', '2026-03-10T00:00:00.000Z', '2026-03-11T00:00:00.000Z'],
    ['day', '2026-03-11T00:00:00.000Z', '2026-03-11T00:00:00.000Z', '2026-03-12T00:00:00.000Z'],
    // 1970-01-01 was a Thursday: its ISO week began on Monday 1969-12-29.
    ['week', '1970-01-01T00:00:00.000Z', '1969-12-29T00:00:00.000Z', '1970-01-05T00:00:00.000Z'],
    ['week', '2026-03-08T23:59:59.999Z', '2026-03-02T00:00:00.000Z', '2026-03-09T00:00:00.000Z'],
    ['week', '2026-03-09T00:00:00.000Z', '2026-03-09T00:00:00.000Z', '2026-03-16T00:00:00.000Z'],
    // A week across a year end stays one week.
    ['week', '2027-01-01T10:00:00.000Z', '2026-12-28T00:00:00.000Z', '2027-01-04T00:00:00.000Z'],
    ['month', '2024-02-29T12:00:00.000Z', '2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
    ['month', '2100-02-28T12:00:00.000Z', '2100-02-01T00:00:00.000Z', '2100-03-01T00:00:00.000Z'],
    ['month', '2026-12-31T23:59:59.999Z', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
  ];
  for (const [period, now, start, end] of cases) {
    it(`${period} of ${now} is [${start}, ${end})`, () => {
      const w = quotaWindow(period, at(now));
      assert.deepEqual(w, { start: at(start), end: at(end), id: at(start) / DAY });
    });
  }

  it('names a window by its first day in the quota key', () => {
    const check = {
      kind: 'quota',
      key: 'q:plan:gold',
      period: 'month',
      limit: 1,
      cost: 1,
      enforce: true,
    } as const;
    assert.equal(
      quotaKey(check, at('2024-02-29T12:00:00Z')),
      `q:plan:gold:${at('2024-02-01T00:00:00Z') / DAY}`,
    );
  });
});

describe('decideBatch', () => {
  it('writes nothing when an enforcing limit refuses', () => {
    const checks = [
      { kind: 'rate', key: 'a', intervalMs: 1000, burst: 1, cost: 1, enforce: true },
      { kind: 'quota', key: 'q', period: 'day', limit: 10, cost: 1, enforce: true },
    ] as const;
    const full = decideBatch(checks, 0, (i) => (i === 0 ? 1000 : 0));
    assert.equal(full.outcome.allowed, false);
    assert.deepEqual(full.writes, [undefined, undefined]);
  });

  it('charges the TAT by cost·T and keeps it as long as it is ahead of now', () => {
    const checks = [{ kind: 'rate', key: 'a', intervalMs: 250, burst: 4, cost: 2, enforce: true }] as const;
    const { writes } = decideBatch(checks, 10_000, () => 10_100);
    assert.deepEqual(writes, [{ value: 10_600, ttlMs: 600 }]);
  });

  it('keeps a quota window a minute past its end', () => {
    const checks = [{ kind: 'quota', key: 'q', period: 'day', limit: 10, cost: 3, enforce: true }] as const;
    const { writes } = decideBatch(checks, DAY - 1000, () => 4);
    assert.deepEqual(writes, [{ value: 7, ttlMs: 1000 + 60_000 }]);
  });

  it('admits an empty batch', () => {
    assert.deepEqual(decideBatch([], 0, () => undefined).outcome, { allowed: true, states: [] });
  });
});
