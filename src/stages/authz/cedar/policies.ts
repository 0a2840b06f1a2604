import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { ConfigProblem, SourceLocation } from '../../../core/errors.ts';
import { cedar, type DetailedError, type PolicyJson, type SchemaJson } from './wasm.ts';

/**
 * A Cedar policy file, parsed, validated against the API's generated schema and handed to the
 * engine once per config load. Each policy gets an id that says where it is: its `@id("...")`
 * annotation, else `<file>:<line>`. Those ids are what decisions record.
 */
export interface PolicySet {
  readonly file: string;
  /** Policy ids, in file order. */
  readonly ids: readonly string[];
  /** What the policies read, all of them. */
  readonly usage: Usage;
  /** Validator warnings (not errors), located. */
  readonly warnings: readonly ConfigProblem[];
  /**
   * The policies that can apply to one action (its action scope admits it or one of its tag
   * groups), handed to the engine once: a policy scoped to other actions can neither match nor
   * error there, so leaving it out changes no decision and saves its evaluation.
   */
  slice(action: string, groups: readonly string[]): PolicySlice;
}

/** The policies of one action, as the engine knows them. */
export interface PolicySlice {
  /** The id the engine knows the parsed slice by (a content hash: reloads never disturb it); null when empty. */
  readonly setId: string | null;
  readonly ids: readonly string[];
  /** What these policies read: the request builder sends the engine nothing else. */
  readonly usage: Usage;
}

/**
 * What a policy set can observe of a request. Everything else is left out of the request
 * given to the engine: each value costs a trip across the WebAssembly boundary, and a value
 * no policy reads cannot change a decision.
 */
export interface Usage {
  /** Every attribute name read with `.`, `has`, or written as a record literal key. */
  readonly names: ReadonlySet<string>;
  /** `context` used as a whole value (not only through attributes). */
  readonly wholeContext: boolean;
  /** `context.X` used as a whole value: every attribute of record X is sent. */
  readonly wholeRecords: ReadonlySet<string>;
  /** An `in` in a principal or resource scope or in a condition: the principal's groups are needed. */
  readonly hierarchy: boolean;
  /** An `in` on actions (scope or condition): the action's tag groups are needed. */
  readonly actionGroups: boolean;
}

export class PolicyLoadError extends Error {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super(problems[0]?.message ?? 'invalid policies');
    this.problems = problems;
  }
}

interface Part {
  readonly id: string;
  readonly text: string;
  /** Character offset of the policy in the file. */
  readonly start: number;
}

/**
 * Parse and validate `text` (the contents of `file`) against `schema` in strict mode. Throws a
 * PolicyLoadError whose problems point at file:line:column of each parse or validation error.
 */
export function loadPolicySet(
  file: string,
  text: string,
  schema: SchemaJson<string>,
  field: string,
): PolicySet {
  const engine = cedar();
  const lines = new LineIndex(text);
  const at = (offset: number): SourceLocation => ({ file, ...lines.locate(offset) });

  const split = engine.policySetTextToParts(text);
  if (split.type === 'failure') {
    throw new PolicyLoadError(split.errors.map((e) => problem(e, field, (o) => at(byteToChar(text, 0, o)))));
  }
  if (split.policy_templates.length > 0) {
    throw new PolicyLoadError([
      {
        location: at(text.indexOf(split.policy_templates[0]!)),
        field,
        message:
          'policy templates (with ?principal or ?resource slots) are not supported: write static policies',
      },
    ]);
  }
  if (split.policies.length === 0) {
    throw new PolicyLoadError([
      {
        location: { file },
        field,
        message: 'the file holds no policy: with no policy, Cedar denies every request',
      },
    ]);
  }

  const comments = commentRanges(text);
  const parts: Part[] = [];
  const asts: PolicyJson[] = [];
  const seen = new Map<string, number>();
  let cursor = 0;
  for (const policyText of split.policies) {
    // The parts are slices of the file, in order: find each to know where it is (not in a
    // comment: a commented-out copy above a policy must not take its id and locations).
    const found = findInCode(text, policyText, cursor, comments);
    const start = found >= 0 ? found : cursor;
    cursor = found >= 0 ? found + policyText.length : cursor;
    const json = engine.policyToJson(policyText);
    if (json.type === 'failure') {
      throw new PolicyLoadError(
        json.errors.map((e) => problem(e, field, (o) => at(start + byteToChar(policyText, 0, o)))),
      );
    }
    const annotated = json.json.annotations?.id;
    const id = annotated ?? `${basename(file)}:${lines.locate(start).line}`;
    const previous = seen.get(id);
    if (previous !== undefined) {
      throw new PolicyLoadError([
        {
          location: at(start),
          field,
          message: `policy id "${id}" is used twice (also at line ${lines.locate(previous).line}): ids must be unique`,
        },
      ]);
    }
    seen.set(id, start);
    parts.push({ id, text: policyText, start });
    asts.push(json.json);
  }

  const staticPolicies: Record<string, string> = {};
  for (const part of parts) staticPolicies[part.id] = part.text;
  const byId = new Map(parts.map((p) => [p.id, p]));
  const locateIn = (policyId: string) => (offset: number) => {
    const part = byId.get(policyId);
    return part ? at(part.start + byteToChar(part.text, 0, offset)) : { file };
  };

  const answer = engine.validate({
    schema,
    policies: { staticPolicies },
    validationSettings: { mode: 'strict' },
  });
  if (answer.type === 'failure') {
    // The schema itself was refused: a bug in the generator, or names Cedar cannot take.
    throw new PolicyLoadError(answer.errors.map((e) => problem(e, field, () => ({ file }), 'schema: ')));
  }
  if (answer.validationErrors.length > 0) {
    throw new PolicyLoadError(
      answer.validationErrors.map((v) =>
        problem(v.error, field, locateIn(v.policyId), `policy ${v.policyId}: `),
      ),
    );
  }
  const warnings = answer.validationWarnings.map((v) =>
    problem(v.error, field, locateIn(v.policyId), `policy ${v.policyId}: `),
  );

  const slices = new Map<string, PolicySlice>();
  return {
    file,
    ids: parts.map((p) => p.id),
    usage: analyse(asts),
    warnings,
    slice(action, groups) {
      const chosen = parts.filter((_, i) => actionApplies(asts[i]!.action, action, groups));
      const key = chosen.map((p) => p.id).join('\u0000');
      let slice = slices.get(key);
      if (slice === undefined) {
        slice = preparse(
          chosen,
          chosen.map((p) => asts[parts.indexOf(p)]!),
          file,
          field,
        );
        slices.set(key, slice);
      }
      return slice;
    },
  };
}

function preparse(
  parts: readonly Part[],
  asts: readonly PolicyJson[],
  file: string,
  field: string,
): PolicySlice {
  const ids = parts.map((p) => p.id);
  if (parts.length === 0) return { setId: null, ids, usage: analyse([]) };
  const staticPolicies: Record<string, string> = {};
  for (const part of parts) staticPolicies[part.id] = part.text;
  const setId = `rampart:${createHash('sha256').update(JSON.stringify(staticPolicies)).digest('hex')}`;
  const parsed = cedar().preparsePolicySet(setId, { staticPolicies });
  if (parsed.type === 'failure') {
    throw new PolicyLoadError(parsed.errors.map((e) => problem(e, field, () => ({ file }))));
  }
  return { setId, ids, usage: analyse(asts) };
}

/** Whether a policy's action scope admits `action` (directly, or through one of its groups). */
function actionApplies(scope: PolicyJson['action'], action: string, groups: readonly string[]): boolean {
  if (scope.op === 'All') return true;
  const ids = (list: readonly unknown[]): string[] =>
    list.map((uid) => {
      const u = uid as { id?: string; __entity?: { id: string } };
      return u.__entity?.id ?? u.id ?? '';
    });
  if (scope.op === '==') return 'entity' in scope && ids([scope.entity])[0] === action;
  const targets = 'entities' in scope ? ids(scope.entities) : ids([scope.entity]);
  return targets.some((t) => t === action || groups.includes(t));
}

/** Ranges `[start, end)` of the `//` comments of a Cedar text (not counting `//` in strings). */
function commentRanges(text: string): [number, number][] {
  const ranges: [number, number][] = [];
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      ranges.push([i, end < 0 ? text.length : end]);
      i = end < 0 ? text.length : end;
    }
  }
  return ranges;
}

function findInCode(text: string, part: string, from: number, comments: readonly [number, number][]): number {
  for (let at = text.indexOf(part, from); at >= 0; at = text.indexOf(part, at + 1)) {
    if (!comments.some(([start, end]) => at >= start && at < end)) return at;
  }
  return -1;
}

function problem(
  error: DetailedError,
  field: string,
  locate: (offset: number) => SourceLocation,
  prefix = '',
): ConfigProblem {
  const span = error.sourceLocations?.[0];
  // Cedar's validation messages already start `for policy `<id>`, ...`.
  const text =
    prefix !== '' && error.message.startsWith('for policy ')
      ? error.message.replace(/^for policy `[^`]*`, /, '')
      : error.message;
  const message = `${prefix}${text}${error.help ? ` (${error.help})` : ''}`;
  return { location: span ? locate(span.start) : locate(0), field, message };
}

/** Cedar reports offsets in UTF-8 bytes; files are read as strings. */
function byteToChar(text: string, from: number, bytes: number): number {
  const slice = Buffer.from(text.slice(from), 'utf8').subarray(0, bytes);
  return slice.toString('utf8').length;
}

class LineIndex {
  readonly #starts: number[] = [0];
  constructor(text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.#starts.push(i + 1);
  }
  locate(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.#starts[lo]! + 1 };
  }
}

type Node = unknown;

/** Walk the policies' JSON ASTs for what they can read (see `Usage`). */
export function analyse(policies: readonly PolicyJson[]): Usage {
  const names = new Set<string>();
  const wholeRecords = new Set<string>();
  let wholeContext = false;
  let hierarchy = false;
  let actionGroups = false;

  const isContext = (n: Node): boolean => (n as { Var?: string } | null)?.Var === 'context';

  const walk = (node: Node, asAccess: boolean): void => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const child of node) walk(child, false);
      return;
    }
    const record = node as Record<string, unknown>;
    for (const [key, value] of Object.entries(record)) {
      switch (key) {
        case 'Value':
        case 'Slot':
          break; // literals: nothing read
        case 'Var':
          if (value === 'context' && !asAccess) wholeContext = true;
          break;
        case '.': {
          const { left, attr } = value as { left: Node; attr: string };
          names.add(attr);
          if (isContext(left) && !asAccess) wholeRecords.add(attr);
          walk(left, true);
          break;
        }
        case 'has': {
          const { left, attr } = value as { left: Node; attr: string | string[] };
          for (const a of Array.isArray(attr) ? attr : [attr]) names.add(a);
          walk(left, true);
          break;
        }
        case 'Record':
          for (const [k, v] of Object.entries(value as Record<string, Node>)) {
            names.add(k);
            walk(v, false);
          }
          break;
        case 'in':
          hierarchy = true;
          walk(value, false);
          break;
        default:
          walk(value, false);
      }
    }
  };

  for (const policy of policies) {
    const scopes = [policy.principal, policy.resource] as { op: string; in?: unknown }[];
    if (scopes.some((s) => s.op === 'in' || (s.op === 'is' && s.in !== undefined))) hierarchy = true;
    if (policy.action.op === 'in') actionGroups = true;
    for (const clause of policy.conditions) walk(clause.body, false);
  }
  // An `in` in a condition may test the action as well as the principal.
  return { names, wholeContext, wholeRecords, hierarchy, actionGroups: actionGroups || hierarchy };
}
