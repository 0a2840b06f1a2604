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
 * Run request stages in order until one replies or finishes the exchange. Returns true when
 * the exchange was answered. A `shadow` stage's reply is recorded and the request goes on.
 */
export async function runStages(ctx: RequestContext, stages: readonly Stage[]): Promise<boolean> {
  for (let i = 0; i < stages.length; i++) {
    const stage = stages[i]!;
    let outcome = stage.request!(ctx);
    if (isPromise(outcome)) outcome = await outcome;
    if (outcome.kind === 'continue') continue;
    if (outcome.kind === 'done') return true;
    ctx.record(stage, outcome);
    if (stage.mode === 'shadow') continue;
    ctx.sendReply(outcome);
    return true;
  }
  return false;
}

/**
 * Run a request through the gateway's entry stages (up to `route`), then through the matched
 * operation's chain. A stage that throws is a bug: the request is denied with a 500.
 */
export async function runRequest(ctx: RequestContext, entry: Pipeline): Promise<void> {
  try {
    if (await runStages(ctx, entry.requestStages)) return;
    const operation = ctx.route?.operation;
    if (operation === undefined) throw new Error('entry pipeline ended without a route');
    ctx.pipeline = operation.pipeline;
    if (await runStages(ctx, operation.pipeline.requestStages)) return;
    throw new Error(`operation ${operation.operationId} has no terminal stage`);
  } catch (err) {
    ctx.error = err;
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
    } catch {
      // A failing logger must not take the process down; nothing else to do here.
    }
  }
}
