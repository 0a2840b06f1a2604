import type { RequestContext } from '../../core/context.ts';
import type { OperationInfo } from '../../core/operation.ts';
import { CONTINUE, type Outcome, reply } from '../../core/outcome.ts';
import type { Stage } from '../../core/stage.ts';
import { normalizePath } from './engine/path-normalize.ts';
import { type RouteLookup, Router } from './engine/router.ts';

export interface RouteEntry {
  /** Host patterns (`api.example.com`, `*.example.com`); empty: any host. */
  readonly hosts: readonly string[];
  /** Full template: base path + OpenAPI path. */
  readonly template: string;
  readonly operation: OperationInfo;
}

/**
 * Host → router tables. A request tries the routers for its exact host, then for its
 * one-label wildcard, then the any-host router, and stops at the first that knows the path.
 */
export class RouteTable {
  readonly #exact = new Map<string, Router<OperationInfo>>();
  readonly #wildcard = new Map<string, Router<OperationInfo>>();
  #any: Router<OperationInfo> | null = null;
  /** Preflight handlers (the `cors` stage) of paths that declare no `OPTIONS`, by the same hosts. */
  #preflights: RouteTable | null = null;

  /** Throws a message naming both operations when two entries clash. */
  add(entry: RouteEntry): void {
    const hosts = entry.hosts.length === 0 ? [''] : entry.hosts;
    for (const raw of hosts) {
      const host = raw.toLowerCase();
      let router: Router<OperationInfo>;
      if (host === '') router = this.#any ??= new Router();
      else if (host.startsWith('*.')) router = getOrCreate(this.#wildcard, host.slice(2));
      else router = getOrCreate(this.#exact, host);
      router.add(entry.operation.method, entry.template, entry.operation);
    }
  }

  /** Register the operation answering CORS preflights for a path that declares no `OPTIONS`. */
  addPreflight(entry: RouteEntry): void {
    if (this.#preflights === null) this.#preflights = new RouteTable();
    this.#preflights.add(entry);
  }

  /** The preflight operation of the path, if its API has a CORS policy (only asked on a would-be 405). */
  findPreflight(host: string, segments: readonly string[]): RouteLookup<OperationInfo> {
    return this.#preflights === null ? { kind: 'none' } : this.#preflights.find(host, 'OPTIONS', segments);
  }

  find(host: string, method: string, segments: readonly string[]): RouteLookup<OperationInfo> {
    const exact = this.#exact.get(host);
    if (exact) {
      const found = exact.find(method, segments);
      if (found.kind !== 'none') return found;
    }
    const dot = host.indexOf('.');
    if (dot > 0 && this.#wildcard.size > 0) {
      const wildcard = this.#wildcard.get(host.slice(dot + 1));
      if (wildcard) {
        const found = wildcard.find(method, segments);
        if (found.kind !== 'none') return found;
      }
    }
    return this.#any ? this.#any.find(method, segments) : { kind: 'none' };
  }
}

function getOrCreate<K, V>(map: Map<K, Router<V>>, key: K): Router<V> {
  let value = map.get(key);
  if (!value) {
    value = new Router<V>();
    map.set(key, value);
  }
  return value;
}

/** `Api.Example.com:8080` → `api.example.com`; `[::1]:80` → `[::1]`. */
export function hostName(header: string | undefined): string {
  if (!header) return '';
  const lower = header.toLowerCase();
  if (lower.startsWith('[')) {
    const end = lower.indexOf(']');
    return end > 0 ? lower.slice(0, end + 1) : lower;
  }
  const colon = lower.indexOf(':');
  return colon >= 0 ? lower.slice(0, colon) : lower;
}

function isCorsPreflight(ctx: RequestContext): boolean {
  return (
    ctx.method === 'OPTIONS' &&
    ctx.headers.origin !== undefined &&
    ctx.headers['access-control-request-method'] !== undefined
  );
}

/**
 * Deny by default: only operations declared in an API's OpenAPI document are reachable. The
 * path is normalized once here; the upstream receives the same normalized path.
 */
export function createRouteStage(table: RouteTable, operationCount: number): Stage {
  return {
    name: 'route',
    mode: 'enforce',
    summary: `${operationCount} operation(s); undeclared paths 404, undeclared methods 405`,
    request(ctx: RequestContext): Outcome {
      const target = ctx.target;
      const q = target.indexOf('?');
      const rawPath = q < 0 ? target : target.slice(0, q);
      if (q >= 0) ctx.query = target.slice(q + 1);
      if (rawPath.includes('#'))
        return reply(400, 'bad_request_target', { detail: 'fragment in request target' });
      const normalized = normalizePath(rawPath);
      if (!normalized.ok) return reply(400, normalized.reason, { detail: normalized.detail });
      ctx.path = normalized.path;
      const host = hostName(ctx.headers.host);
      let found = table.find(host, ctx.method, normalized.segments);
      if (found.kind === 'none') return reply(404, 'route_not_found');
      if (found.kind === 'method') {
        // A CORS preflight to a declared path is answered by its API's cors stage, not refused
        // as an undeclared OPTIONS (Fetch §4.8: without a 2xx the browser sends nothing).
        const preflight = isCorsPreflight(ctx) ? table.findPreflight(host, normalized.segments) : found;
        if (preflight.kind !== 'found')
          return reply(405, 'method_not_allowed', { headers: { allow: found.allow } });
        found = preflight;
      }
      ctx.route = { operation: found.value, params: found.params };
      // The operation's own body limit, below the listener's: checked on the declared length
      // now, before any stage reads the body or calls the upstream; a chunked body is counted
      // against it as it streams (RequestContext.takeBody reads `bodyLimit` then).
      const limit = found.value.maxBodySize;
      if (limit !== undefined && limit < ctx.bodyLimit) {
        ctx.bodyLimit = limit;
        const declared = ctx.headers['content-length'];
        if (declared !== undefined && Number(declared) > limit) {
          return reply(413, 'body_too_large', {
            detail: `content-length ${declared} over the operation's ${limit}`,
            headers: { connection: 'close' },
          });
        }
      }
      return CONTINUE;
    },
  };
}
