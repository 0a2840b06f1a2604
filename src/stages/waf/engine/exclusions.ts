/**
 * Per-operation exclusions — the tool for false positives — compiled once against a rule set
 * and applied to each transaction before its first rule, exactly as the equivalent `ctl:`
 * actions would (ruleRemoveById, ruleRemoveByTag, ruleRemoveTarget*). An exclusion naming a
 * rule or tag the set does not have is an error: a typo must not leave a false positive in
 * place while looking fixed.
 */
import type { Ctl } from './actions.ts';
import type { Rule } from './rule.ts';
import { type IdRange, parseRange } from './seclang/parser.ts';
import { parseVariables, type VariableSpec } from './variables.ts';

export interface ExclusionSpec {
  /** Rule ids or ranges (`942100`, `"942100-942199"`) not to run. */
  readonly ruleIds?: readonly (number | string)[];
  /** Rules carrying any of these tags not to run (`attack-sqli`, `paranoia-level/2`). */
  readonly tags?: readonly string[];
  /** Targets a rule (by id) or rules (by tag) must not inspect: `ARGS:password`, `REQUEST_COOKIES:/^sess/`. */
  readonly targets?: readonly {
    readonly ruleId?: number | string;
    readonly tag?: string;
    readonly target: string;
  }[];
}

/** Opaque, validated exclusions for `newTransaction`. */
export interface Exclusions {
  readonly ctls: readonly Ctl[];
}

export function compileExclusions(spec: ExclusionSpec, rules: readonly Rule[]): Exclusions {
  const ids = new Set(rules.map((r) => r.id));
  const tags = new Set(rules.flatMap((r) => r.tags));
  const ctls: Ctl[] = [];
  const ranges = (v: number | string, where: string): IdRange[] => {
    let range: IdRange;
    try {
      range = parseRange(String(v));
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).message}`);
    }
    if (range.from === range.to && !ids.has(range.from))
      throw new Error(`${where}: no rule ${range.from} in the rule set`);
    return [range];
  };
  const tag = (t: string, where: string): string => {
    if (!tags.has(t)) throw new Error(`${where}: no rule is tagged "${t}"`);
    return t;
  };
  (spec.ruleIds ?? []).forEach((v, i) => {
    ctls.push({ option: 'ruleRemoveById', ranges: ranges(v, `ruleIds[${i}]`) });
  });
  (spec.tags ?? []).forEach((t, i) => {
    ctls.push({ option: 'ruleRemoveByTag', tag: tag(t, `tags[${i}]`) });
  });
  (spec.targets ?? []).forEach((t, i) => {
    const where = `targets[${i}]`;
    let variables: VariableSpec[];
    try {
      variables = parseVariables(t.target);
    } catch (err) {
      throw new Error(`${where}.target: ${(err as Error).message}`);
    }
    if (variables.some((v) => v.exclude || v.count))
      throw new Error(`${where}.target: name the target itself, without ! or &`);
    if ((t.ruleId === undefined) === (t.tag === undefined))
      throw new Error(`${where}: give exactly one of ruleId and tag`);
    if (t.ruleId !== undefined)
      ctls.push({ option: 'ruleRemoveTargetById', ranges: ranges(t.ruleId, `${where}.ruleId`), variables });
    else ctls.push({ option: 'ruleRemoveTargetByTag', tag: tag(t.tag ?? '', `${where}.tag`), variables });
  });
  return { ctls };
}
