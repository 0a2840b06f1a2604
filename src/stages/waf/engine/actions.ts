/**
 * SecLang actions: each action name maps to how it shapes a compiled rule. Metadata
 * (`id`, `msg`, `tag`, ...), flow (`chain`, `skipAfter`), disruptive (`deny`, `block`, ...)
 * and the run-time effects (`setvar`, `ctl`) are separated here so the transaction only
 * walks data. An unknown action, or a bad value for a known one, is an Error the rule-set
 * compiler turns into a load error with file and line.
 */

import type { ActionSpec } from './seclang/actions-parse.ts';
import { type IdRange, parseRange } from './seclang/parser.ts';
import { parseVariables, type VariableSpec } from './variables.ts';

export type Disruptive = 'pass' | 'block' | 'deny' | 'drop' | 'allow' | 'redirect';

export type SetVar =
  | {
      readonly op: 'set' | 'add' | 'sub';
      readonly collection: string;
      readonly key: string;
      readonly value: string;
    }
  | { readonly op: 'delete'; readonly collection: string; readonly key: string };

export type Ctl =
  | { readonly option: 'ruleEngine'; readonly mode: EngineMode }
  | { readonly option: 'ruleRemoveById'; readonly ranges: readonly IdRange[] }
  | { readonly option: 'ruleRemoveByTag'; readonly tag: string }
  | { readonly option: 'ruleRemoveByMsg'; readonly msg: string }
  | {
      readonly option: 'ruleRemoveTargetById';
      readonly ranges: readonly IdRange[];
      readonly variables: readonly VariableSpec[];
    }
  | {
      readonly option: 'ruleRemoveTargetByTag';
      readonly tag: string;
      readonly variables: readonly VariableSpec[];
    }
  | {
      readonly option: 'ruleRemoveTargetByMsg';
      readonly msg: string;
      readonly variables: readonly VariableSpec[];
    }
  | { readonly option: 'requestBodyProcessor'; readonly processor: string }
  | {
      readonly option: 'requestBodyAccess' | 'responseBodyAccess' | 'forceRequestBodyVariable';
      readonly on: boolean;
    }
  | { readonly option: 'auditEngine' | 'auditLogParts' | 'debugLogLevel'; readonly value: string };

export type EngineMode = 'On' | 'Off' | 'DetectionOnly';

export type Effect =
  | { readonly kind: 'setvar'; readonly setvar: SetVar }
  | { readonly kind: 'ctl'; readonly ctl: Ctl };

/** The mutable record the actions of one rule (or SecDefaultAction) fill in. */
export interface ActionSet {
  id?: number;
  phase?: number;
  chain: boolean;
  disruptive?: Disruptive;
  /** `allow` (all), `allow:phase`, `allow:request`. */
  allowScope?: 'all' | 'phase' | 'request';
  /** `redirect:URL` (macros allowed). */
  redirect?: string;
  status?: number;
  msg?: string;
  logdata?: string;
  severity?: string;
  tags: string[];
  ver?: string;
  rev?: string;
  maturity?: string;
  accuracy?: string;
  capture: boolean;
  multiMatch: boolean;
  log?: boolean;
  auditlog?: boolean;
  skipAfter?: string;
  skip: number;
  /** Transformation names in order; `none` is kept here and resolved by the compiler. */
  transformations: string[];
  effects: Effect[];
}

export function emptyActionSet(): ActionSet {
  return {
    chain: false,
    tags: [],
    capture: false,
    multiMatch: false,
    skip: 0,
    transformations: [],
    effects: [],
  };
}

const PHASES: Record<string, number> = {
  '1': 1,
  '2': 2,
  '3': 3,
  '4': 4,
  '5': 5,
  request: 2,
  response: 4,
  logging: 5,
};

type Apply = (set: ActionSet, value: string) => void;

const ACTIONS: ReadonlyMap<string, Apply> = new Map<string, Apply>([
  ['id', (s, v) => (s.id = positiveInt(v, 'id'))],
  [
    'phase',
    (s, v) => {
      const p = PHASES[v.toLowerCase()];
      if (p === undefined) throw new Error(`bad phase "${v}"`);
      s.phase = p;
    },
  ],
  ['chain', (s) => (s.chain = true)],
  ['pass', (s) => (s.disruptive = 'pass')],
  ['block', (s) => (s.disruptive = 'block')],
  ['deny', (s) => (s.disruptive = 'deny')],
  ['drop', (s) => (s.disruptive = 'drop')],
  [
    'allow',
    (s, v) => {
      const scope = v.toLowerCase();
      if (scope !== '' && scope !== 'phase' && scope !== 'request')
        throw new Error(`bad allow "${v}": expected phase or request`);
      s.disruptive = 'allow';
      s.allowScope = scope === '' ? 'all' : scope;
    },
  ],
  [
    'redirect',
    (s, v) => {
      s.disruptive = 'redirect';
      s.redirect = nonEmpty(v, 'redirect');
    },
  ],
  ['status', (s, v) => (s.status = positiveInt(v, 'status'))],
  ['msg', (s, v) => (s.msg = v)],
  ['logdata', (s, v) => (s.logdata = v)],
  ['severity', (s, v) => (s.severity = severity(v))],
  ['tag', (s, v) => s.tags.push(v)],
  ['ver', (s, v) => (s.ver = v)],
  ['rev', (s, v) => (s.rev = v)],
  ['maturity', (s, v) => (s.maturity = v)],
  ['accuracy', (s, v) => (s.accuracy = v)],
  ['capture', (s) => (s.capture = true)],
  ['multimatch', (s) => (s.multiMatch = true)],
  ['log', (s) => (s.log = true)],
  [
    'nolog',
    (s) => {
      s.log = false;
      s.auditlog = false;
    },
  ],
  ['auditlog', (s) => (s.auditlog = true)],
  ['noauditlog', (s) => (s.auditlog = false)],
  ['skipafter', (s, v) => (s.skipAfter = nonEmpty(v, 'skipAfter'))],
  ['skip', (s, v) => (s.skip = positiveInt(v, 'skip'))],
  ['t', (s, v) => s.transformations.push(nonEmpty(v, 't'))],
  ['setvar', (s, v) => s.effects.push({ kind: 'setvar', setvar: parseSetVar(v) })],
  ['ctl', (s, v) => s.effects.push({ kind: 'ctl', ctl: parseCtl(v) })],
  // Persistent collections (IP, GLOBAL) need shared storage the engine does not have. CRS
  // only initialises them (901320) when tx.enable_default_collections is set, and no CRS rule
  // reads or writes them; a rule that did would fail to load (see setvar and variables.ts).
  ['initcol', () => {}],
  ['expirevar', () => {}],
]);

/** Applies one parsed action to `set`; throws on an unknown action or a bad value. */
export function applyAction(set: ActionSet, action: ActionSpec): void {
  const apply = ACTIONS.get(action.name);
  if (apply === undefined) throw new Error(`unknown action ${action.name}`);
  apply(set, action.value);
}

function positiveInt(v: string, what: string): number {
  if (!/^\d+$/.test(v) || Number(v) <= 0) throw new Error(`bad ${what} "${v}"`);
  return Number(v);
}

function nonEmpty(v: string, what: string): string {
  if (v === '') throw new Error(`${what} needs a value`);
  return v;
}

const SEVERITIES = ['EMERGENCY', 'ALERT', 'CRITICAL', 'ERROR', 'WARNING', 'NOTICE', 'INFO', 'DEBUG'];

function severity(v: string): string {
  if (/^[0-7]$/.test(v)) return SEVERITIES[Number(v)] ?? v;
  const up = v.toUpperCase();
  if (!SEVERITIES.includes(up)) throw new Error(`bad severity "${v}"`);
  return up;
}

/** `tx.name=value`, `tx.name=+n`, `tx.name=-n`, `!tx.name`, `tx.name` (= 1). */
export function parseSetVar(text: string): SetVar {
  const del = text.startsWith('!');
  const body = del ? text.slice(1) : text;
  const eq = body.indexOf('=');
  const target = eq < 0 ? body : body.slice(0, eq);
  const dot = target.indexOf('.');
  if (dot <= 0 || dot === target.length - 1) throw new Error(`bad setvar "${text}": expected collection.key`);
  const collection = target.slice(0, dot).toUpperCase();
  const key = target.slice(dot + 1).trim();
  // Only TX: persistent collections (IP, GLOBAL, ...) would need storage shared across
  // requests, which the engine does not have; writing them must not silently do nothing.
  if (collection !== 'TX')
    throw new Error(`bad setvar "${text}": collection ${collection} is not writable (only TX is)`);
  if (del) return { op: 'delete', collection, key };
  if (eq < 0) return { op: 'set', collection, key, value: '1' };
  const value = body.slice(eq + 1);
  if (value.startsWith('+')) return { op: 'add', collection, key, value: value.slice(1) };
  if (value.startsWith('-')) return { op: 'sub', collection, key, value: value.slice(1) };
  return { op: 'set', collection, key, value };
}

const BODY_PROCESSORS = ['URLENCODED', 'MULTIPART', 'JSON', 'XML'];

/** `ctl:option=value`; the options CRS v4 and its documented exclusions use. */
export function parseCtl(text: string): Ctl {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new Error(`bad ctl "${text}": expected option=value`);
  const option = text.slice(0, eq).trim();
  const value = text.slice(eq + 1).trim();
  switch (option.toLowerCase()) {
    case 'ruleengine': {
      const mode = ({ on: 'On', off: 'Off', detectiononly: 'DetectionOnly' } as const)[
        value.toLowerCase() as 'on'
      ];
      if (mode === undefined) throw new Error(`bad ctl:ruleEngine "${value}"`);
      return { option: 'ruleEngine', mode };
    }
    case 'ruleremovebyid':
      return {
        option: 'ruleRemoveById',
        ranges: value
          .split(/[\s,]+/)
          .filter(Boolean)
          .map(parseRange),
      };
    case 'ruleremovebytag':
      return { option: 'ruleRemoveByTag', tag: nonEmpty(value, 'ctl:ruleRemoveByTag') };
    case 'ruleremovebymsg':
      return { option: 'ruleRemoveByMsg', msg: nonEmpty(value, 'ctl:ruleRemoveByMsg') };
    case 'ruleremovetargetbyid': {
      const [ids, vars] = splitTarget(value, option);
      return {
        option: 'ruleRemoveTargetById',
        ranges: ids
          .split(/[\s,]+/)
          .filter(Boolean)
          .map(parseRange),
        variables: vars,
      };
    }
    case 'ruleremovetargetbytag': {
      const [tag, vars] = splitTarget(value, option);
      return { option: 'ruleRemoveTargetByTag', tag, variables: vars };
    }
    case 'ruleremovetargetbymsg': {
      const [msg, vars] = splitTarget(value, option);
      return { option: 'ruleRemoveTargetByMsg', msg, variables: vars };
    }
    case 'requestbodyprocessor': {
      const processor = value.toUpperCase();
      if (!BODY_PROCESSORS.includes(processor)) throw new Error(`bad ctl:requestBodyProcessor "${value}"`);
      return { option: 'requestBodyProcessor', processor };
    }
    case 'requestbodyaccess':
      return { option: 'requestBodyAccess', on: onOff(value, option) };
    case 'responsebodyaccess':
      return { option: 'responseBodyAccess', on: onOff(value, option) };
    case 'forcerequestbodyvariable':
      return { option: 'forceRequestBodyVariable', on: onOff(value, option) };
    case 'auditengine':
      return { option: 'auditEngine', value };
    case 'auditlogparts':
      return { option: 'auditLogParts', value };
    case 'debugloglevel':
      return { option: 'debugLogLevel', value };
    default:
      throw new Error(`unknown ctl option ${option}`);
  }
}

function splitTarget(value: string, option: string): [string, VariableSpec[]] {
  const semi = value.indexOf(';');
  if (semi <= 0) throw new Error(`bad ctl:${option} "${value}": expected what;TARGET`);
  // The target names what to stop inspecting: `ARGS:foo` means "not ARGS:foo".
  const vars = parseVariables(value.slice(semi + 1)).map((v) => ({ ...v, exclude: false }));
  return [value.slice(0, semi).trim(), vars];
}

function onOff(v: string, option: string): boolean {
  const l = v.toLowerCase();
  if (l === 'on' || l === 'true') return true;
  if (l === 'off' || l === 'false') return false;
  throw new Error(`bad ctl:${option} "${v}": expected On or Off`);
}
