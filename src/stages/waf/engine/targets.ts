/**
 * Resolves a rule's targets against a transaction into (name, value) pairs, applying the
 * rule's `!VAR:key` exclusions and the transaction's `ctl:ruleRemoveTarget*` removals, and
 * turning `&VAR` into a count.
 */
import type { Collection, Entry } from './collection.ts';
import type { Rule } from './rule.ts';
import { COLLECTIONS, formatVariable, keyMatches, type VariableSpec } from './variables.ts';

export interface Target {
  readonly name: string;
  readonly value: string;
}

export interface TargetSource {
  readonly scalars: ReadonlyMap<string, string>;
  readonly collections: ReadonlyMap<string, Collection>;
}

interface Plan {
  readonly spec: VariableSpec;
  readonly collection: boolean;
  /** `&ARGS:x` / the scalar's name, computed once. */
  readonly name: string;
  /** The rule's own `!VAR:key` exclusions for this target's variable. */
  readonly excluded: readonly VariableSpec[];
}

/**
 * Variables whose values change while a phase runs (setvar, captures, matches, ctl). A rule
 * reading only other variables resolves to the same targets until the transaction's data
 * changes (a body, a response), so its resolution can be shared by every rule with the same
 * target list (CRS has few distinct lists across hundreds of rules).
 */
const VOLATILE = new Set([
  'TX',
  'MATCHED_VAR',
  'MATCHED_VAR_NAME',
  'MATCHED_VARS',
  'MATCHED_VARS_NAMES',
  'REQBODY_PROCESSOR',
]);

const cacheKeys = new WeakMap<Rule, string | null>();

/** The key under which `rule`'s resolved targets may be shared, or undefined when they may not. */
export function targetCacheKey(rule: Rule): string | undefined {
  let key = cacheKeys.get(rule);
  if (key === undefined) {
    key = rule.variables.some((v) => VOLATILE.has(v.name))
      ? null
      : rule.variables.map(formatVariable).join('|');
    cacheKeys.set(rule, key);
  }
  return key ?? undefined;
}

/** Per-rule target plans, built on first use (rules no longer change once loaded). */
const plans = new WeakMap<Rule, readonly Plan[]>();

function planFor(rule: Rule): readonly Plan[] {
  let plan = plans.get(rule);
  if (plan === undefined) {
    plan = rule.variables
      .filter((v) => !v.exclude)
      .map((spec) => ({
        spec,
        collection: COLLECTIONS.has(spec.name),
        name: spec.count
          ? `&${spec.name}${spec.selector.kind === 'exact' ? `:${spec.selector.key}` : ''}`
          : spec.name,
        excluded: rule.variables.filter((v) => v.exclude && v.name === spec.name),
      }));
    plans.set(rule, plan);
  }
  return plan;
}

function isExcluded(excluded: readonly VariableSpec[], key: string): boolean {
  for (let i = 0; i < excluded.length; i++) {
    const x = excluded[i];
    if (x !== undefined && keyMatches(x.selector, key)) return true;
  }
  return false;
}

export function resolveTargets(rule: Rule, src: TargetSource, removals: readonly VariableSpec[]): Target[] {
  const out: Target[] = [];
  const plans = planFor(rule);
  for (let p = 0; p < plans.length; p++) {
    const plan = plans[p] as Plan;
    const spec = plan.spec;
    const excluded = removals.length === 0 ? plan.excluded : withRemovals(plan, removals);
    if (!plan.collection) {
      if (excluded.length > 0 && excluded.some((e) => e.selector.kind === 'all')) continue;
      if (spec.count) out.push({ name: plan.name, value: src.scalars.has(spec.name) ? '1' : '0' });
      else out.push({ name: plan.name, value: src.scalars.get(spec.name) ?? '' });
      continue;
    }
    const col = src.collections.get(spec.name);
    if (col === undefined || col.size === 0) {
      if (spec.count) out.push({ name: plan.name, value: '0' });
      continue;
    }
    const entries = col.select(spec.selector);
    if (spec.count) {
      let n = 0;
      for (let i = 0; i < entries.length; i++) {
        if (excluded.length === 0 || !isExcluded(excluded, (entries[i] as Entry).key)) n++;
      }
      out.push({ name: plan.name, value: String(n) });
      continue;
    }
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as Entry;
      if (excluded.length === 0 || !isExcluded(excluded, e.key)) out.push(e);
    }
  }
  return out;
}

/** The plan's exclusions plus the run-time removals for its variable (allocates only when some apply). */
function withRemovals(plan: Plan, removals: readonly VariableSpec[]): readonly VariableSpec[] {
  let out: VariableSpec[] | undefined;
  for (let i = 0; i < removals.length; i++) {
    const r = removals[i] as VariableSpec;
    if (r.name !== plan.spec.name) continue;
    out ??= [...plan.excluded];
    out.push(r);
  }
  return out ?? plan.excluded;
}
