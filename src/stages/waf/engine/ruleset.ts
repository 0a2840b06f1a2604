/**
 * Compiles SecLang sources into an immutable rule set: rules grouped by phase in file
 * order, with the markers `skipAfter` jumps to. Built once and shared by every transaction;
 * every problem stops the load with file and line (fail closed: a rule that does not compile
 * is never skipped).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineMode } from './actions.ts';
import { collectActions, compileRule, DEFAULT_REGISTRY, type Registry, type Rule } from './rule.ts';
import type { ActionSpec } from './seclang/actions-parse.ts';
import { type Directive, lex, SecLangError } from './seclang/lexer.ts';
import { type IdRange, type OperatorSpec, parseDirective, type Statement } from './seclang/parser.ts';
import type { VariableSpec } from './variables.ts';

export type PhaseItem =
  | { readonly kind: 'rule'; readonly rule: Rule }
  | { readonly kind: 'marker'; readonly name: string };

/** An engine directive (`SecRequestBodyLimit 13107200`) for the gateway to map onto its config. */
export interface Setting {
  readonly name: string;
  readonly value: string;
  readonly file: string;
  readonly line: number;
}

export interface RuleSetData {
  /** Index 1..5: the phase's rules and markers in load order. */
  readonly phases: readonly (readonly PhaseItem[])[];
  readonly rules: readonly Rule[];
  readonly settings: readonly Setting[];
  readonly signatures: readonly string[];
  readonly ruleEngine: EngineMode;
  /** The disruptive action `block` stands for, per phase (from SecDefaultAction). */
  readonly blockAction: readonly string[];
}

export interface Source {
  /** Shown in errors; also the directory `@pmFromFile` resolves against. */
  readonly file: string;
  readonly text: string;
}

export function readSource(file: string): Source {
  return { file, text: readFileSync(file, 'latin1') };
}

/** A CRS installation's files in load order: setup, `before`, rules/*.conf, `after`. */
export function crsSources(
  crsDir: string,
  before: readonly Source[] = [],
  after: readonly Source[] = [],
): Source[] {
  const setup = ['crs-setup.conf', 'crs-setup.conf.example']
    .map((f) => join(crsDir, f))
    .find((f) => existsSync(f));
  if (setup === undefined) throw new Error(`${crsDir}: no crs-setup.conf or crs-setup.conf.example`);
  const rulesDir = join(crsDir, 'rules');
  const rules = readdirSync(rulesDir)
    .filter((f) => f.endsWith('.conf'))
    .sort()
    .map((f) => readSource(join(rulesDir, f)));
  return [readSource(setup), ...before, ...rules, ...after];
}

interface Pending {
  starter: Rule;
  last: Rule;
}

export function compileRuleSet(
  sources: readonly Source[],
  ruleEngine?: EngineMode,
  registry: Registry = DEFAULT_REGISTRY,
): RuleSetData {
  const c = new Compiler(registry);
  for (const src of sources) for (const d of lex(src.text, src.file)) c.statement(parseDirective(d));
  return c.finish(ruleEngine);
}

class Compiler {
  readonly rules: Rule[] = [];
  readonly items: { item: PhaseItem; phase: number }[] = [];
  readonly defaults = new Map<number, readonly ActionSpec[]>();
  readonly settings: Setting[] = [];
  readonly signatures: string[] = [];
  readonly markers = new Set<string>();
  readonly ids = new Set<number>();
  /** How each chain starter was written, so SecRuleUpdateActionById can recompile it. */
  readonly written = new Map<
    Rule,
    { d: Directive; variables: VariableSpec[]; operator: OperatorSpec; actions: readonly ActionSpec[] }
  >();
  pending: Pending | undefined;
  pendingAt: Directive | undefined;
  readonly registry: Registry;

  constructor(registry: Registry) {
    this.registry = registry;
  }

  statement(s: Statement): void {
    try {
      this.apply(s);
    } catch (err) {
      if (err instanceof SecLangError) throw err;
      throw new SecLangError(s.d.file, s.d.line, `${s.d.name}: ${(err as Error).message}`);
    }
  }

  apply(s: Statement): void {
    if (this.pending !== undefined && s.kind !== 'rule') {
      throw new Error(
        `rule ${this.pending.starter.id} ends with chain, but the next directive is not a SecRule`,
      );
    }
    switch (s.kind) {
      case 'rule':
        this.rule(s.d, s.variables, s.operator, s.actions);
        return;
      case 'action':
        this.rule(s.d, [], { name: '', param: '', negated: false }, s.actions, true);
        return;
      case 'marker':
        this.markers.add(s.name);
        this.items.push({ item: { kind: 'marker', name: s.name }, phase: 0 });
        return;
      case 'defaultAction': {
        const set = collectActions([], s.actions);
        if (set.phase === undefined) throw new Error('SecDefaultAction needs a phase');
        if (set.disruptive === undefined) throw new Error('SecDefaultAction needs a disruptive action');
        this.defaults.set(set.phase, s.actions);
        return;
      }
      case 'removeById':
        this.remove((r) => inRanges(r.id, s.ranges));
        return;
      case 'removeByTag':
        this.remove((r) => r.tagSet.has(s.tag));
        return;
      case 'removeByMsg':
        this.remove((r) => r.msg === s.msg);
        return;
      case 'updateTargetById':
        this.updateTargets((r) => inRanges(r.id, s.ranges), s.variables, `id ${s.d.args[0]}`);
        return;
      case 'updateTargetByTag':
        this.updateTargets((r) => r.tagSet.has(s.tag), s.variables, undefined);
        return;
      case 'updateTargetByMsg':
        this.updateTargets((r) => r.msg === s.msg, s.variables, undefined);
        return;
      case 'updateActionById':
        this.updateActions(s.id, s.actions);
        return;
      case 'signature':
        this.signatures.push(s.value);
        return;
      case 'setting':
        this.settings.push({ name: s.name, value: s.value, file: s.d.file, line: s.d.line });
        return;
    }
  }

  rule(
    d: Directive,
    variables: VariableSpec[],
    operator: OperatorSpec,
    actions: readonly ActionSpec[],
    isAction = false,
  ): void {
    const pending = this.pending;
    const starter = pending?.starter;
    const phaseOf = (set: { phase?: number }) => set.phase ?? 2;
    // Chained rules inherit the starter's phase; only the starter carries id and disruptive actions.
    const probe = collectActions([], actions);
    const phase = starter?.phase ?? phaseOf(probe);
    const set = collectActions(starter === undefined ? (this.defaults.get(phase) ?? []) : [], actions);
    if (starter === undefined) {
      if (set.id === undefined) throw new Error(`${isAction ? 'SecAction' : 'SecRule'} without an id`);
      if (this.ids.has(set.id)) throw new Error(`duplicate rule id ${set.id}`);
    } else {
      if (probe.id !== undefined) throw new Error('a chained rule cannot have an id');
      if (probe.phase !== undefined) throw new Error('a chained rule cannot have a phase');
    }
    const rule = compileRule({
      d,
      variables,
      operator,
      set,
      phase,
      parent: starter,
      registry: this.registry,
    });
    if (pending !== undefined) {
      pending.last.chain = rule;
      pending.last = rule;
    } else {
      this.ids.add(rule.id);
      this.written.set(rule, { d, variables, operator, actions });
      this.rules.push(rule);
      this.items.push({ item: { kind: 'rule', rule }, phase });
    }
    if (set.chain) {
      this.pending = pending ?? { starter: rule, last: rule };
      this.pendingAt = d;
    } else {
      this.pending = undefined;
    }
  }

  /**
   * SecRuleUpdateActionById: the rule is recompiled with the new actions after its own
   * (a later single-valued action wins; t:none resets as usual). Id and phase stay.
   */
  updateActions(id: number, actions: readonly ActionSpec[]): void {
    const old = this.rules.find((r) => r.id === id);
    const w = old === undefined ? undefined : this.written.get(old);
    if (old === undefined || w === undefined)
      throw new Error(`no rule with id ${id} is loaded before this directive`);
    if (actions.some((a) => a.name === 'id' || a.name === 'phase' || a.name === 'chain')) {
      throw new Error('cannot change id, phase or chain');
    }
    const all = [...w.actions, ...actions];
    const set = collectActions(this.defaults.get(old.phase) ?? [], all);
    const rule = compileRule({
      d: w.d,
      variables: w.variables,
      operator: w.operator,
      set,
      phase: old.phase,
      parent: undefined,
      registry: this.registry,
    });
    rule.chain = old.chain;
    this.written.delete(old);
    this.written.set(rule, { ...w, actions: all });
    this.rules[this.rules.indexOf(old)] = rule;
    const at = this.items.findIndex((x) => x.item.kind === 'rule' && x.item.rule === old);
    if (at >= 0) this.items[at] = { item: { kind: 'rule', rule }, phase: old.phase };
  }

  remove(pred: (r: Rule) => boolean): void {
    for (const r of this.rules) if (pred(r)) this.ids.delete(r.id);
    for (let i = this.items.length - 1; i >= 0; i--) {
      const it = this.items[i]?.item;
      if (it?.kind === 'rule' && pred(it.rule)) this.items.splice(i, 1);
    }
    for (let i = this.rules.length - 1; i >= 0; i--) {
      const r = this.rules[i];
      if (r !== undefined && pred(r)) this.rules.splice(i, 1);
    }
  }

  updateTargets(pred: (r: Rule) => boolean, vars: VariableSpec[], single: string | undefined): void {
    let n = 0;
    for (const r of this.rules) {
      if (!pred(r)) continue;
      n++;
      // Exclusions and new targets are both appended, as in ModSecurity.
      r.variables.push(...vars);
    }
    // A misplaced exclusion (before the rule it names) would otherwise be silently inert.
    if (n === 0 && single !== undefined)
      throw new Error(`no rule with ${single} is loaded before this directive`);
  }

  finish(ruleEngine: EngineMode | undefined): RuleSetData {
    if (this.pending !== undefined && this.pendingAt !== undefined) {
      throw new SecLangError(
        this.pendingAt.file,
        this.pendingAt.line,
        `rule ${this.pending.starter.id} ends with chain, but no SecRule follows`,
      );
    }
    for (const r of this.rules) {
      if (r.skipAfter !== undefined && !this.markers.has(r.skipAfter)) {
        throw new SecLangError(r.file, r.line, `skipAfter:${r.skipAfter}: no SecMarker with that name`);
      }
    }
    const phases: PhaseItem[][] = [[], [], [], [], [], []];
    for (const { item, phase } of this.items) {
      // A marker belongs to every phase, so a skipAfter in any phase finds it.
      if (phase === 0) for (const list of phases) list.push(item);
      else phases[phase]?.push(item);
    }
    const blockAction = [0, 1, 2, 3, 4, 5].map((p) => {
      const d = this.defaults.get(p);
      return d === undefined ? 'pass' : (collectActions([], d).disruptive ?? 'pass');
    });
    const engine = this.settings.findLast((s) => s.name === 'SecRuleEngine');
    return {
      phases,
      rules: this.rules,
      settings: this.settings,
      signatures: this.signatures,
      ruleEngine: ruleEngine ?? (engine === undefined ? 'On' : engineMode(engine)),
      blockAction,
    };
  }
}

function engineMode(s: Setting): EngineMode {
  const v = s.value.toLowerCase();
  if (v === 'on') return 'On';
  if (v === 'off') return 'Off';
  if (v === 'detectiononly') return 'DetectionOnly';
  throw new SecLangError(
    s.file,
    s.line,
    `SecRuleEngine: expected On, Off or DetectionOnly, got "${s.value}"`,
  );
}

export function inRanges(id: number, ranges: readonly IdRange[]): boolean {
  for (const r of ranges) if (id >= r.from && id <= r.to) return true;
  return false;
}
