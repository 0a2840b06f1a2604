import type { OutgoingHttpHeaders } from 'node:http';
import type { Json } from './project.ts';
import type { OperationResponses, ResponseShape } from './responses.ts';

/** `response.filter` of an operation, compiled. */
export interface ResponseFilter {
  readonly responses: OperationResponses;
  /** Largest body buffered to filter; past it, `oversize` applies. */
  readonly maxBodySize: number;
  /** `reject`: 502 (fail closed). `passthrough`: sent unfiltered, and recorded. */
  readonly oversize: 'reject' | 'passthrough';
}

export type FilterVerdict =
  | {
      readonly kind: 'filtered';
      readonly body: Buffer;
      readonly dropped: number;
      readonly masked: number;
      readonly declared: string;
    }
  | { readonly kind: 'refused'; readonly detail: string };

/**
 * Which upstream responses are buffered: JSON ones whose status and media type declare a
 * schema, when the upstream did not encode them (the request said `accept-encoding: identity`;
 * an upstream that compresses anyway cannot be inspected, so it is refused, fail closed).
 */
export function shapeFor(
  filter: ResponseFilter,
  status: number,
  headers: OutgoingHttpHeaders,
): ResponseShape | null {
  const contentType = headers['content-type'];
  return filter.responses.lookup(status, typeof contentType === 'string' ? contentType : undefined);
}

/** Filter a buffered JSON body through its shape. Unparseable JSON is refused, never sent as is. */
export function filterBody(shape: ResponseShape, body: Buffer, encoding: unknown): FilterVerdict {
  if (encoding !== undefined && encoding !== 'identity') {
    return {
      kind: 'refused',
      detail: `the upstream sent a ${String(encoding)}-encoded body, which cannot be filtered`,
    };
  }
  let value: Json;
  try {
    value = JSON.parse(body.toString('utf8')) as Json;
  } catch {
    return { kind: 'refused', detail: `the body is not the JSON its content type (${shape.declared}) says` };
  }
  const stats = { dropped: 0, masked: 0 };
  const out = shape.project(value, stats);
  return {
    kind: 'filtered',
    body: stats.dropped === 0 && stats.masked === 0 ? body : Buffer.from(JSON.stringify(out)),
    dropped: stats.dropped,
    masked: stats.masked,
    declared: shape.declared,
  };
}
