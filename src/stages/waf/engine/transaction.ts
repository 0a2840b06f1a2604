/**
 * One request's (and its response's) pass through a rule set: variables, TX, phases 1–5,
 * the rules that matched and the interruption, if any. A transaction is cheap to create and
 * never shared; the rule set it reads is immutable.
 */
import type { Ctl, EngineMode, SetVar } from './actions.ts';
import { type BodyState, processBody, selectBodyProcessor } from './body/index.ts';
import { Collection } from './collection.ts';
import { expandMacros } from './macros.ts';
import type { OperatorTx } from './operators/index.ts';
import { basename, parseCookies, parseUrlEncoded, splitUri, urlDecode } from './request.ts';
import type { Rule } from './rule.ts';
import { inRanges, type RuleSetData } from './ruleset.ts';
import type { IdRange } from './seclang/parser.ts';
import { resolveTargets, type Target } from './targets.ts';
import type { VariableSpec } from './variables.ts';

export interface RequestInput {
  readonly method: string;
  /** The request target as sent (origin or absolute form), as a byte string. */
  readonly uri: string;
  /** `HTTP/1.1` */
  readonly protocol: string;
  /** Header fields in order, names as sent, values as byte strings. */
  readonly headers: readonly (readonly [string, string])[];
  readonly remoteAddr?: string;
  readonly remotePort?: number;
  readonly serverAddr?: string;
  readonly serverPort?: number;
  /** UNIQUE_ID; the gateway passes its request id. */
  readonly id?: string;
}

export interface ResponseInput {
  readonly status: number;
  readonly protocol?: string;
  readonly headers: readonly (readonly [string, string])[];
}

export interface MatchedValue {
  /** `ARGS:q`, `REQUEST_HEADERS:User-Agent`, `REQUEST_URI`. */
  readonly name: string;
  /** The transformed value the operator matched. */
  readonly value: string;
}

export interface MatchedRule {
  readonly id: number;
  readonly phase: number;
  readonly msg: string;
  readonly logdata: string;
  readonly severity: string | undefined;
  readonly tags: readonly string[];
  readonly ver: string | undefined;
  readonly file: string;
  readonly line: number;
  /** Whether the rule logs (`nolog` rules are recorded here but not logged). */
  readonly log: boolean;
  readonly disruptive: string;
  readonly matches: readonly MatchedValue[];
}

export interface EngineError {
  readonly ruleId: number;
  readonly phase: number;
  readonly message: string;
}

export interface Interruption {
  readonly ruleId: number;
  readonly action: 'deny' | 'drop' | 'redirect';
  readonly status: number;
  /** `redirect:URL`, expanded. */
  readonly location?: string;
}

type TargetRemoval = { readonly match: (r: Rule) => boolean; readonly variables: readonly VariableSpec[] };

export class Transaction implements OperatorTx {
  readonly #rs: RuleSetData;
  readonly scalars = new Map<string, string>();
  readonly collections = new Map<string, Collection>();
  readonly tx = new Collection('TX');
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
  readonly #removedIds: IdRange[] = [];
  readonly #removedTags = new Set<string>();
  readonly #removedMsgs = new Set<string>();
  readonly #targetRemovals: TargetRemoval[] = [];
  readonly #cache = new Map<string, Map<string, string>>();
  // Entries keep the matched target's own name (`ARGS:q`), as ModSecurity logs them.
  readonly #matchedVars = new Collection('');
  readonly #matchedVarsNames = new Collection('');
  #capturing = false;
  #current: Rule | undefined;
  #allowed = 0;
  readonly #request: RequestInput;
  #headersDone = false;

  constructor(rs: RuleSetData, req: RequestInput) {
    this.#rs = rs;
    this.#request = req;
    this.mode = rs.ruleEngine;
    this.collections.set('TX', this.tx);
    this.collections.set('MATCHED_VARS', this.#matchedVars);
    this.collections.set('MATCHED_VARS_NAMES', this.#matchedVarsNames);
    this.#setupRequest(req);
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
    const text =
      typeof body === 'string'
        ? body
        : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1');
    if (this.requestBodyAccess) this.#setupBody(text);
    return this.#phase(2);
  }

  /** Phase 3. */
  processResponseHeaders(res: ResponseInput): Interruption | undefined {
    if (this.interruption !== undefined) return this.interruption;
    this.scalars.set('RESPONSE_STATUS', String(res.status));
    this.scalars.set('RESPONSE_PROTOCOL', res.protocol ?? this.#request.protocol);
    this.scalars.set('STATUS_LINE', `${res.protocol ?? this.#request.protocol} ${res.status}`);
    const headers = this.#collection('RESPONSE_HEADERS');
    const names = this.#collection('RESPONSE_HEADERS_NAMES');
    for (const [k, v] of res.headers) {
      headers.add(k, v);
      names.add(k, k);
      if (k.toLowerCase() === 'content-type') this.scalars.set('RESPONSE_CONTENT_TYPE', v);
      if (k.toLowerCase() === 'content-length') this.scalars.set('RESPONSE_CONTENT_LENGTH', v);
    }
    return this.#phase(3);
  }

  /** Phase 4. */
  processResponseBody(body: Uint8Array | string = ''): Interruption | undefined {
    if (this.interruption !== undefined) return this.interruption;
    const text =
      typeof body === 'string'
        ? body
        : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1');
    this.scalars.set('RESPONSE_BODY', text);
    return this.#phase(4);
  }

  /** Phase 5: always runs, also after an interruption. */
  processLogging(): void {
    this.#phase(5, true);
  }

  // --- request variables ------------------------------------------------------------------

  #collection(name: string): Collection {
    let c = this.collections.get(name);
    if (c === undefined) {
      c = new Collection(name);
      this.collections.set(name, c);
    }
    return c;
  }

  #setupRequest(req: RequestInput): void {
    const s = this.scalars;
    const parts = splitUri(req.uri);
    s.set('REQUEST_METHOD', req.method);
    s.set('REQUEST_PROTOCOL', req.protocol);
    s.set('REQUEST_LINE', `${req.method} ${req.uri} ${req.protocol}`);
    s.set('REQUEST_URI_RAW', req.uri);
    s.set('REQUEST_URI', parts.uri);
    const filename = urlDecode(parts.path, false);
    s.set('REQUEST_FILENAME', filename);
    s.set('PATH_INFO', filename);
    s.set('REQUEST_BASENAME', basename(filename));
    s.set('QUERY_STRING', parts.query);
    s.set('REMOTE_ADDR', req.remoteAddr ?? '');
    s.set('REMOTE_HOST', req.remoteAddr ?? '');
    s.set('REMOTE_PORT', String(req.remotePort ?? 0));
    s.set('SERVER_ADDR', req.serverAddr ?? '');
    s.set('SERVER_PORT', String(req.serverPort ?? 0));
    s.set('UNIQUE_ID', req.id ?? '');
    const now = new Date();
    s.set('TIME_EPOCH', String(Math.floor(now.getTime() / 1000)));
    const args = this.#collection('ARGS');
    const argsGet = this.#collection('ARGS_GET');
    const names = this.#collection('ARGS_NAMES');
    const getNames = this.#collection('ARGS_GET_NAMES');
    for (const [k, v] of parseUrlEncoded(parts.query)) {
      args.add(k, v);
      argsGet.add(k, v);
      names.add(k, k);
      getNames.add(k, k);
    }
    const headers = this.#collection('REQUEST_HEADERS');
    const headerNames = this.#collection('REQUEST_HEADERS_NAMES');
    const cookies = this.#collection('REQUEST_COOKIES');
    const cookieNames = this.#collection('REQUEST_COOKIES_NAMES');
    for (const [k, v] of req.headers) {
      headers.add(k, v);
      headerNames.add(k, k);
      const lower = k.toLowerCase();
      if (lower === 'cookie') {
        for (const [ck, cv] of parseCookies(v)) {
          cookies.add(ck, cv);
          cookieNames.add(ck, ck);
        }
      } else if (lower === 'host') {
        s.set('SERVER_NAME', v.replace(/:\d+$/, ''));
      }
    }
    this.bodyProcessor = selectBodyProcessor(headers.get('content-type') ?? '');
    if (this.bodyProcessor !== undefined) s.set('REQBODY_PROCESSOR', this.bodyProcessor);
    this.#updateCombinedSize();
  }

  #setupBody(body: string): void {
    const s = this.scalars;
    // As ModSecurity: REQUEST_BODY holds the raw body for URLENCODED, or when a rule forces
    // it (CRS 901340 does for bodies no processor parses); JSON, XML and multipart bodies are
    // inspected through the variables their processors fill.
    if (this.bodyProcessor === 'URLENCODED' || this.forceRequestBodyVariable) s.set('REQUEST_BODY', body);
    s.set('REQUEST_BODY_LENGTH', String(body.length));
    s.set('FULL_REQUEST_LENGTH', String(body.length));
    s.set('REQBODY_ERROR', '0');
    if (this.bodyProcessor === undefined || body === '') return;
    const state: BodyState = {
      add: (collection, key, value) => this.#collection(collection).add(key, value),
      set: (name, value) => s.set(name, value),
    };
    const ctype = this.#collection('REQUEST_HEADERS').get('content-type') ?? '';
    const err = processBody(this.bodyProcessor, body, ctype, state);
    if (err !== undefined) {
      s.set('REQBODY_ERROR', '1');
      s.set('REQBODY_ERROR_MSG', err);
      s.set('REQBODY_PROCESSOR_ERROR', '1');
    }
    this.#updateCombinedSize();
  }

  #updateCombinedSize(): void {
    let n = 0;
    for (const e of this.#collection('ARGS').entries) n += e.key.length + e.value.length;
    this.scalars.set('ARGS_COMBINED_SIZE', String(n));
  }

  // --- macros -----------------------------------------------------------------------------

  #lookup(name: string, key: string | undefined): string | undefined {
    if (name === 'RULE') {
      const r = this.#current;
      if (r === undefined || key === undefined) return undefined;
      switch (key.toLowerCase()) {
        case 'id':
          return String(r.id);
        case 'msg':
          return r.msg === undefined ? '' : this.expand(r.msg);
        case 'severity':
          return r.severity;
        case 'ver':
          return r.ver;
        case 'rev':
          return r.rev;
        case 'logdata':
          return r.logdata === undefined ? '' : this.expand(r.logdata);
        case 'phase':
          return String(r.phase);
        default:
          return undefined;
      }
    }
    if (key === undefined) return this.scalars.get(name) ?? this.collections.get(name)?.entries[0]?.value;
    return this.collections.get(name)?.get(key);
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
      if (this.#isRemoved(rule)) continue;
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
    if (this.mode === 'On' && this.interruption === undefined)
      this.interruption = { ruleId: rule.id, action: 'deny', status: 403 };
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

  #isRemoved(rule: Rule): boolean {
    if (this.#removedIds.length > 0 && inRanges(rule.id, this.#removedIds)) return true;
    if (this.#removedTags.size > 0) for (const t of this.#removedTags) if (rule.tagSet.has(t)) return true;
    if (this.#removedMsgs.size > 0 && rule.msg !== undefined && this.#removedMsgs.has(rule.msg)) return true;
    return false;
  }

  /** Evaluates a chain; records it when every link matched. */
  #evaluate(starter: Rule): boolean {
    this.#current = starter;
    this.#matchedVars.clear();
    this.#matchedVarsNames.clear();
    const all: MatchedValue[] = [];
    for (let r: Rule | undefined = starter; r !== undefined; r = r.chain) {
      const n = this.#evalLink(r, starter, all);
      if (n === 0) return false;
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
    const onMatch = (name: string, value: string) => {
      matched++;
      all.push({ name, value });
      this.scalars.set('MATCHED_VAR', value);
      this.scalars.set('MATCHED_VAR_NAME', name);
      this.#matchedVars.add(name, value);
      this.#matchedVarsNames.add(name, name);
      // Non-disruptive actions run per match, before the next link is evaluated: a chain
      // starter's setvar may feed its chained rule (CRS 920450).
      for (const e of rule.effects) {
        if (e.kind === 'setvar') this.#setvar(e.setvar);
        else this.#ctl(e.ctl);
      }
    };
    if (rule.variables.length === 0) {
      onMatch('', '');
      return matched;
    }
    const targets = resolveTargets(rule, this, this.#removalsFor(starter));
    for (const t of targets) this.#matchTarget(rule, t, onMatch);
    return matched;
  }

  #matchTarget(rule: Rule, t: Target, onMatch: (name: string, value: string) => void): void {
    const op = rule.operator;
    this.#capturing = rule.capture;
    if (!rule.multiMatch) {
      const input = this.#transform(rule, t.value);
      if (op.match(input, this) !== rule.negated) onMatch(t.name, input);
      return;
    }
    // multiMatch: the operator sees the value before and after every transformation that changes it.
    let v = t.value;
    if (op.match(v, this) !== rule.negated) onMatch(t.name, v);
    for (const fn of rule.transformations) {
      const next = fn(v);
      if (next === v) continue;
      v = next;
      if (op.match(v, this) !== rule.negated) onMatch(t.name, v);
    }
  }

  #transform(rule: Rule, value: string): string {
    if (rule.transformations.length === 0) return value;
    // Keyed by chain, then by the value itself: V8 caches a string's hash, so a large body
    // seen by a hundred rules is hashed once, not once per rule.
    let byValue = this.#cache.get(rule.transformKey);
    if (byValue === undefined) {
      byValue = new Map();
      this.#cache.set(rule.transformKey, byValue);
    }
    const hit = byValue.get(value);
    if (hit !== undefined) return hit;
    let v = value;
    for (const fn of rule.transformations) v = fn(v);
    byValue.set(value, v);
    return v;
  }

  #removalsFor(rule: Rule): readonly VariableSpec[] {
    if (this.#targetRemovals.length === 0) return [];
    const out: VariableSpec[] = [];
    for (const r of this.#targetRemovals) if (r.match(rule)) out.push(...r.variables);
    return out;
  }

  // --- effects ----------------------------------------------------------------------------

  #setvar(sv: SetVar): void {
    const col = this.#collection(sv.collection);
    const key = this.expand(sv.key);
    if (sv.op === 'delete') {
      col.delete(key);
      return;
    }
    const value = this.expand(sv.value);
    if (sv.op === 'set') {
      col.set(key, value);
      return;
    }
    const cur = Number.parseInt(col.get(key) ?? '0', 10) || 0;
    const n = Number.parseInt(value, 10) || 0;
    col.set(key, String(sv.op === 'add' ? cur + n : cur - n));
  }

  #ctl(c: Ctl): void {
    switch (c.option) {
      case 'ruleEngine':
        this.mode = c.mode;
        return;
      case 'ruleRemoveById':
        this.#removedIds.push(...c.ranges);
        return;
      case 'ruleRemoveByTag':
        this.#removedTags.add(this.expand(c.tag));
        return;
      case 'ruleRemoveByMsg':
        this.#removedMsgs.add(c.msg);
        return;
      case 'ruleRemoveTargetById':
        this.#targetRemovals.push({ match: (r) => inRanges(r.id, c.ranges), variables: c.variables });
        return;
      case 'ruleRemoveTargetByTag':
        this.#targetRemovals.push({ match: (r) => r.tagSet.has(c.tag), variables: c.variables });
        return;
      case 'ruleRemoveTargetByMsg':
        this.#targetRemovals.push({ match: (r) => r.msg === c.msg, variables: c.variables });
        return;
      case 'requestBodyProcessor':
        this.bodyProcessor = c.processor;
        this.scalars.set('REQBODY_PROCESSOR', c.processor);
        return;
      case 'requestBodyAccess':
        this.requestBodyAccess = c.on;
        return;
      case 'forceRequestBodyVariable':
        this.forceRequestBodyVariable = c.on;
        return;
      default:
        // Audit and debug logs are the gateway's, not the engine's.
        return;
    }
  }
}
