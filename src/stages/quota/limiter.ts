import type { RequestContext } from '../../core/context.ts';
import { CONTINUE, type Outcome, reply } from '../../core/outcome.ts';
import type { Stage } from '../../core/stage.ts';
import { type LimitCheck, type LimitOutcome, quotaWindow } from '../../store/limits.ts';
import type { StateStore } from '../../store/store.ts';
import { ipKey, valueKey } from './client-key.ts';

export type KeyKind = 'ip' | 'global' | 'principal' | 'apiKey' | 'plan' | 'header';

/** One limit as compiled from config: everything a request needs but its key value. */
export interface CompiledLimit {
  /** Unique across the gateway: `global/NAME`, `api:API/NAME`, `op:API.OP/NAME`, `plan:PLAN/NAME`. */
  readonly id: string;
  /** The name clients see in `RateLimit-Policy`. */
  readonly name: string;
  readonly keyKind: KeyKind;
  /** Lowercase header name for `header:` keys. */
  readonly header: string;
  readonly enforce: boolean;
  readonly failOpen: boolean;
  /** The check without its key (filled per request). */
  readonly check: LimitCheck;
  /** `"name";q=…;w=…` (rates; quotas over a month compute `w` per request). */
  readonly policy: string;
  /** For the log: `100 per 1m (burst 100) by ip`. */
  readonly describe: string;
}

export interface LimiterOptions {
  readonly store: StateStore;
  readonly ipv6Prefix: number;
  readonly headers: boolean;
}

/**
 * Evaluate a set of limits for one request: build each key from the request, send all of them
 * to the store in one call, and turn the outcome into continue or a 429. Shared by the
 * `edge-limit` and `quota` stages.
 */
export class Limiter {
  readonly #options: LimiterOptions;

  constructor(options: LimiterOptions) {
    this.#options = options;
  }

  /**
   * `plan` is the caller's plan name (for `plan` keys). A shadow limit's refusal is recorded
   * against `shadowTwin` (the stage in `shadow` mode), so the request goes on.
   */
  async run(
    ctx: RequestContext,
    stage: Stage,
    shadowTwin: Stage,
    limits: readonly CompiledLimit[],
    plan: string | null,
  ): Promise<Outcome> {
    const applied: CompiledLimit[] = [];
    const checks: LimitCheck[] = [];
    for (let i = 0; i < limits.length; i++) {
      const limit = limits[i]!;
      const value = this.#keyValue(ctx, limit, plan);
      if (value === null) continue;
      applied.push(limit);
      checks.push({ ...limit.check, key: `${limit.check.key}:${value}` });
    }
    if (checks.length === 0) return CONTINUE;

    let outcome: LimitOutcome;
    try {
      outcome = await this.#options.store.consume(checks);
    } catch (err) {
      return this.#storeFailed(ctx, stage, applied, err as Error);
    }

    if (this.#options.headers) this.#report(ctx, applied, outcome);
    let refusedBy: CompiledLimit | null = null;
    let retryAfterMs = 0;
    const shadowed: string[] = [];
    for (let i = 0; i < applied.length; i++) {
      const state = outcome.states[i]!;
      if (state.allowed) continue;
      const limit = applied[i]!;
      if (!limit.enforce) {
        shadowed.push(limit.id);
        continue;
      }
      if (state.retryAfterMs > retryAfterMs || refusedBy === null) {
        retryAfterMs = Math.max(retryAfterMs, state.retryAfterMs);
        refusedBy = limit;
      }
    }
    if (shadowed.length > 0) {
      const first = applied.find((l) => l.id === shadowed[0])!;
      ctx.record(
        shadowTwin,
        reply(429, first.check.kind === 'quota' ? 'quota_exceeded' : 'rate_limited', {
          detail: `over ${shadowed.join(', ')} (shadow)`,
          policies: shadowed,
        }),
      );
    }
    if (outcome.allowed || refusedBy === null) return CONTINUE;
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    return reply(429, refusedBy.check.kind === 'quota' ? 'quota_exceeded' : 'rate_limited', {
      headers: { 'retry-after': String(seconds) },
      detail: `over ${refusedBy.id}: ${refusedBy.describe}; retry in ${retryAfterMs} ms`,
      policies: [refusedBy.id],
    });
  }

  #keyValue(ctx: RequestContext, limit: CompiledLimit, plan: string | null): string | null {
    switch (limit.keyKind) {
      case 'global':
        return '*';
      case 'ip':
        return ipKey(ctx.client!.ip, this.#options.ipv6Prefix);
      case 'principal': {
        const p = ctx.principal;
        if (p === null || p.kind === 'anonymous')
          return `anon@${ipKey(ctx.client!.ip, this.#options.ipv6Prefix)}`;
        return valueKey(`${p.kind}/${p.id}`);
      }
      case 'apiKey': {
        const a = ctx.principal?.attributes;
        const id = a?.keyId ?? a?.accessKeyId;
        return typeof id === 'string' ? valueKey(id) : null;
      }
      case 'plan':
        return plan === null ? null : plan;
      case 'header': {
        const v = ctx.headers[limit.header];
        const text = Array.isArray(v) ? v.join(',') : v;
        if (text === undefined || text === '') return `ip@${ipKey(ctx.client!.ip, this.#options.ipv6Prefix)}`;
        return `h=${valueKey(text)}`;
      }
    }
  }

  /**
   * The store could not answer. A failClosed limit among those that applied refuses the request
   * (503: the gateway cannot tell whether the caller is within its limits); if all are failOpen,
   * the request goes on uncounted, and the access log says so.
   */
  #storeFailed(ctx: RequestContext, stage: Stage, applied: readonly CompiledLimit[], err: Error): Outcome {
    const closed = applied.filter((l) => !l.failOpen && l.enforce);
    const detail = `state store unavailable: ${err.message}`;
    if (closed.length > 0) {
      return reply(503, 'rate_limit_unavailable', {
        headers: { 'retry-after': '1' },
        detail,
        policies: closed.map((l) => l.id),
      });
    }
    ctx.recordAllow(
      stage,
      'rate_limit_store_bypassed',
      detail,
      applied.map((l) => l.id),
    );
    return CONTINUE;
  }

  #report(ctx: RequestContext, applied: readonly CompiledLimit[], outcome: LimitOutcome): void {
    if (ctx.limitReport === null) ctx.limitReport = { policies: [], current: [] };
    const report = ctx.limitReport;
    for (let i = 0; i < applied.length; i++) {
      const limit = applied[i]!;
      const state = outcome.states[i]!;
      report.policies.push(limit.policy === '' ? monthPolicy(limit) : limit.policy);
      report.current.push(`"${limit.name}";r=${state.remaining};t=${Math.ceil(state.resetMs / 1000)}`);
    }
  }
}

/** A monthly quota's window length changes with the month: computed when it is reported. */
function monthPolicy(limit: CompiledLimit): string {
  const w = quotaWindow('month', Date.now());
  const q = limit.check.kind === 'quota' ? limit.check.limit : 0;
  return `"${limit.name}";q=${q};w=${(w.end - w.start) / 1000}`;
}

/**
 * Write the `RateLimit-Policy` and `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers-09
 * §4, §5: lists of items named by policy, `q`/`w` for the policy, `r`/`t` for its state now)
 * from what the limit stages reported. Called by the first limit stage's response phase.
 */
export function writeLimitHeaders(ctx: RequestContext, headers: Record<string, unknown>): void {
  const report = ctx.limitReport;
  if (report === null) return;
  ctx.limitReport = null;
  headers['ratelimit-policy'] = report.policies.join(', ');
  headers.ratelimit = report.current.join(', ');
}
