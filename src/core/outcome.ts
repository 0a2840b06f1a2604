import type { ReasonCode } from './reasons.ts';

/** The stage let the request through to the next stage. */
export interface Continue {
  readonly kind: 'continue';
}

/** The stage answers the request itself with a gateway-made error (problem+json). */
export interface Reply {
  readonly kind: 'reply';
  readonly status: number;
  readonly reason: ReasonCode;
  /** Extra response headers, e.g. `Allow` on a 405 or `Retry-After` on a 429. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Operator-facing detail; goes to the logs, never to the client. */
  readonly detail?: string;
  /** The policies that determined the refusal, recorded in the decision. */
  readonly policies?: readonly string[];
  /**
   * Client-facing field errors (request validation only): where the request is wrong and which
   * rule it broke, never the value sent. The one exception to generic problem bodies.
   */
  readonly errors?: readonly ProblemFieldError[];
}

/** One invalid field of a request: `{ path: 'body/items/0/qty', rule: 'maximum', detail: 'must be <= 10' }`. */
export interface ProblemFieldError {
  readonly path: string;
  readonly rule: string;
  readonly detail: string;
}

/** The stage wrote the whole response (upstream proxy, mock integration). */
export interface Done {
  readonly kind: 'done';
}

export type Outcome = Continue | Reply | Done;

export const CONTINUE: Continue = Object.freeze({ kind: 'continue' });
export const DONE: Done = Object.freeze({ kind: 'done' });

export function reply(
  status: number,
  reason: ReasonCode,
  options: {
    headers?: Record<string, string>;
    detail?: string;
    policies?: readonly string[];
    errors?: readonly ProblemFieldError[];
  } = {},
): Reply {
  let out: Reply = { kind: 'reply', status, reason, headers: options.headers, detail: options.detail };
  if (options.policies !== undefined) out = { ...out, policies: options.policies };
  return options.errors === undefined ? out : { ...out, errors: options.errors };
}
