import type { RequestContext } from '../../core/context.ts';
import type { Outcome } from '../../core/outcome.ts';
import type { Stage } from '../../core/stage.ts';
import { applyHeaderSteps, describeSteps, type HeaderStep, touchedNames } from './header-rules.ts';

type Overlay = Record<string, string | string[] | number | undefined>;

/**
 * Put an operation's request header rules into its `transform` stage, after the identity
 * headers. Every header a rule names is stripped from the client's request and re-set from the
 * rules' result, so a rule whose value cannot be made (an anonymous caller for
 * `{principal.id}`) never leaves a client-sent copy in its place.
 */
export function withRequestHeaderRules(stages: readonly Stage[], steps: readonly HeaderStep[]): Stage[] {
  if (steps.length === 0) return [...stages];
  return stages.map((s) => (s.name === 'transform' ? createHeaderRulesStage(s, steps) : s));
}

/** `add` joins with `, ` (RFC 9110 §5.3); `Cookie`, whose separator differs, cannot be added to. */
const separator = () => ', ';

function createHeaderRulesStage(identity: Stage, steps: readonly HeaderStep[]): Stage {
  const touched = [...touchedNames(steps)];
  let base: ReadonlySet<string> | null = null;
  let strip: ReadonlySet<string> = new Set(touched);
  return {
    name: 'transform',
    mode: identity.mode,
    summary: `${identity.summary}; request header rules: ${describeSteps(steps)}`,
    request(ctx: RequestContext): Outcome {
      // The identity part is synchronous (it only reads the principal).
      const outcome = identity.request!(ctx) as Outcome;
      const edits = ctx.upstreamHeaders!;
      if (edits.strip !== base) {
        base = edits.strip;
        strip = new Set([...edits.strip, ...touched]);
      }
      const overlay: Overlay = {};
      const consumed = ctx.consumedHeaders;
      for (const name of touched) {
        // A credential the gateway consumed is never put back, even as a rename's target.
        if (consumed?.includes(name)) continue;
        const value = ctx.headers[name];
        if (value !== undefined) overlay[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      applyHeaderSteps(steps, overlay, ctx, separator);
      const set: Record<string, string> = { ...edits.set };
      for (const name in overlay) {
        const value = overlay[name];
        if (value !== undefined) set[name] = Array.isArray(value) ? value.join(', ') : String(value);
      }
      ctx.upstreamHeaders = { strip, set };
      return outcome;
    },
  };
}
