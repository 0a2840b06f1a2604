import type { Principal, RequestContext, UpstreamHeaderEdits } from '../../core/context.ts';
import { CONTINUE, type Outcome } from '../../core/outcome.ts';
import type { Stage } from '../../core/stage.ts';

export interface IdentityHeaderOptions {
  /** Client headers never passed on (lowercase). */
  readonly strip: readonly string[];
  /** Header (lowercase) → principal field: `id`, `kind`, `scheme`, `scopes`, `claims.X`, `attributes.X`. */
  readonly inject: Readonly<Record<string, string>>;
}

/**
 * The `transform` stage's identity part: the upstream trusts identity headers only because the
 * gateway owns them. Client-sent copies are removed (in any case and with `_` for `-`, which
 * CGI-style upstreams read as the same variable); the verified principal is injected. An
 * anonymous request gets the strip but no identity.
 */
export function createIdentityHeadersStage(options: IdentityHeaderOptions): Stage {
  const strip = new Set([...options.strip, ...Object.keys(options.inject)].map((n) => n.toLowerCase()));
  const inject = Object.entries(options.inject).map(([name, field]) => [name.toLowerCase(), field] as const);
  const anonymous: UpstreamHeaderEdits = Object.freeze({ strip, set: Object.freeze({}) });
  return {
    name: 'transform',
    mode: 'enforce',
    summary: `identity headers: strip ${[...strip].join(', ')}; inject ${inject.map(([n, f]) => `${n}=${f}`).join(', ') || 'none'}`,
    request(ctx: RequestContext): Outcome {
      const principal = ctx.principal;
      if (principal === null) {
        ctx.upstreamHeaders = anonymous;
        return CONTINUE;
      }
      const set: Record<string, string> = {};
      for (const [name, field] of inject) {
        const value = principalField(principal, field);
        if (value !== undefined) set[name] = value;
      }
      ctx.upstreamHeaders = { strip, set };
      return CONTINUE;
    },
  };
}

/**
 * A principal field as a header value, or undefined when absent. Values that are not safe in a
 * header (control characters, over 4 KiB) are left out rather than sent mangled: a claim is
 * client-influenced data (CRLF in a claim must never become a header injection).
 */
export function principalField(principal: Principal, field: string): string | undefined {
  let value: unknown;
  if (field === 'id') value = principal.id;
  else if (field === 'kind') value = principal.kind;
  else if (field === 'scheme') value = principal.scheme;
  else if (field === 'scopes') value = principal.scopes.join(' ');
  else {
    const dot = field.indexOf('.');
    const root = field.slice(0, dot);
    const name = field.slice(dot + 1);
    const bag = (root === 'claims' ? principal.attributes.claims : principal.attributes) as
      | Record<string, unknown>
      | undefined;
    value = bag && Object.hasOwn(bag, name) ? bag[name] : undefined;
  }
  if (value === undefined || value === null) return undefined;
  const text =
    typeof value === 'string'
      ? value
      : Array.isArray(value)
        ? value.join(' ')
        : typeof value === 'object'
          ? JSON.stringify(value)
          : String(value);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (text.length > 4096 || /[\u0000-\u001f\u007f]/.test(text)) return undefined;
  return text;
}
