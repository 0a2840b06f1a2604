import { reportInternalError } from '../observe/logger.ts';
import type { RequestContext } from './context.ts';
import type { Outcome } from './outcome.ts';
import { reply } from './outcome.ts';
import { stageIndex } from './pipeline-order.ts';
import type { Stage } from './stage.ts';

/** An ordered chain of stages, split per phase once at compile time. */
export class Pipeline {
  readonly stages: readonly Stage[];
  readonly requestStages: readonly Stage[];
  readonly responseStages: readonly Stage[];
  readonly completeStages: readonly Stage[];

  constructor(stages: readonly Stage[]) {
    const sorted = [...stages].sort((a, b) => stageIndex(a.name) - stageIndex(b.name));
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]!.name === sorted[i - 1]!.name) throw new Error(`stage ${sorted[i]!.name} appears twice`);
    }
    this.stages = Object.freeze(sorted);
    this.requestStages = Object.freeze(sorted.filter((s) => s.request !== undefined));
    this.responseStages = Object.freeze(sorted.filter((s) => s.response !== undefined));
    this.completeStages = Object.freeze(sorted.filter((s) => s.complete !== undefined));
  }
}

function isPromise(value: Outcome | Promise<Outcome>): value is Promise<Outcome> {
  return typeof (value as Promise<Outcome>).then === 'function';
}

/**
 * Run a request through the gateway's entry stages (up to `route`), then through the matched
 * operation's chain, until a stage replies or finishes the exchange. A `shadow` stage's reply
 * is recorded and the request goes on. A stage that throws is a bug: the request is denied
 * with a 500. One async frame per request, and an `await` only where a stage returned a
 * promise: most stages are synchronous, and this loop is on every request's path.
 */
export async function runRequest(ctx: RequestContext, entry: Pipeline): Promise<void> {
  try {
    let stages = entry.requestStages;
    let routed = false;
    for (let i = 0; ; i++) {
      if (i === stages.length) {
        if (routed) throw new Error(`operation ${ctx.route!.operation.operationId} has no terminal stage`);
        const operation = ctx.route?.operation;
        if (operation === undefined) throw new Error('entry pipeline ended without a route');
        ctx.pipeline = operation.pipeline;
        stages = operation.pipeline.requestStages;
        routed = true;
        i = -1;
        continue;
      }
      const stage = stages[i]!;
      let outcome = stage.request!(ctx);
      if (isPromise(outcome)) outcome = await outcome;
      if (outcome.kind === 'continue') continue;
      if (outcome.kind === 'done') return;
      ctx.record(stage, outcome);
      if (stage.mode === 'shadow') continue;
      ctx.sendReply(outcome);
      return;
    }
  } catch (err) {
    ctx.error = err;
    reportInternalError(err, ctx.id, 'request pipeline');
    if (ctx.responseStarted) ctx.abort();
    else ctx.sendReply(reply(500, 'internal_error'));
  }
}

/** Run the complete phase (log) once the exchange ended. Errors here must not escape. */
export function completeRequest(ctx: RequestContext): void {
  const stages = ctx.pipeline.completeStages;
  for (let i = 0; i < stages.length; i++) {
    try {
      stages[i]!.complete!(ctx);
    } catch (err) {
      // A failing logger must not take the process down, nor fail silently.
      reportInternalError(err, ctx.id, `${stages[i]!.name} stage (complete)`);
    }
  }
}
