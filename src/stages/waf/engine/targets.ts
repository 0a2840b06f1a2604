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

export function resolveTargets(rule: Rule, src: TargetSource, removals: readonly VariableSpec[]): Target[] {
  const out: Target[] = [];
  for (const spec of rule.variables) {
    if (spec.exclude) continue;
    const excluded = exclusionsFor(spec.name, rule.variables, removals);
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
    for (const e of entries) out.push({ name: `${spec.name}:${e.key}`, value: e.value });
  }
  return out;
}

function exclusionsFor(
  name: string,
  vars: readonly VariableSpec[],
  removals: readonly VariableSpec[],
): VariableSpec[] {
  const out: VariableSpec[] = [];
  for (const v of vars) if (v.exclude && v.name === name) out.push(v);
  for (const v of removals) if (v.name === name) out.push(v);
  return out;
}
