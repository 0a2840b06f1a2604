/**
 * A compiled rule: targets → transformations → operator → actions, with its chain. Compiled
 * once per rule set and shared read-only by every transaction.
 */
import { dirname } from 'node:path';
import { type ActionSet, applyAction, type Disruptive, type Effect, emptyActionSet } from './actions.ts';
import { createOperator, type Operator, type OperatorEnv } from './operators/index.ts';
import type { ActionSpec } from './seclang/actions-parse.ts';
import type { Directive } from './seclang/lexer.ts';
import type { OperatorSpec } from './seclang/parser.ts';
import { getTransformation, type Transformation } from './transformations/index.ts';
import type { VariableSpec } from './variables.ts';

export interface Rule {
  /** 0 for a chained rule (only the chain starter has an id). */
  readonly id: number;
  readonly phase: number;
  readonly file: string;
  readonly line: number;
  /** Targets including exclusions; SecRuleUpdateTarget* appends while the set is loading. */
  readonly variables: VariableSpec[];
  readonly operatorName: string;
  readonly operatorParam: string;
  readonly negated: boolean;
  readonly operator: Operator;
  readonly transformations: readonly Transformation[];
  /** Identifies the transformation chain for the per-transaction cache. */
  readonly transformKey: string;
  /** The key of each prefix of the chain (`a`, `a,b`, ...): chains share cached prefixes. */
  readonly transformPrefixes: readonly string[];
  /** Lower-case transformation names, in chain order. */
  readonly transformNames: readonly string[];
  readonly disruptive: Disruptive;
  readonly status: number | undefined;
  readonly allowScope: 'all' | 'phase' | 'request' | undefined;
  readonly redirect: string | undefined;
  readonly msg: string | undefined;
  readonly logdata: string | undefined;
  readonly severity: string | undefined;
  readonly tags: readonly string[];
  /** `tags` as a set, for the per-rule checks of tag-based removals. */
  readonly tagSet: ReadonlySet<string>;
  readonly ver: string | undefined;
  readonly rev: string | undefined;
  readonly maturity: string | undefined;
  readonly accuracy: string | undefined;
  readonly capture: boolean;
  readonly multiMatch: boolean;
  readonly log: boolean;
  readonly auditlog: boolean;
  readonly skipAfter: string | undefined;
  readonly skip: number;
  readonly effects: readonly Effect[];
  /** The next link of the chain; set by the compiler. */
  chain: Rule | undefined;
  /** The chain starter (itself for a starter). */
  readonly parent: Rule | undefined;
}

/** Collects the actions of `defaults` then `actions` into one set (rule actions win). */
export function collectActions(defaults: readonly ActionSpec[], actions: readonly ActionSpec[]): ActionSet {
  const set = emptyActionSet();
  for (const a of defaults) applyAction(set, a);
  // Default metadata (ids, phases) never leaks into a rule: only flow, logging and t: do.
  delete set.id;
  set.tags = [];
  for (const a of actions) applyAction(set, a);
  return set;
}

/** SecAction's operator: it has no targets and always matches once. */
const ALWAYS: Operator = { match: () => true };

/** Where operator and transformation names resolve; the engine's registries by default. */
export interface Registry {
  readonly createOperator: (name: string, param: string, env: OperatorEnv) => Operator;
  readonly getTransformation: (name: string) => Transformation | undefined;
}

export const DEFAULT_REGISTRY: Registry = { createOperator, getTransformation };

export interface CompileInput {
  readonly d: Directive;
  readonly variables: VariableSpec[];
  readonly operator: OperatorSpec;
  readonly set: ActionSet;
  readonly phase: number;
  readonly parent: Rule | undefined;
  readonly registry: Registry;
}

export function compileRule(input: CompileInput): Rule {
  const { d, set, operator } = input;
  const names: string[] = [];
  const fns: Transformation[] = [];
  for (const name of set.transformations) {
    if (name.toLowerCase() === 'none') {
      names.length = 0;
      fns.length = 0;
      continue;
    }
    const fn = input.registry.getTransformation(name);
    if (fn === undefined) throw new Error(`unknown transformation t:${name}`);
    names.push(name.toLowerCase());
    fns.push(fn);
  }
  let op: Operator = ALWAYS;
  if (operator.name !== '')
    try {
      op = input.registry.createOperator(operator.name, operator.param, {
        dir: dirname(d.file),
        file: d.file,
        line: d.line,
      });
    } catch (err) {
      throw new Error(`@${operator.name}: ${(err as Error).message}`);
    }
  return {
    id: input.parent === undefined ? (set.id ?? 0) : 0,
    phase: input.phase,
    file: d.file,
    line: d.line,
    variables: input.variables,
    operatorName: operator.name,
    operatorParam: operator.param,
    negated: operator.negated,
    operator: op,
    transformations: fns,
    transformKey: names.join(','),
    transformPrefixes: names.map((_, i) => names.slice(0, i + 1).join(',')),
    transformNames: [...names],
    disruptive: set.disruptive ?? 'pass',
    status: set.status,
    allowScope: set.allowScope,
    redirect: set.redirect,
    msg: set.msg,
    logdata: set.logdata,
    severity: set.severity,
    tags: set.tags,
    tagSet: new Set(set.tags),
    ver: set.ver,
    rev: set.rev,
    maturity: set.maturity,
    accuracy: set.accuracy,
    capture: set.capture,
    multiMatch: set.multiMatch,
    log: set.log ?? true,
    auditlog: set.auditlog ?? true,
    skipAfter: set.skipAfter,
    skip: set.skip,
    effects: set.effects,
    chain: undefined,
    parent: input.parent,
  };
}
