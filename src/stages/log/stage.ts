import { performance } from 'node:perf_hooks';
import type { RequestContext } from '../../core/context.ts';
import type { Stage } from '../../core/stage.ts';
import type { AccessLog } from '../../observe/access-log.ts';
import { REDACTED, type Redactor } from './redact.ts';

export interface AccessLogOptions {
  /** Null when logs are not opened (check, explain) or the access log is off. */
  readonly logger: AccessLog | null;
  readonly enabled: boolean;
  readonly requestHeaders: readonly string[];
  readonly redactor: Redactor;
}

/**
 * The access log: one JSON line per exchange, written after it ended (finished or aborted).
 * Only metadata: never bodies, and credentials redacted (redact.ts).
 */
export function createLogStage(options: AccessLogOptions): Stage {
  const { logger, requestHeaders, redactor, enabled } = options;
  const headerNames = requestHeaders.map((h) => h.toLowerCase());
  return {
    name: 'log',
    mode: 'enforce',
    summary: enabled
      ? `access log${headerNames.length ? ` with headers ${headerNames.join(', ')}` : ''}`
      : 'access log off',
    complete(ctx: RequestContext): void {
      if (logger === null) return;
      const operation = ctx.route?.operation;
      const line: Record<string, unknown> = {
        reqId: ctx.id,
        client: ctx.client?.ip ?? ctx.remoteAddress,
        method: ctx.method,
        path: ctx.path || null,
        query: ctx.query === '' ? undefined : redactor.query(ctx.query),
        api: operation?.api.name,
        route: operation?.route,
        operationId: operation?.operationId,
        status: ctx.aborted && ctx.status === 0 ? 499 : ctx.status,
        reason: ctx.reason ?? undefined,
        bytesIn: ctx.bytesIn,
        bytesOut: ctx.bytesWritten,
        durationMs: round(performance.now() - ctx.startTime),
        upstreamMs: ctx.upstreamMs >= 0 ? round(ctx.upstreamMs) : undefined,
        principal: ctx.principal?.id,
      };
      if (ctx.decisions !== null) line.decisions = ctx.decisions;
      if (headerNames.length > 0) {
        const headers: Record<string, unknown> = {};
        for (const name of headerNames) {
          const value = ctx.headers[name];
          if (value !== undefined) headers[name] = redactor.isCredentialHeader(name) ? REDACTED : value;
        }
        line.headers = headers;
      }
      logger.write(line);
    },
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
