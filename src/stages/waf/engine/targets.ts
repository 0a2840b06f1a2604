/**
 * Resolves a rule's targets against a transaction into (name, value) pairs, applying the
 * rule's `!VAR:key` exclusions and the transaction's `ctl:ruleRemoveTarget*` removals, and
 * turning `&VAR` into a count.
 */
import type { Collection, Entry } from './collection.ts';
import type { Rule } from './rule.ts';
import { COLLECTIONS, keyMatches, type VariableSpec } from './variables.ts';

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
  /** The rule's own `!VAR:key` exclusions for this target's variable. */
  readonly excluded: readonly VariableSpec[];
}

/** Per-rule target plans, built on first use (rules no longer change once loaded). */
const plans = new WeakMap<Rule, readonly Plan[]>();

function planFor(rule: Rule): readonly Plan[] {
  let plan = plans.get(rule);
  if (plan === undefined) {
    plan = rule.variables
      .filter((v) => !v.exclude)
      .map((spec) => ({ spec, excluded: rule.variables.filter((v) => v.exclude && v.name === spec.name) }));
    plans.set(rule, plan);
  }
  return plan;
}

export function resolveTargets(rule: Rule, src: TargetSource, removals: readonly VariableSpec[]): Target[] {
  const out: Target[] = [];
  for (const { spec, excluded: own } of planFor(rule)) {
    const excluded = removals.length === 0 ? own : [...own, ...removals.filter((v) => v.name === spec.name)];
    if (!COLLECTIONS.has(spec.name)) {
      if (excluded.some((e) => e.selector.kind === 'all')) continue;
      const value = src.scalars.get(spec.name) ?? '';
      if (spec.count) out.push({ name: `&${spec.name}`, value: src.scalars.has(spec.name) ? '1' : '0' });
      else out.push({ name: spec.name, value });
      continue;
    }
    const col = src.collections.get(spec.name);
    let entries: readonly Entry[] = col === undefined ? [] : col.select(spec.selector);
    if (excluded.length > 0)
      entries = entries.filter((e) => !excluded.some((x) => keyMatches(x.selector, e.key)));
    if (spec.count) {
      out.push({
        name: `&${spec.name}${spec.selector.kind === 'exact' ? `:${spec.selector.key}` : ''}`,
        value: String(entries.length),
      });
      continue;
    }
    for (const e of entries) out.push(e);
  }
  return out;
}
