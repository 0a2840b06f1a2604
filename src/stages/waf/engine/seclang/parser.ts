/**
 * SecLang parser: turns lexed directives into rule and configuration statements. It checks
 * syntax only (argument counts, target lists, action lists); names are checked against the
 * engine's registries when the rule set is compiled (ruleset.ts), where the location travels
 * with every error.
 */

import { parseVariables, type VariableSpec } from '../variables.ts';
import { type ActionSpec, parseActionList } from './actions-parse.ts';
import { type Directive, SecLangError } from './lexer.ts';

export interface OperatorSpec {
  /** Lower-case operator name without '@' (`rx` when the rule gives a bare regex). */
  readonly name: string;
  readonly param: string;
  readonly negated: boolean;
}

export type Statement =
  | {
      readonly kind: 'rule';
      readonly d: Directive;
      readonly variables: VariableSpec[];
      readonly operator: OperatorSpec;
      readonly actions: ActionSpec[];
    }
  | { readonly kind: 'action'; readonly d: Directive; readonly actions: ActionSpec[] }
  | { readonly kind: 'marker'; readonly d: Directive; readonly name: string }
  | { readonly kind: 'defaultAction'; readonly d: Directive; readonly actions: ActionSpec[] }
  | { readonly kind: 'removeById'; readonly d: Directive; readonly ranges: readonly IdRange[] }
  | { readonly kind: 'removeByTag'; readonly d: Directive; readonly tag: string }
  | { readonly kind: 'removeByMsg'; readonly d: Directive; readonly msg: string }
  | {
      readonly kind: 'updateTargetById';
      readonly d: Directive;
      readonly ranges: readonly IdRange[];
      readonly variables: VariableSpec[];
    }
  | {
      readonly kind: 'updateTargetByTag';
      readonly d: Directive;
      readonly tag: string;
      readonly variables: VariableSpec[];
    }
  | {
      readonly kind: 'updateTargetByMsg';
      readonly d: Directive;
      readonly msg: string;
      readonly variables: VariableSpec[];
    }
  | {
      readonly kind: 'updateActionById';
      readonly d: Directive;
      readonly id: number;
      readonly actions: ActionSpec[];
    }
  | { readonly kind: 'signature'; readonly d: Directive; readonly value: string }
  | { readonly kind: 'setting'; readonly d: Directive; readonly name: string; readonly value: string };

export interface IdRange {
  readonly from: number;
  readonly to: number;
}

/**
 * Engine directives the engine does not act on itself but returns as settings for the gateway
 * to map onto its own configuration (lower-case name → canonical name).
 */
const SETTINGS = new Map(
  [
    'SecRuleEngine',
    'SecRequestBodyAccess',
    'SecRequestBodyLimit',
    'SecRequestBodyNoFilesLimit',
    'SecRequestBodyInMemoryLimit',
    'SecRequestBodyLimitAction',
    'SecRequestBodyJsonDepthLimit',
    'SecArgumentsLimit',
    'SecResponseBodyAccess',
    'SecResponseBodyLimit',
    'SecResponseBodyLimitAction',
    'SecResponseBodyMimeType',
    'SecAuditEngine',
    'SecAuditLog',
    'SecAuditLogParts',
    'SecAuditLogRelevantStatus',
    'SecAuditLogType',
    'SecAuditLogFormat',
    'SecAuditLogStorageDir',
    'SecDebugLog',
    'SecDebugLogLevel',
    'SecTmpDir',
    'SecDataDir',
    'SecUploadDir',
    'SecUploadKeepFiles',
    'SecArgumentSeparator',
    'SecCookieFormat',
    'SecUnicodeMapFile',
    'SecStatusEngine',
    'SecCollectionTimeout',
    'SecPcreMatchLimit',
    'SecPcreMatchLimitRecursion',
  ].map((n) => [n.toLowerCase(), n]),
);

export function parseDirective(d: Directive): Statement {
  try {
    return parse(d);
  } catch (err) {
    if (err instanceof SecLangError) throw err;
    throw new SecLangError(d.file, d.line, `${d.name}: ${(err as Error).message}`);
  }
}

function parse(d: Directive): Statement {
  const name = d.name.toLowerCase();
  const a = d.args;
  switch (name) {
    case 'secrule': {
      arity(d, 2, 3);
      return {
        kind: 'rule',
        d,
        variables: parseVariables(a[0] ?? ''),
        operator: parseOperator(a[1] ?? ''),
        actions: parseActionList(a[2] ?? ''),
      };
    }
    case 'secaction':
      arity(d, 1, 1);
      return { kind: 'action', d, actions: parseActionList(a[0] ?? '') };
    case 'secmarker':
      arity(d, 1, 1);
      return { kind: 'marker', d, name: a[0] ?? '' };
    case 'secdefaultaction':
      arity(d, 1, 1);
      return { kind: 'defaultAction', d, actions: parseActionList(a[0] ?? '') };
    case 'secruleremovebyid':
      if (a.length === 0) throw new Error('needs at least one id or range');
      return {
        kind: 'removeById',
        d,
        ranges: a.flatMap((x) => x.split(/[\s,]+/).filter(Boolean)).map(parseRange),
      };
    case 'secruleremovebytag':
      arity(d, 1, 1);
      return { kind: 'removeByTag', d, tag: a[0] ?? '' };
    case 'secruleremovebymsg':
      arity(d, 1, 1);
      return { kind: 'removeByMsg', d, msg: a[0] ?? '' };
    case 'secruleupdatetargetbyid':
      arity(d, 2, 2);
      return {
        kind: 'updateTargetById',
        d,
        ranges: (a[0] ?? '')
          .split(/[\s,]+/)
          .filter(Boolean)
          .map(parseRange),
        variables: parseVariables(a[1] ?? ''),
      };
    case 'secruleupdatetargetbytag':
      arity(d, 2, 2);
      return { kind: 'updateTargetByTag', d, tag: a[0] ?? '', variables: parseVariables(a[1] ?? '') };
    case 'secruleupdatetargetbymsg':
      arity(d, 2, 2);
      return { kind: 'updateTargetByMsg', d, msg: a[0] ?? '', variables: parseVariables(a[1] ?? '') };
    case 'secruleupdateactionbyid': {
      arity(d, 2, 2);
      const id = Number(a[0]);
      if (!Number.isInteger(id) || id <= 0) throw new Error(`bad rule id "${a[0]}"`);
      return { kind: 'updateActionById', d, id, actions: parseActionList(a[1] ?? '') };
    }
    case 'seccomponentsignature':
      arity(d, 1, 1);
      return { kind: 'signature', d, value: a[0] ?? '' };
    default: {
      const setting = SETTINGS.get(name);
      if (setting === undefined) throw new Error(`unknown directive ${d.name}`);
      arity(d, 1, 1);
      return { kind: 'setting', d, name: setting, value: a[0] ?? '' };
    }
  }
}

function arity(d: Directive, min: number, max: number): void {
  if (d.args.length < min || d.args.length > max) {
    const want = min === max ? `${min}` : `${min} to ${max}`;
    throw new Error(`takes ${want} argument(s), got ${d.args.length}`);
  }
}

/** `"@rx foo"`, `"!@eq 0"`, or a bare regex (`"foo"`, implicit @rx). */
export function parseOperator(text: string): OperatorSpec {
  let s = text;
  let negated = false;
  if (s.startsWith('!')) {
    negated = true;
    s = s.slice(1);
  }
  if (!s.startsWith('@')) return { name: 'rx', param: s, negated };
  const m = /^@([A-Za-z0-9_]+)(?:[ \t]+|$)/.exec(s);
  if (m === null) throw new Error(`bad operator "${text.slice(0, 40)}"`);
  return { name: (m[1] ?? '').toLowerCase(), param: s.slice(m[0].length), negated };
}

export function parseRange(text: string): IdRange {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  if (m === null) throw new Error(`bad rule id or range "${text}"`);
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (to < from) throw new Error(`bad rule id range "${text}"`);
  return { from, to };
}
