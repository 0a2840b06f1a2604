import type { Principal, RequestContext, ResponseHead } from '../../core/context.ts';
import { type Outcome, type Reply, reply } from '../../core/outcome.ts';
import type { Stage } from '../../core/stage.ts';
import { type CompiledLimit, type Limiter, writeLimitHeaders } from './limiter.ts';

/** How a principal's usage plan is found, and which plans apply to this operation. */
export interface PlanResolver {
  readonly from: readonly { readonly root: 'claims' | 'attributes'; readonly name: string }[];
  readonly defaultPlan: string | null;
  readonly known: ReadonlySet<string>;
  /** Plan name → every consumer limit of a caller on that plan (scope limits + the plan's). */
  readonly applies: ReadonlyMap<string, readonly CompiledLimit[]>;
}

/** The plan a principal is bound to: its credential's, else the default for authenticated callers. */
export function planOf(principal: Principal | null, resolver: PlanResolver): string | null {
  if (principal === null || principal.kind === 'anonymous') return null;
  for (const { root, name } of resolver.from) {
    const bag = (root === 'claims' ? principal.attributes.claims : principal.attributes) as
      | Record<string, unknown>
      | undefined;
    const value = bag?.[name];
    if (typeof value === 'string' && value !== '') return value;
  }
  return resolver.defaultPlan;
}

/**
 * The `quota` stage: limits and quotas keyed by who the caller is, after authentication and
 * authorization, with the limits of the caller's usage plan. A caller bound to a plan the
 * config does not define is refused (403 `plan_unknown`): a typo in a key's plan must not
 * mean "no limits".
 */
export function createQuotaStage(
  limiter: Limiter,
  limits: readonly CompiledLimit[],
  byPlan: ReadonlyMap<string, readonly CompiledLimit[]>,
  resolver: PlanResolver,
): Stage {
  const describe = (l: CompiledLimit) => `${l.id}: ${l.describe}${l.enforce ? '' : ' [shadow]'}`;
  const own = new Set(limits);
  const planned = [...byPlan].map(
    ([name, all]) =>
      `plan ${name}: ${
        all
          .filter((l) => !own.has(l))
          .map(describe)
          .join(', ') || 'no limits of its own'
      }`,
  );
  const stage: Stage = {
    name: 'quota',
    mode: 'enforce',
    summary: [...limits.map(describe), ...planned].join('; '),
    request(ctx: RequestContext): Outcome | Promise<Outcome> {
      const plan = planOf(ctx.principal, resolver);
      if (plan === null) return limiter.run(ctx, stage, shadow, limits, null);
      if (!resolver.known.has(plan)) {
        return reply(403, 'plan_unknown', {
          detail: `the credential names plan "${plan}", which traffic.plans does not define`,
        });
      }
      return limiter.run(ctx, stage, shadow, byPlan.get(plan) ?? limits, plan);
    },
    response(ctx: RequestContext, head: ResponseHead): Reply | undefined {
      writeLimitHeaders(ctx, head.headers);
      return undefined;
    },
  };
  const shadow: Stage = { ...stage, mode: 'shadow' };
  return stage;
}
