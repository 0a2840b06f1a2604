import type { RequestContext } from '../../core/context.ts';
import type { Decision } from '../../core/decision.ts';

/**
 * A security event: one per decision a stage recorded about a request, with what an analyst
 * needs to correlate it (ARCHITECTURE §2: the access log, metrics, traces and detectors all
 * read this one stream). Stable field names; `reason` is a code from the reason catalogue.
 * Never a body, a credential or a header value: `detail` is operator text, scrubbed on output.
 */
export interface SecurityEvent {
  readonly time: string;
  readonly requestId: string;
  readonly stage: Decision['stage'];
  readonly reason: Decision['reason'];
  /** The status the decision gave (0: recorded, not a refusal). */
  readonly status: number;
  readonly mode: Decision['mode'];
  readonly api: string | null;
  readonly operationId: string | null;
  /** The route template, never the raw path (no ids or personal data). */
  readonly route: string | null;
  readonly method: string;
  readonly principal: string | null;
  readonly clientIp: string;
  readonly policies?: readonly string[];
  readonly detail?: string;
}

/** The events of one finished exchange, in the order its stages decided. */
export function eventsOf(ctx: RequestContext, time: string): SecurityEvent[] {
  const decisions = ctx.decisions;
  if (decisions === null) return [];
  const op = ctx.route?.operation;
  return decisions.map((d) => ({
    time,
    requestId: ctx.id,
    stage: d.stage,
    reason: d.reason,
    status: d.status,
    mode: d.mode,
    api: op?.api.name ?? null,
    operationId: op?.operationId ?? null,
    route: op?.route ?? null,
    method: ctx.method,
    principal: ctx.principal?.id ?? null,
    clientIp: ctx.client?.ip ?? ctx.remoteAddress,
    ...(d.policies !== undefined ? { policies: d.policies } : {}),
    ...(d.detail !== undefined ? { detail: d.detail } : {}),
  }));
}
