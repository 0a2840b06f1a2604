import type { RequestContext } from '../../core/context.ts';
import { CONTINUE, type Outcome, reply } from '../../core/outcome.ts';
import type { Stage, StageMode } from '../../core/stage.ts';
import type { OperationAuthz } from './engine.ts';

/**
 * The `authz` stage: the adapter between a request and its operation's `OperationAuthz`. It
 * reads the principal `authn` verified, the client IP the `client` stage resolved and the path
 * parameters `route` matched; refusals are 403 with a reason, and every Cedar decision (allow
 * or deny) is recorded with the policies that determined it.
 */
export interface AuthzStage extends Stage {
  /** The decision function, for `rampart authz test`. */
  readonly authz: OperationAuthz;
}

export function createAuthzStage(authz: OperationAuthz, mode: StageMode, summary: string): AuthzStage {
  const stage: AuthzStage = {
    name: 'authz',
    authz,
    mode,
    summary,
    request(ctx: RequestContext): Outcome {
      const decision = authz.decide({
        principal: ctx.principal,
        clientIp: ctx.client!.ip,
        params: ctx.route!.params,
        certificate: authz.cedar !== null ? ctx.clientCertificate() : null,
        now: Date.now(),
      });
      if (decision.allow) {
        if (decision.reason !== null)
          ctx.recordAllow(stage, decision.reason, decision.detail, decision.policies);
        return CONTINUE;
      }
      return reply(403, decision.reason!, { detail: decision.detail, policies: decision.policies });
    },
  };
  return stage;
}
