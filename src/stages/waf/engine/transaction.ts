/**
 * One request's (and its response's) pass through a rule set: variables, TX, phases 1–5,
 * the rules that matched and the interruption, if any. A transaction is cheap to create and
 * never shared; the rule set it reads is immutable.
 */
import type { Ctl, EngineMode } from './actions.ts';
import { selectBodyProcessor } from './body/index.ts';
import { Collection } from './collection.ts';
import { Controls } from './controls.ts';
import type { Exclusions } from './exclusions.ts';
import { expandMacros } from './macros.ts';
import type { OperatorTx } from './operators/index.ts';
import type { Rule } from './rule.ts';
import type { RuleSetData } from './ruleset.ts';
import { resolveTargets, type Target, targetCacheKey } from './targets.ts';
import type { Transformation } from './transformations/index.ts';
import { TxData } from './tx-data.ts';
import type {
  EngineError,
  Interruption,
  MatchedRule,
  MatchedValue,
  RequestInput,
  ResponseInput,
} from './tx-types.ts';

export type {
  EngineError,
  Interruption,
  MatchedRule,
  MatchedValue,
  RequestInput,
  ResponseInput,
} from './tx-types.ts';

interface Resolved {
  readonly version: number;
  readonly targets: readonly Target[];
  /** Per transformation chain, the transformed value of each target (filled lazily). */
  readonly transformed: Map<string, (string | undefined)[]> | undefined;
}

export interface TransactionOptions {
  /** Per-operation exclusions (compiled by `ruleSet.compileExclusions`). */
  readonly exclusions?: Exclusions;
  /** Overrides the rule set's engine mode for this transaction (`DetectionOnly` for shadow mode). */
  readonly ruleEngine?: EngineMode;
  /**
   * Initial TX values, set before the first rule: CRS only defaults what is unset, so
   * `blocking_paranoia_level` or `inbound_anomaly_score_threshold` here win over crs-setup.
   */
  readonly tx?: Readonly<Record<string, string | number>>;
}

export class Transaction implements OperatorTx {
  readonly #rs: RuleSetData;
  readonly #data = new TxData();
  readonly #controls = new Controls();
  /** TX, the collection rules write with setvar. */
  readonly tx: Collection;
  readonly matchedRules: MatchedRule[] = [];
  interruption: Interruption | undefined;
  /**
   * Set when evaluating a rule threw (an operator failure, a resource limit): evaluation stops
   * and, with the engine On, the request is denied. Callers treat it as a deny in every mode
   * they enforce: an engine error must never let a request through unexamined.
   */
  error: EngineError | undefined;
  mode: EngineMode;
  bodyProcessor: string | undefined;
  requestBodyAccess = true;
  forceRequestBodyVariable = false;
  readonly #cache = new Map<string, Map<string, string>>();
  readonly #stepCache = new Map<string, Map<string, string>>();
  /** Resolved target lists shared by rules with the same targets, and their transformed values. */
  readonly #targetCache = new Map<string, Resolved>();
  // Entries keep the matched target's own name (`ARGS:q`), as ModSecurity logs them.
  readonly #matchedVars = new Collection('');
  readonly #matchedVarsNames = new Collection('');
  #capturing = false;
  #current: Rule | undefined;
  #allowed = 0;
  readonly #request: RequestInput;
  #headersDone = false;

  constructor(rs: RuleSetData, req: RequestInput, opts: TransactionOptions = {}) {
    this.#rs = rs;
    this.#request = req;
    this.mode = opts.ruleEngine ?? rs.ruleEngine;
    this.tx = this.#data.collection('TX');
    for (const [k, v] of Object.entries(opts.tx ?? {})) this.tx.set(k, String(v));
    for (const c of opts.exclusions?.ctls ?? []) this.#controls.add(c);
    this.#data.collections.set('MATCHED_VARS', this.#matchedVars);
    this.#data.collections.set('MATCHED_VARS_NAMES', this.#matchedVarsNames);
    this.#data.setRequest(req);
    this.bodyProcessor = selectBodyProcessor(
      this.#data.collection('REQUEST_HEADERS').get('content-type') ?? '',
    );
    if (this.bodyProcessor !== undefined) this.#data.scalars.set('REQBODY_PROCESSOR', this.bodyProcessor);
  }

  /** Scalar variables (REQUEST_URI, MATCHED_VAR, ...), read-only for callers. */
  get scalars(): ReadonlyMap<string, string> {
    return this.#data.scalars;
  }

  /** Collections (ARGS, REQUEST_HEADERS, TX, ...), read-only for callers. */
  get collections(): ReadonlyMap<string, Collection> {
    return this.#data.collections;
  }

  // --- OperatorTx -------------------------------------------------------------------------

  get capture(): boolean {
    return this.#capturing;
  }

  setCaptures(captures: readonly string[]): void {
    for (let i = 0; i < captures.length && i < 10; i++) this.tx.set(String(i), captures[i] ?? '');
  }

  expand(text: string): string {
    return expandMacros(text, (name, key) => this.#lookup(name, key));
  }

  // --- phases -----------------------------------------------------------------------------

  /** Phase 1. */
  processRequestHeaders(): Interruption | undefined {
    this.#headersDone = true;
    return this.#phase(1);
  }

  /** Body variables and phase 2. `body` is the raw request body (bytes or a latin1 string). */
  processRequestBody(body: Uint8Array | string = ''): Interruption | undefined {
    if (!this.#headersDone) this.processRequestHeaders();
    if (this.interruption !== undefined) return this.interruption;
    if (this.requestBodyAccess)
      this.#data.setBody(bytes(body), this.bodyProcessor, this.forceRequestBodyVariable);
    return this.#phase(2);
  }

  /** Phase 3. */
  processResponseHeaders(res: ResponseInput): Interruption | undefined {
    if (this.interruption !== undefined) return this.interruption;
    this.#data.setResponseHeaders(res, this.#request.protocol);
    return this.#phase(3);
  }

  /** Phase 4. */
  processResponseBody(body: Uint8Array | string = ''): Interruption | undefined {
    if (this.interruption !== undefined) return this.interruption;
    this.#data.setResponseBody(bytes(body));
    return this.#phase(4);
  }

  /** Phase 5: always runs, also after an interruption. */
  processLogging(): void {
    this.#phase(5, true);
  }

  // --- macros -----------------------------------------------------------------------------

  #lookup(name: string, key: string | undefined): string | undefined {
    if (name !== 'RULE') return this.#data.lookup(name, key);
    const r = this.#current;
    if (r === undefined || key === undefined) return undefined;
    switch (key.toLowerCase()) {
      case 'id':
        return String(r.id);
      case 'msg':
        return r.msg === undefined ? '' : this.expand(r.msg);
      case 'logdata':
        return r.logdata === undefined ? '' : this.expand(r.logdata);
      case 'severity':
        return r.severity;
      case 'ver':
        return r.ver;
      case 'rev':
        return r.rev;
      case 'phase':
        return String(r.phase);
      default:
        return undefined;
    }
  }

  // --- evaluation -------------------------------------------------------------------------

  #phase(phase: number, always = false): Interruption | undefined {
    if (this.mode === 'Off' || this.error !== undefined) return this.interruption;
    if (!always && (this.interruption !== undefined || this.#allowed >= phase)) return this.interruption;
    const items = this.#rs.phases[phase] ?? [];
    let skipTo: string | undefined;
    let skip = 0;
    for (const item of items) {
      if (item.kind === 'marker') {
        if (skipTo === item.name) skipTo = undefined;
        continue;
      }
      if (skipTo !== undefined) continue;
      if (skip > 0) {
        skip--;
        continue;
      }
      const rule = item.rule;
      if (this.#controls.isRemoved(rule)) continue;
      let matched: boolean;
      try {
        matched = this.#evaluate(rule);
      } catch (err) {
        this.#fail(rule, phase, err);
        break;
      }
      if (!matched) continue;
      if (rule.skipAfter !== undefined) skipTo = rule.skipAfter;
      if (rule.skip > 0) skip = rule.skip;
      if (this.#disrupt(rule, phase)) break;
      if ((this.mode as EngineMode) === 'Off') break;
    }
    return this.interruption;
  }

  #fail(rule: Rule, phase: number, err: unknown): void {
    this.error = { ruleId: rule.id, phase, message: err instanceof Error ? err.message : String(err) };
    if (this.mode === 'On' && this.interruption === undefined) {
      this.interruption = { ruleId: rule.id, action: 'deny', status: 403 };
    }
  }

  /** Applies the rule's disruptive action; true when processing of the phase stops. */
  #disrupt(rule: Rule, phase: number): boolean {
    let action = rule.disruptive;
    if (action === 'block') action = (this.#rs.blockAction[phase] ?? 'pass') as typeof action;
    if (action === 'pass' || action === 'block') return false;
    if (this.mode !== 'On') return false;
    if (action === 'allow') {
      // allow: the rest of the transaction (logging still runs); allow:request: the request
      // phases; allow:phase: the rest of this phase only.
      if (rule.allowScope === 'all') this.#allowed = 4;
      else if (rule.allowScope === 'request') this.#allowed = Math.max(this.#allowed, 2);
      return true;
    }
    const status = rule.status ?? (action === 'redirect' ? 302 : 403);
    this.interruption =
      action === 'redirect' && rule.redirect !== undefined
        ? { ruleId: rule.id, action, status, location: this.expand(rule.redirect) }
        : { ruleId: rule.id, action, status };
    return true;
  }

  /** Evaluates a chain; records it when every link matched. */
  #evaluate(starter: Rule): boolean {
    this.#current = starter;
    this.#matchedVars.clear();
    this.#matchedVarsNames.clear();
    const all: MatchedValue[] = [];
    for (let r: Rule | undefined = starter; r !== undefined; r = r.chain) {
      if (this.#evalLink(r, starter, all) === 0) return false;
    }
    this.matchedRules.push({
      id: starter.id,
      phase: starter.phase,
      msg: starter.msg === undefined ? '' : this.expand(starter.msg),
      logdata: starter.logdata === undefined ? '' : this.expand(starter.logdata),
      severity: starter.severity,
      tags: starter.tags,
      ver: starter.ver,
      file: starter.file,
      line: starter.line,
      log: starter.log,
      disruptive: starter.disruptive,
      matches: all,
    });
    return true;
  }

  #evalLink(rule: Rule, starter: Rule, all: MatchedValue[]): number {
    let matched = 0;
    const onMatch = (name: string, value: string, target = true) => {
      matched++;
      // SecAction matches without a target: MATCHED_VAR keeps the last real match.
      if (target) {
        all.push({ name, value });
        this.#data.scalars.set('MATCHED_VAR', value);
        this.#data.scalars.set('MATCHED_VAR_NAME', name);
        this.#matchedVars.add(name, value);
        this.#matchedVarsNames.add(name, name);
      }
      // Non-disruptive actions run per match, before the next link is evaluated: a chain
      // starter's setvar may feed its chained rule (CRS 920450).
      for (const e of rule.effects) {
        if (e.kind === 'setvar')
          this.#data.setvar(
            e.setvar,
            this.expand(e.setvar.key),
            e.setvar.op === 'delete' ? '' : this.expand(e.setvar.value),
          );
        else this.#ctl(e.ctl);
      }
    };
    if (rule.variables.length === 0) {
      onMatch('', '', false);
      return matched;
    }
    const resolved = this.#resolve(rule, starter);
    const targets = resolved.targets;
    const transformed = resolved.transformed?.get(rule.transformKey);
    for (let i = 0; i < targets.length; i++)
      this.#matchTarget(rule, targets[i] as Target, onMatch, transformed, i);
    return matched;
  }

  #resolve(rule: Rule, starter: Rule): Resolved {
    const removals = this.#controls.removedTargets(starter);
    const key = removals.length === 0 ? targetCacheKey(rule) : undefined;
    if (key === undefined)
      return { version: 0, targets: resolveTargets(rule, this.#data, removals), transformed: undefined };
    let hit = this.#targetCache.get(key);
    if (hit === undefined || hit.version !== this.#data.version) {
      hit = {
        version: this.#data.version,
        targets: resolveTargets(rule, this.#data, removals),
        transformed: new Map(),
      };
      this.#targetCache.set(key, hit);
    }
    if (rule.transformations.length > 0 && !hit.transformed?.has(rule.transformKey))
      hit.transformed?.set(rule.transformKey, []);
    return hit;
  }

  #matchTarget(
    rule: Rule,
    t: Target,
    onMatch: (name: string, value: string) => void,
    transformed: (string | undefined)[] | undefined,
    i: number,
  ): void {
    const op = rule.operator;
    this.#capturing = rule.capture;
    if (!rule.multiMatch) {
      let input: string;
      if (transformed === undefined) input = this.#transform(rule, t.value);
      else input = transformed[i] ??= this.#transform(rule, t.value);
      if (op.match(input, this) !== rule.negated) onMatch(t.name, input);
      return;
    }
    // multiMatch: the operator sees the value before and after every transformation that changes it.
    let v = t.value;
    if (op.match(v, this) !== rule.negated) onMatch(t.name, v);
    for (let i = 0; i < rule.transformations.length; i++) {
      const next = this.#apply(
        rule.transformNames[i] as string,
        rule.transformations[i] as Transformation,
        v,
      );
      if (next === v) continue;
      v = next;
      if (op.match(v, this) !== rule.negated) onMatch(t.name, v);
    }
  }

  #transform(rule: Rule, value: string): string {
    const fns = rule.transformations;
    if (fns.length === 0) return value;
    // Keyed by chain prefix, then by the value itself: V8 caches a string's hash, so a large
    // body seen by a hundred rules is hashed once; and chains sharing a prefix
    // (`urlDecodeUni` then `urlDecodeUni,lowercase`) run it once.
    const prefixes = rule.transformPrefixes;
    let done = fns.length;
    let v = value;
    for (; done > 0; done--) {
      const hit = this.#cache.get(prefixes[done - 1] as string)?.get(value);
      if (hit !== undefined) {
        v = hit;
        break;
      }
    }
    for (let i = done; i < fns.length; i++) {
      v = this.#apply(rule.transformNames[i] as string, fns[i] as Transformation, v);
      const key = prefixes[i] as string;
      let byValue = this.#cache.get(key);
      if (byValue === undefined) {
        byValue = new Map();
        this.#cache.set(key, byValue);
      }
      byValue.set(value, v);
    }
    return v;
  }

  /**
   * One transformation step, memoised by (transformation, input): most values pass through
   * most transformations unchanged, so different chains meet the same intermediate strings
   * (`jsDecode` after `urlDecodeUni` left a value as it was is `jsDecode` of the value).
   */
  #apply(name: string, fn: Transformation, input: string): string {
    let memo = this.#stepCache.get(name);
    if (memo === undefined) {
      memo = new Map();
      this.#stepCache.set(name, memo);
    }
    let out = memo.get(input);
    if (out === undefined) {
      out = fn(input);
      memo.set(input, out);
    }
    return out;
  }

  #ctl(c: Ctl): void {
    if (this.#controls.add(c)) return;
    switch (c.option) {
      case 'ruleEngine':
        this.mode = c.mode;
        return;
      case 'requestBodyProcessor':
        this.bodyProcessor = c.processor;
        this.#data.scalars.set('REQBODY_PROCESSOR', c.processor);
        return;
      case 'requestBodyAccess':
        this.requestBodyAccess = c.on;
        return;
      case 'forceRequestBodyVariable':
        this.forceRequestBodyVariable = c.on;
        return;
      default:
        // Audit and debug logs, and response body access, are the gateway's, not the engine's.
        return;
    }
  }
}

function bytes(body: Uint8Array | string): string {
  return typeof body === 'string'
    ? body
    : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1');
}
