import type { OutgoingHttpHeaders } from 'node:http';
import type { RequestContext, ResponseHead } from '../../core/context.ts';
import { CONTINUE, DONE, type Outcome, type Reply, reply } from '../../core/outcome.ts';
import type { Stage } from '../../core/stage.ts';
import { originAllowed } from './engine/origin.ts';
import type { CorsPolicy } from './policy.ts';
import { appendVary } from './vary.ts';

const PREFLIGHT_VARY = ['Origin', 'Access-Control-Request-Method', 'Access-Control-Request-Headers'];
const ORIGIN_VARY = ['Origin'];

/** A CORS preflight (Fetch §4.8): `OPTIONS` with `Origin` and `Access-Control-Request-Method`. */
export function isPreflight(ctx: RequestContext): boolean {
  return (
    ctx.method === 'OPTIONS' &&
    ctx.headers.origin !== undefined &&
    ctx.headers['access-control-request-method'] !== undefined
  );
}

/** Why a preflight is refused, or null when the policy allows it. */
export function preflightRefusal(policy: CorsPolicy, ctx: RequestContext): string | null {
  const origin = ctx.headers.origin!;
  if (!originAllowed(policy.rules, policy.exact, origin))
    return `origin ${JSON.stringify(origin)} not allowed`;
  const method = String(ctx.headers['access-control-request-method']);
  if (!policy.methods.has(method)) return `method ${JSON.stringify(method)} not allowed`;
  const requested = ctx.headers['access-control-request-headers'];
  if (requested !== undefined && requested !== '') {
    for (const raw of String(requested).split(',')) {
      const name = raw.trim().toLowerCase();
      if (name !== '' && !policy.headers.has(name)) return `header ${JSON.stringify(name)} not allowed`;
    }
  }
  return null;
}

/**
 * The `cors` stage of an operation. A preflight that reaches a declared `OPTIONS` operation is
 * answered here (204 or 403) without calling the upstream. On every other response of the
 * operation — upstream, mock or a gateway refusal such as a 401, so browser code can read why —
 * an allowed origin gets `Access-Control-Allow-Origin` and friends.
 *
 * A request from an origin that is not allowed is still served, only without CORS headers:
 * CORS is a browser-enforced read permission (Fetch §3.2), not access control. The browser
 * withholds the answer from the calling page; a server-side block would not stop a non-browser
 * client, and cross-site writes are the business of authn, CSRF defences and `SameSite` cookies.
 */
export function createCorsStage(policy: CorsPolicy): Stage {
  const stage: Stage = {
    name: 'cors',
    mode: policy.mode,
    summary: `${policy.summary}; methods ${policy.allowMethods || 'none'}; headers ${policy.allowHeaders}`,
    request(ctx: RequestContext): Outcome {
      if (!isPreflight(ctx)) return CONTINUE;
      return answerPreflight(stage, policy, ctx);
    },
    response(ctx: RequestContext, head: ResponseHead): Reply | undefined {
      if (policy.mode === 'shadow') return undefined;
      const h = head.headers;
      // The gateway owns CORS for this API: an upstream that reflects any origin (the default
      // of many CORS middlewares) must not override the policy.
      if (head.origin !== 'gateway') stripCorsHeaders(h);
      if (isPreflight(ctx)) {
        // Our own 204 carries its headers; a refused preflight gets none.
        appendVary(h, PREFLIGHT_VARY);
        return undefined;
      }
      appendVary(h, ORIGIN_VARY);
      const origin = ctx.headers.origin;
      if (origin === undefined || !originAllowed(policy.rules, policy.exact, origin)) return undefined;
      h['access-control-allow-origin'] = policy.any ? '*' : origin;
      if (policy.credentials) h['access-control-allow-credentials'] = 'true';
      if (policy.exposeHeaders !== '') h['access-control-expose-headers'] = policy.exposeHeaders;
      return undefined;
    },
  };
  return stage;
}

/**
 * The `cors` stage of a path whose document declares no `OPTIONS`: the route stage hands
 * preflights to it instead of answering 405. In shadow mode it records its decision and gives
 * the 405 routing would have given.
 */
export function createPreflightStage(policy: CorsPolicy): Stage {
  const stage: Stage = {
    name: 'cors',
    mode: policy.mode,
    summary: `preflight only: ${policy.summary}; methods ${policy.allowMethods || 'none'}`,
    request(ctx: RequestContext): Outcome {
      const outcome = answerPreflight(stage, policy, ctx);
      if (outcome.kind !== 'continue') return outcome;
      ctx.sendReply(reply(405, 'method_not_allowed', { headers: { allow: policy.declared } }));
      return DONE;
    },
  };
  return stage;
}

function answerPreflight(stage: Stage, policy: CorsPolicy, ctx: RequestContext): Outcome {
  const refusal = preflightRefusal(policy, ctx);
  if (policy.mode === 'shadow') {
    if (refusal !== null) ctx.record(stage, reply(403, 'cors_refused', { detail: refusal }));
    return CONTINUE;
  }
  if (refusal !== null) {
    return reply(403, 'cors_refused', { detail: refusal, headers: { vary: PREFLIGHT_VARY.join(', ') } });
  }
  const headers: OutgoingHttpHeaders = {
    'access-control-allow-origin': policy.any ? '*' : ctx.headers.origin!,
    'access-control-allow-methods': policy.allowMethods,
    'access-control-allow-headers': policy.allowHeaders,
    'access-control-max-age': policy.maxAge,
    vary: PREFLIGHT_VARY.join(', '),
  };
  if (policy.credentials) headers['access-control-allow-credentials'] = 'true';
  ctx.sendBody(204, headers, '', 'gateway');
  return DONE;
}

function stripCorsHeaders(h: OutgoingHttpHeaders): void {
  for (const name in h) if (name.startsWith('access-control-')) delete h[name];
}
