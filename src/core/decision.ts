import type { StageName } from './pipeline-order.ts';
import type { ReasonCode } from './reasons.ts';
import type { StageMode } from './stage.ts';

/** A stage's decision about a request: what the access log, metrics and security events read. */
export interface Decision {
  readonly stage: StageName;
  readonly reason: ReasonCode;
  readonly status: number;
  /** `shadow`: recorded but not enforced. */
  readonly mode: StageMode;
  readonly detail?: string;
  /** The policies that determined the decision (`authz`'s Cedar policy ids). */
  readonly policies?: readonly string[];
}
