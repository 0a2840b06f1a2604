/**
 * Run-time rule exclusions a transaction accumulates from `ctl:` actions: rules removed by
 * id, tag or message, and targets removed from rules. They apply to the rules evaluated
 * after the ctl ran, in this transaction only.
 */
import type { Ctl } from './actions.ts';
import type { Rule } from './rule.ts';
import { inRanges } from './ruleset.ts';
import type { IdRange } from './seclang/parser.ts';
import type { VariableSpec } from './variables.ts';

type TargetRemoval = { readonly match: (r: Rule) => boolean; readonly variables: readonly VariableSpec[] };

const NONE: readonly VariableSpec[] = [];

export class Controls {
  readonly #ids: IdRange[] = [];
  readonly #tags = new Set<string>();
  readonly #msgs = new Set<string>();
  readonly #targets: TargetRemoval[] = [];

  /** Records a removal ctl; false when `c` is not one. */
  add(c: Ctl): boolean {
    switch (c.option) {
      case 'ruleRemoveById':
        this.#ids.push(...c.ranges);
        return true;
      case 'ruleRemoveByTag':
        this.#tags.add(c.tag);
        return true;
      case 'ruleRemoveByMsg':
        this.#msgs.add(c.msg);
        return true;
      case 'ruleRemoveTargetById':
        this.#targets.push({ match: (r) => inRanges(r.id, c.ranges), variables: c.variables });
        return true;
      case 'ruleRemoveTargetByTag':
        this.#targets.push({ match: (r) => r.tagSet.has(c.tag), variables: c.variables });
        return true;
      case 'ruleRemoveTargetByMsg':
        this.#targets.push({ match: (r) => r.msg === c.msg, variables: c.variables });
        return true;
      default:
        return false;
    }
  }

  isRemoved(rule: Rule): boolean {
    if (this.#ids.length > 0 && inRanges(rule.id, this.#ids)) return true;
    if (this.#tags.size > 0) for (const t of this.#tags) if (rule.tagSet.has(t)) return true;
    if (this.#msgs.size > 0 && rule.msg !== undefined && this.#msgs.has(rule.msg)) return true;
    return false;
  }

  /** The targets removed from `rule` (a chain starter). */
  removedTargets(rule: Rule): readonly VariableSpec[] {
    if (this.#targets.length === 0) return NONE;
    const out: VariableSpec[] = [];
    for (const r of this.#targets) if (r.match(rule)) out.push(...r.variables);
    return out;
  }
}
