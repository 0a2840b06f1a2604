import { STATUS_CODES } from 'node:http';

/**
 * RFC 9457 problem details for gateway-made errors. The title is the generic status text and
 * the only extension is the request id: reason codes, rule ids and details go to the logs only.
 */
export function problemBody(status: number, requestId: string): string {
  return JSON.stringify({
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    requestId,
  });
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
