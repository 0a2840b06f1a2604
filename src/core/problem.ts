import { STATUS_CODES } from 'node:http';
import type { ProblemFieldError } from './outcome.ts';

/**
 * RFC 9457 problem details for gateway-made errors. The title is the generic status text and
 * the only extension is the request id: reason codes, rule ids and details go to the logs only.
 * Request validation alone adds `errors` (RFC 9457 §3.2 extension member): the fields a client
 * must fix and the rules they broke, never the values it sent.
 */
export function problemBody(
  status: number,
  requestId: string,
  errors?: readonly ProblemFieldError[],
): string {
  const problem = { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, requestId };
  return JSON.stringify(errors === undefined ? problem : { ...problem, errors });
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
