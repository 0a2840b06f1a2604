/**
 * What a state store evaluates for rate limits and quotas: one request's limits, all of them
 * checked and committed atomically in one call (one round trip to Redis). The arithmetic here
 * is the reference the Redis Lua script mirrors; `limits.test.ts` and the Redis tests run the
 * same vectors through both.
 *
 * Rate limits use GCRA (the generic cell rate algorithm, ITU-T I.371): one number per key, the
 * theoretical arrival time (TAT). It has token-bucket semantics — `burst` requests at once,
 * refilled at one every `intervalMs` — without a background refill or a read-modify-write race.
 *
 * Quotas are counters over UTC calendar windows (day, ISO week starting Monday, month), so
 * "10,000 a month" resets at 00:00 UTC on the 1st, as a usage plan's customer expects.
 */

/** A GCRA limit: `burst` at once, then one request per `intervalMs`. */
export interface RateCheck {
  readonly kind: 'rate';
  /** Full store key (prefix, limit id and the caller's key value). */
  readonly key: string;
  /** Emission interval T: period ÷ requests (may be fractional). */
  readonly intervalMs: number;
  /** Bucket capacity (≥ 1). */
  readonly burst: number;
  /** Units this request consumes (≥ 1). */
  readonly cost: number;
  /** false: a shadow limit — evaluated and reported, never the reason a request is refused. */
  readonly enforce: boolean;
}

export type QuotaPeriod = 'day' | 'week' | 'month';

/** A quota: at most `limit` units per UTC calendar `period`. */
export interface QuotaCheck {
  readonly kind: 'quota';
  /** Store key without the window: the store appends the window's start (`:<epoch-day>`). */
  readonly key: string;
  readonly period: QuotaPeriod;
  readonly limit: number;
  readonly cost: number;
  readonly enforce: boolean;
}

export type LimitCheck = RateCheck | QuotaCheck;

export interface LimitState {
  /** This limit alone would admit the request. */
  readonly allowed: boolean;
  /** Units left after this request (if admitted), or now (if refused). */
  readonly remaining: number;
  /** Milliseconds until the limit is back to full capacity (rate) or the window ends (quota). */
  readonly resetMs: number;
  /** When refused by this limit: milliseconds until a request of this cost would pass; else 0. */
  readonly retryAfterMs: number;
}

export interface LimitOutcome {
  /** Every enforcing limit admitted the request; then (and only then) it was counted. */
  readonly allowed: boolean;
  /** One entry per check, in order. */
  readonly states: readonly LimitState[];
}

/**
 * Decide a batch at time `now` against current values, without writing. `read(i)` gives the
 * stored value of check i (TAT in ms for a rate, count for the quota's current window) or
 * undefined. Returns the outcome and, per check, the value to write back and its TTL (ms) when
 * the outcome is to commit (undefined: leave unchanged).
 *
 * Commit rule: nothing is written unless the request is admitted; when it is, every limit that
 * individually admits it is charged (a shadow limit already over its capacity is not).
 */
export function decideBatch(
  checks: readonly LimitCheck[],
  now: number,
  read: (i: number, check: LimitCheck) => number | undefined,
): { outcome: LimitOutcome; writes: ({ value: number; ttlMs: number } | undefined)[] } {
  const states: LimitState[] = [];
  const pending: ({ value: number; ttlMs: number } | undefined)[] = [];
  const values: (number | undefined)[] = [];
  let allowed = true;
  for (let i = 0; i < checks.length; i++) {
    const check = checks[i]!;
    const stored = read(i, check);
    values.push(stored);
    const step = check.kind === 'rate' ? rateStep(check, now, stored) : quotaStep(check, now, stored);
    states.push(step.state);
    pending.push(step.write);
    if (!step.state.allowed && check.enforce) allowed = false;
  }
  if (!allowed) {
    // Refused: report each limit as it is now (the same step at cost 0), not as if this request
    // had been counted — its units left and, for a rate, its reset (the TAT did not move).
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i]!;
      if (!states[i]!.allowed) continue;
      const idle =
        c.kind === 'rate'
          ? rateStep({ ...c, cost: 0 }, now, values[i])
          : quotaStep({ ...c, cost: 0 }, now, values[i]);
      states[i] = idle.state;
    }
    return { outcome: { allowed, states }, writes: checks.map(() => undefined) };
  }
  return { outcome: { allowed, states }, writes: pending };
}

function rateStep(
  check: RateCheck,
  now: number,
  stored: number | undefined,
): { state: LimitState; write: { value: number; ttlMs: number } | undefined } {
  const t = check.intervalMs;
  const tat = Math.max(stored ?? now, now);
  const newTat = tat + check.cost * t;
  // The bucket holds `burst` units: admitted while the new TAT is at most burst·T ahead of now.
  const limit = check.burst * t;
  const ahead = newTat - now;
  if (ahead > limit + 1e-9) {
    return {
      state: {
        allowed: false,
        remaining: Math.max(0, Math.floor((limit - (tat - now)) / t + 1e-9)),
        resetMs: Math.ceil(tat - now),
        retryAfterMs: Math.ceil(ahead - limit),
      },
      write: undefined,
    };
  }
  return {
    state: {
      allowed: true,
      remaining: Math.max(0, Math.floor((limit - ahead) / t + 1e-9)),
      resetMs: Math.ceil(ahead),
      retryAfterMs: 0,
    },
    write: { value: newTat, ttlMs: Math.max(1, Math.ceil(ahead)) },
  };
}

function quotaStep(
  check: QuotaCheck,
  now: number,
  stored: number | undefined,
): { state: LimitState; write: { value: number; ttlMs: number } | undefined } {
  const window = quotaWindow(check.period, now);
  const used = stored ?? 0;
  const resetMs = window.end - now;
  if (used + check.cost > check.limit) {
    return {
      state: { allowed: false, remaining: Math.max(0, check.limit - used), resetMs, retryAfterMs: resetMs },
      write: undefined,
    };
  }
  return {
    state: { allowed: true, remaining: check.limit - used - check.cost, resetMs, retryAfterMs: 0 },
    // Kept a minute past the window's end, so a clock a little behind still finds it.
    write: { value: used + check.cost, ttlMs: resetMs + 60_000 },
  };
}

const DAY = 86_400_000;

/**
 * The UTC calendar window holding `now`: its start and end (ms) and an id for the key. Weeks
 * start on Monday (ISO 8601); 1970-01-01 was a Thursday, so day 0 is day 3 of its week.
 */
export function quotaWindow(period: QuotaPeriod, now: number): { start: number; end: number; id: number } {
  const day = Math.floor(now / DAY);
  if (period === 'day') return { start: day * DAY, end: (day + 1) * DAY, id: day };
  if (period === 'week') {
    const first = day - ((day + 3) % 7);
    return { start: first * DAY, end: (first + 7) * DAY, id: first };
  }
  const d = new Date(day * DAY);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return { start, end, id: start / DAY };
}

/** The store key of a quota's current window. */
export function quotaKey(check: QuotaCheck, now: number): string {
  return `${check.key}:${quotaWindow(check.period, now).id}`;
}
