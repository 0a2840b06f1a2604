import type { RequestContext, ResponseHead } from './context.ts';
import type { Outcome, Reply } from './outcome.ts';
import type { StageName } from './pipeline-order.ts';

/** `shadow` evaluates and records a decision but lets the request through (Envoy's shadow rules). */
export type StageMode = 'enforce' | 'shadow';

/**
 * The stage contract (after Envoy's HTTP filters). A stage is built once from its validated
 * config and run per request. It never throws to deny: it returns an outcome. `throw` is a bug,
 * turned into a 500 `internal_error` by the pipeline.
 */
export interface Stage {
  readonly name: StageName;
  readonly mode: StageMode;
  /** One line for `rampart explain`: what this instance does with its config. */
  readonly summary: string;
  /** Request phase, in pipeline order. Return a promise only when there is real async work. */
  request?(ctx: RequestContext): Outcome | Promise<Outcome>;
  /** Response phase, before the head is written: may edit the head, or replace it with a reply. */
  response?(ctx: RequestContext, head: ResponseHead): Reply | undefined;
  /** After the exchange ended (finished or aborted): logging, metrics. Never throws. */
  complete?(ctx: RequestContext): void;
}
