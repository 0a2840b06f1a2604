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
      const found = table.find(hostName(ctx.headers.host), ctx.method, normalized.segments);
      if (found.kind === 'none') return reply(404, 'route_not_found');
      if (found.kind === 'method')
        return reply(405, 'method_not_allowed', { headers: { allow: found.allow } });
      ctx.route = { operation: found.value, params: found.params };
      return CONTINUE;
    },
  };
}
