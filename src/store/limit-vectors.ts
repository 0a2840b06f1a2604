/**
 * Test vectors for rate limits and quotas, shared by limits.test.ts (MemoryStore) and
 * redis.test.ts (RedisStore against a real redis-server, through the Lua script): the same
 * requests at the same instants must give the same figures through both stores. The expected
 * figures are worked out by hand in the comments, not computed by the code under test.
 *
 * Rate limits mostly use T = 1 minute, so every key's TTL (which runs on Redis's own clock
 * even when the decision uses a test clock) outlives a vector's few milliseconds of real time.
 */
import type { LimitCheck, LimitOutcome, LimitState, QuotaCheck, QuotaPeriod, RateCheck } from './limits.ts';
import type { StateStore } from './store.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** [allowed, remaining, resetMs, retryAfterMs] */
type Expected = readonly [boolean, number, number, number];

export interface LimitStep {
  /** ISO time, or milliseconds after the vector's `start`. */
  readonly at: string | number;
  readonly checks: readonly LimitCheck[];
  readonly allowed: boolean;
  readonly states: readonly Expected[];
}

export interface LimitVector {
  readonly name: string;
  readonly start: string;
  readonly steps: readonly LimitStep[];
}

function rate(key: string, burst: number, intervalMs = MIN, cost = 1, enforce = true): RateCheck {
  return { kind: 'rate', key, intervalMs, burst, cost, enforce };
}

function quota(key: string, period: QuotaPeriod, limit: number, cost = 1, enforce = true): QuotaCheck {
  return { kind: 'quota', key, period, limit, cost, enforce };
}

const burst3 = rate('burst', 3);
const frac = rate('frac', 2, MIN / 7); // T = 8571.428571428572 ms
const cost4 = rate('cost', 10, MIN, 4);
const cost2 = rate('cost', 10, MIN, 2);
const a2 = rate('all:a', 2);
const b5 = rate('all:b', 5);
const shadow1 = rate('shadow:s', 1, MIN, 1, false);
const enforce3 = rate('shadow:e', 3);
const r5 = rate('mixed:r', 5);
const qDay2 = quota('mixed:q', 'day', 2);
const day2 = quota('day', 'day', 2);
const week1 = quota('week', 'week', 1);
const month1 = quota('month', 'month', 1);

export const LIMIT_VECTORS: readonly LimitVector[] = [
  {
    // GCRA with burst 3 at 1/min: 3 at once, then one a minute; a TAT of t0+3T refuses until
    // t0+T; idle long enough, the bucket is full again.
    name: 'burst then steady rate, with retry-after and reset',
    start: '2026-01-05T00:00:00.000Z',
    steps: [
      { at: 0, checks: [burst3], allowed: true, states: [[true, 2, MIN, 0]] },
      { at: 0, checks: [burst3], allowed: true, states: [[true, 1, 2 * MIN, 0]] },
      { at: 0, checks: [burst3], allowed: true, states: [[true, 0, 3 * MIN, 0]] },
      { at: 0, checks: [burst3], allowed: false, states: [[false, 0, 3 * MIN, MIN]] },
      { at: MIN, checks: [burst3], allowed: true, states: [[true, 0, 3 * MIN, 0]] },
      { at: MIN, checks: [burst3], allowed: false, states: [[false, 0, 3 * MIN, MIN]] },
      // TAT t0+4T, now t0+1.5T: 2.5T ahead, one more would be 3.5T > 3T: retry in 0.5T.
      { at: 1.5 * MIN, checks: [burst3], allowed: false, states: [[false, 0, 2.5 * MIN, 0.5 * MIN]] },
      { at: 2 * MIN, checks: [burst3], allowed: true, states: [[true, 0, 3 * MIN, 0]] },
      { at: 10 * MIN, checks: [burst3], allowed: true, states: [[true, 2, MIN, 0]] },
    ],
  },
  {
    // T = 60000/7 ms is not an integer: the TAT must be kept exactly (not rounded to ms), and
    // the figures reported are ceil'd. After 8572 ms one unit is back (3T − 8572 ≤ 2T).
    name: 'fractional emission interval',
    start: '2026-01-05T00:00:00.000Z',
    steps: [
      { at: 0, checks: [frac], allowed: true, states: [[true, 1, 8572, 0]] },
      { at: 0, checks: [frac], allowed: true, states: [[true, 0, 17143, 0]] },
      { at: 0, checks: [frac], allowed: false, states: [[false, 0, 17143, 8572]] },
      { at: 8572, checks: [frac], allowed: true, states: [[true, 0, 17143, 0]] },
      // TAT t0+3T, now t0+8572: ahead 4T − 8572 − 2T = 8570.86 ms to wait.
      { at: 8572, checks: [frac], allowed: false, states: [[false, 0, 17143, 8571]] },
    ],
  },
  {
    name: 'a cost above 1 takes that many units',
    start: '2026-01-05T00:00:00.000Z',
    steps: [
      { at: 0, checks: [cost4], allowed: true, states: [[true, 6, 4 * MIN, 0]] },
      { at: 0, checks: [cost4], allowed: true, states: [[true, 2, 8 * MIN, 0]] },
      { at: 0, checks: [cost4], allowed: false, states: [[false, 2, 8 * MIN, 2 * MIN]] },
      { at: 0, checks: [cost2], allowed: true, states: [[true, 0, 10 * MIN, 0]] },
    ],
  },
  {
    // A refused request is counted against none of its limits: B, which would have admitted
    // it, reports itself as it was, and its next request sees 2 left, not 1.
    name: 'several limits: all or nothing',
    start: '2026-01-05T00:00:00.000Z',
    steps: [
      {
        at: 0,
        checks: [a2, b5],
        allowed: true,
        states: [
          [true, 1, MIN, 0],
          [true, 4, MIN, 0],
        ],
      },
      {
        at: 0,
        checks: [a2, b5],
        allowed: true,
        states: [
          [true, 0, 2 * MIN, 0],
          [true, 3, 2 * MIN, 0],
        ],
      },
      {
        at: 0,
        checks: [a2, b5],
        allowed: false,
        states: [
          [false, 0, 2 * MIN, MIN],
          [true, 3, 2 * MIN, 0],
        ],
      },
      { at: 0, checks: [b5], allowed: true, states: [[true, 2, 3 * MIN, 0]] },
    ],
  },
  {
    // A shadow limit over its capacity is reported but refuses nothing, and is not charged
    // (its reset does not grow); the enforcing limit alone decides.
    name: 'shadow limits',
    start: '2026-01-05T00:00:00.000Z',
    steps: [
      {
        at: 0,
        checks: [shadow1, enforce3],
        allowed: true,
        states: [
          [true, 0, MIN, 0],
          [true, 2, MIN, 0],
        ],
      },
      {
        at: 0,
        checks: [shadow1, enforce3],
        allowed: true,
        states: [
          [false, 0, MIN, MIN],
          [true, 1, 2 * MIN, 0],
        ],
      },
      {
        at: 0,
        checks: [shadow1, enforce3],
        allowed: true,
        states: [
          [false, 0, MIN, MIN],
          [true, 0, 3 * MIN, 0],
        ],
      },
      {
        at: 0,
        checks: [shadow1, enforce3],
        allowed: false,
        states: [
          [false, 0, MIN, MIN],
          [false, 0, 3 * MIN, MIN],
        ],
      },
    ],
  },
  {
    // At noon UTC the day quota resets in 12 h; once it refuses, the rate limit is not charged.
    name: 'a rate limit and a quota together',
    start: '2026-03-10T12:00:00.000Z',
    steps: [
      {
        at: 0,
        checks: [r5, qDay2],
        allowed: true,
        states: [
          [true, 4, MIN, 0],
          [true, 1, 12 * HOUR, 0],
        ],
      },
      {
        at: 0,
        checks: [r5, qDay2],
        allowed: true,
        states: [
          [true, 3, 2 * MIN, 0],
          [true, 0, 12 * HOUR, 0],
        ],
      },
      {
        at: 0,
        checks: [r5, qDay2],
        allowed: false,
        states: [
          [true, 3, 2 * MIN, 0],
          [false, 0, 12 * HOUR, 12 * HOUR],
        ],
      },
      { at: 0, checks: [r5], allowed: true, states: [[true, 2, 3 * MIN, 0]] },
    ],
  },
  {
    name: 'day quota: resets at 00:00 UTC',
    start: '2026-03-10T23:59:59.000Z',
    steps: [
      { at: 0, checks: [day2], allowed: true, states: [[true, 1, 1000, 0]] },
      { at: 0, checks: [day2], allowed: true, states: [[true, 0, 1000, 0]] },
      { at: 0, checks: [day2], allowed: false, states: [[false, 0, 1000, 1000]] },
      { at: '2026-03-11T00:00:00.000Z', checks: [day2], allowed: true, states: [[true, 1, DAY, 0]] },
      // 1 used, a cost of 2 does not fit in 2: refused, 1 left.
      {
        at: '2026-03-11T00:00:00.000Z',
        checks: [quota('day', 'day', 2, 2)],
        allowed: false,
        states: [[false, 1, DAY, DAY]],
      },
    ],
  },
  {
    // ISO 8601 weeks start on Monday: 2026-03-02 and 03-09 are Mondays, 03-08 a Sunday (still
    // the week of 03-02, not a new week as a Sunday-first calendar would have it).
    name: 'week quota: Monday to Sunday, UTC',
    start: '2026-03-02T00:00:00.000Z',
    steps: [
      { at: 0, checks: [week1], allowed: true, states: [[true, 0, 7 * DAY, 0]] },
      {
        at: '2026-03-08T12:00:00.000Z',
        checks: [week1],
        allowed: false,
        states: [[false, 0, 12 * HOUR, 12 * HOUR]],
      },
      { at: '2026-03-08T23:59:59.999Z', checks: [week1], allowed: false, states: [[false, 0, 1, 1]] },
      { at: '2026-03-09T00:00:00.000Z', checks: [week1], allowed: true, states: [[true, 0, 7 * DAY, 0]] },
    ],
  },
  {
    // Calendar months: February has 29 days in 2024 and 2000 (divisible by 400), 28 in 2023
    // and 2100 (divisible by 100, not 400); December rolls over into January of the next year.
    name: 'month quota: calendar months, leap years, year end',
    start: '2024-02-29T23:59:59.999Z',
    steps: [
      { at: 0, checks: [month1], allowed: true, states: [[true, 0, 1, 0]] },
      { at: 0, checks: [month1], allowed: false, states: [[false, 0, 1, 1]] },
      { at: '2024-03-01T00:00:00.000Z', checks: [month1], allowed: true, states: [[true, 0, 31 * DAY, 0]] },
      { at: '2000-02-28T00:00:00.000Z', checks: [month1], allowed: true, states: [[true, 0, 2 * DAY, 0]] },
      { at: '2023-02-01T00:00:00.000Z', checks: [month1], allowed: true, states: [[true, 0, 28 * DAY, 0]] },
      { at: '2100-02-28T23:00:00.000Z', checks: [month1], allowed: true, states: [[true, 0, HOUR, 0]] },
      { at: '2026-12-31T23:59:59.000Z', checks: [month1], allowed: true, states: [[true, 0, 1000, 0]] },
      { at: '2027-01-01T00:00:00.000Z', checks: [month1], allowed: true, states: [[true, 0, 31 * DAY, 0]] },
      { at: '2027-01-31T23:59:59.999Z', checks: [month1], allowed: false, states: [[false, 0, 1, 1]] },
    ],
  },
];

export function stepTime(vector: LimitVector, step: LimitStep): number {
  return typeof step.at === 'number' ? Date.parse(vector.start) + step.at : Date.parse(step.at);
}

function toOutcome(allowed: boolean, states: readonly Expected[]): LimitOutcome {
  return {
    allowed,
    states: states.map(
      ([a, remaining, resetMs, retryAfterMs]): LimitState => ({
        allowed: a,
        remaining,
        resetMs,
        retryAfterMs,
      }),
    ),
  };
}

/**
 * Play a vector through a store whose clock `setNow` moves, with every key under `keyPrefix`
 * (one fresh prefix per run keeps runs apart in a shared Redis). Returns, per step, what the
 * store answered and what the vector expects, for the caller's deepEqual.
 */
export async function playVector(
  store: StateStore,
  setNow: (ms: number) => void,
  vector: LimitVector,
  keyPrefix: string,
): Promise<{ step: number; actual: LimitOutcome; expected: LimitOutcome }[]> {
  const results = [];
  for (const [i, step] of vector.steps.entries()) {
    setNow(stepTime(vector, step));
    const checks = step.checks.map((c) => ({ ...c, key: `${keyPrefix}${c.key}` }));
    const actual = await store.consume(checks);
    results.push({ step: i, actual, expected: toOutcome(step.allowed, step.states) });
  }
  return results;
}
