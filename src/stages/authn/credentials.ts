import type { RequestContext } from '../../core/context.ts';

/**
 * The value of a header that must appear at most once (credentials): undefined when absent,
 * false when repeated. Two `Authorization` lines are ambiguous (a proxy and an upstream could
 * each read a different one), so they are refused rather than one of them picked.
 */
export function singleHeader(rawHeaders: readonly string[], lowerName: string): string | undefined | false {
  let value: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const n = rawHeaders[i]!;
    if (n.length === lowerName.length && n.toLowerCase() === lowerName) {
      if (value !== undefined) return false;
      value = rawHeaders[i + 1]!;
    }
  }
  return value;
}

/** A credential the gateway consumed is the gateway's: these headers are not sent upstream. */
export function consumeHeaders(ctx: RequestContext, ...lowerNames: string[]): void {
  if (ctx.consumedHeaders === null) ctx.consumedHeaders = lowerNames;
  else ctx.consumedHeaders.push(...lowerNames);
}

/** Drop the query parameters `drop` names from what goes upstream, every other one kept as sent. */
export function consumeQueryParams(ctx: RequestContext, drop: (name: string) => boolean): void {
  ctx.query = ctx.query
    .split('&')
    .filter((pair) => {
      const eq = pair.indexOf('=');
      const raw = eq < 0 ? pair : pair.slice(0, eq);
      try {
        return !drop(decodeURIComponent(raw.replaceAll('+', ' ')));
      } catch {
        return true;
      }
    })
    .join('&');
}
