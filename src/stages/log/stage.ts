import { performance } from 'node:perf_hooks';
import type { RequestContext } from '../../core/context.ts';
import type { OperationInfo } from '../../core/operation.ts';
import type { Stage } from '../../core/stage.ts';
import type { AccessLog } from '../../observe/access-log.ts';
import type { EventBus } from '../../observe/events/bus.ts';
import { eventsOf } from '../../observe/events/event.ts';
import { REDACTED, type Redactor } from './redact.ts';

export interface AccessLogOptions {
  /** Null when logs are not opened (check, explain) or the access log is off. */
  readonly logger: AccessLog | null;
  readonly enabled: boolean;
  readonly requestHeaders: readonly string[];
  readonly redactor: Redactor;
  /** Where each decision goes as a security event (null: no sinks configured). */
  readonly events?: EventBus | null;
}

/**
 * The access log: one JSON line per exchange, written after it ended (finished or aborted).
 * Only metadata: never bodies, and credentials redacted (redact.ts).
 */
export function createLogStage(options: AccessLogOptions): Stage {
  const { logger, requestHeaders, redactor, enabled } = options;
  const events = options.events ?? null;
  const headerNames = requestHeaders.map((h) => h.toLowerCase());
  return {
    name: 'log',
    mode: 'enforce',
    summary: enabled
      ? `access log${headerNames.length ? ` with headers ${headerNames.join(', ')}` : ''}`
      : 'access log off',
    complete(ctx: RequestContext): void {
      if (events !== null && ctx.decisions !== null) events.publish(eventsOf(ctx, new Date().toISOString()));
      if (logger === null) return;
      const operation = ctx.route?.operation;
      const status = ctx.aborted && ctx.status === 0 ? 499 : ctx.status;
      // Built as a string: the access log was the largest cost the gateway itself added per
      // request in bench/ profiles, and this skips an object, its serialization and a copy.
      // Values a client can influence go through JSON.stringify; the request id, method, IP
      // and reason are validated tokens that need no escaping.
      let line = `"reqId":"${ctx.id}","client":"${ctx.client?.ip ?? ctx.remoteAddress}","method":"${ctx.method}","path":${ctx.path === '' ? 'null' : JSON.stringify(ctx.path)}`;
      if (ctx.query !== '') line += `,"query":${JSON.stringify(redactor.query(ctx.query))}`;
      if (operation !== undefined) line += operationMembers(operation);
      line += `,"status":${status}`;
      if (ctx.reason !== null) line += `,"reason":"${ctx.reason}"`;
      line += `,"bytesIn":${ctx.bytesIn},"bytesOut":${ctx.bytesWritten},"durationMs":${round(performance.now() - ctx.startTime)}`;
      if (ctx.upstreamMs >= 0) line += `,"upstreamMs":${round(ctx.upstreamMs)}`;
      if (ctx.principal !== null) line += `,"principal":${JSON.stringify(ctx.principal.id)}`;
      if (ctx.decisions !== null) line += `,"decisions":${JSON.stringify(ctx.decisions)}`;
      if (headerNames.length > 0) {
        const headers: Record<string, unknown> = {};
        for (const name of headerNames) {
          const value = ctx.headers[name];
          if (value !== undefined) headers[name] = redactor.isCredentialHeader(name) ? REDACTED : value;
        }
        line += `,"headers":${JSON.stringify(headers)}`;
      }
      logger.writeMembers(line);
    },
  };
}

const members = new WeakMap<OperationInfo, string>();

/** The members that are the same for every request of an operation, serialized once. */
function operationMembers(operation: OperationInfo): string {
  let text = members.get(operation);
  if (text === undefined) {
    text = `,"api":${JSON.stringify(operation.api.name)},"route":${JSON.stringify(operation.route)},"operationId":${JSON.stringify(operation.operationId)}`;
    members.set(operation, text);
  }
  return text;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
