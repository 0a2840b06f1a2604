import type { RequestContext, ResponseHead } from '../../core/context.ts';
import type { Outcome, Reply } from '../../core/outcome.ts';
import type { Stage } from '../../core/stage.ts';
import { type CompiledLimit, type Limiter, writeLimitHeaders } from '../quota/limiter.ts';

/**
 * The `edge-limit` stage: the limits keyed by client IP or global, checked right after routing
 * and before the WAF, authentication or any body is read, so a flood costs the gateway one
 * store call per request. All of them go to the store in one call.
 */
export function createEdgeLimitStage(limiter: Limiter, limits: readonly CompiledLimit[]): Stage {
  const stage: Stage = {
    name: 'edge-limit',
    mode: 'enforce',
    summary: limits.map((l) => `${l.id}: ${l.describe}${l.enforce ? '' : ' [shadow]'}`).join('; '),
    request(ctx: RequestContext): Promise<Outcome> {
      return limiter.run(ctx, stage, shadow, limits, null);
    },
    response(ctx: RequestContext, head: ResponseHead): Reply | undefined {
      writeLimitHeaders(ctx, head.headers);
      return undefined;
    },
  };
  const shadow: Stage = { ...stage, mode: 'shadow' };
  return stage;
}
