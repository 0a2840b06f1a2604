import type { OutgoingHttpHeaders } from 'node:http';
import type { Static } from '@sinclair/typebox';
import { fieldPath } from '../../config/validate.ts';
import type { YamlSource } from '../../config/yaml-source.ts';
import type { RequestContext } from '../../core/context.ts';
import { configError } from '../../core/errors.ts';
import { reservedReason } from './reserved-headers.ts';
import type { HeaderRules } from './schema.ts';
import { principalField } from './stage.ts';

export type HeaderRulesT = Static<typeof HeaderRules>;

/**
 * Header rules compiled once at load: every name and value is checked there, so applying them
 * per request is a few property writes. Values are templates over `{request.id}` and
 * `{principal.<field>}`; an unknown placeholder is a load error, not a literal.
 */

type Part = string | { readonly field: 'request.id' } | { readonly field: string; readonly principal: true };

interface Template {
  readonly parts: readonly Part[];
  readonly usesPrincipal: boolean;
}

export type HeaderStep =
  | { readonly op: 'remove'; readonly name: string }
  | { readonly op: 'rename'; readonly from: string; readonly to: string }
  | { readonly op: 'set'; readonly name: string; readonly value: Template }
  | { readonly op: 'add'; readonly name: string; readonly value: Template };

export interface RuleScope {
  readonly source: YamlSource;
  /** Path of the rules object in the config, for locations. */
  readonly at: readonly (string | number)[];
  readonly side: 'request' | 'response';
  /** Identity headers (`authn.identityHeaders`): stripped from clients and injected; rules cannot name them. */
  readonly identity?: ReadonlySet<string>;
  /** Credential headers the gateway may consume (`authorization`, API-key headers): never renamed or appended to. */
  readonly credentials?: ReadonlySet<string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const PLACEHOLDER = /\{([A-Za-z0-9_.-]+)\}/g;
const PRINCIPAL_FIELD = /^(id|kind|scheme|scopes|(claims|attributes)\.[A-Za-z0-9_.:-]+)$/;

/** Compile one rules object in the fixed order remove, rename, set, add. */
export function compileHeaderRules(rules: HeaderRulesT | undefined, scope: RuleScope): HeaderStep[] {
  if (rules === undefined) return [];
  const steps: HeaderStep[] = [];
  for (const [i, raw] of (rules.remove ?? []).entries()) {
    steps.push({ op: 'remove', name: checkName(raw, scope, ['remove', i], 'remove') });
  }
  for (const [from, to] of Object.entries(rules.rename ?? {})) {
    const name = checkName(from, scope, ['rename', from], 'rename', true);
    steps.push({ op: 'rename', from: name, to: checkName(to, scope, ['rename', from], 'rename') });
  }
  for (const [raw, value] of Object.entries(rules.set ?? {})) {
    const name = checkName(raw, scope, ['set', raw], 'set', true);
    steps.push({ op: 'set', name, value: compileTemplate(value, scope, ['set', raw], false) });
  }
  for (const [raw, value] of Object.entries(rules.add ?? {})) {
    const name = checkName(raw, scope, ['add', raw], 'add', true);
    steps.push({ op: 'add', name, value: compileTemplate(value, scope, ['add', raw], true) });
  }
  return steps;
}

function fail(scope: RuleScope, rel: (string | number)[], message: string, key: boolean): never {
  const at = [...scope.at, ...rel];
  throw configError('RAMPART_ERR_CONFIG_SCHEMA', {
    location: scope.source.locate(at, { key }),
    field: fieldPath(at),
    message,
  });
}

function checkName(
  raw: string,
  scope: RuleScope,
  rel: (string | number)[],
  op: HeaderStep['op'],
  isKey = false,
): string {
  if (!TOKEN.test(raw)) {
    fail(
      scope,
      rel,
      `${JSON.stringify(raw)} is not a header name (RFC 9110 §5.1 token: no spaces, colons, CR/LF or NUL)`,
      isKey,
    );
  }
  const name = raw.toLowerCase();
  const reserved = reservedReason(name, scope.side);
  if (reserved !== null) fail(scope, rel, `${raw} cannot be named by a header rule: it ${reserved}`, isKey);
  const dashed = name.replaceAll('_', '-');
  if (scope.identity?.has(dashed)) {
    fail(
      scope,
      rel,
      `${raw} is an identity header (authn.identityHeaders): the gateway strips client copies and injects the verified principal, and a rule cannot set, move or remove it`,
      isKey,
    );
  }
  if (scope.credentials?.has(dashed) && (op === 'add' || (op === 'rename' && isKey))) {
    fail(
      scope,
      rel,
      `${raw} carries a credential the gateway consumes: ${op === 'add' ? 'appending to it' : 'renaming it would forward it under another name'} is refused (set or remove it instead)`,
      isKey,
    );
  }
  if (scope.side === 'response' && dashed === 'vary' && op !== 'add') {
    fail(
      scope,
      rel,
      'vary may only be added to: the CORS policy and caches rely on what it already lists',
      isKey,
    );
  }
  return name;
}

function compileTemplate(
  value: string,
  scope: RuleScope,
  rel: (string | number)[],
  appending: boolean,
): Template {
  // Checked by the schema already; kept here so no caller can skip it.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) {
    fail(scope, rel, 'holds a control character (CR, LF or NUL would inject headers)', false);
  }
  const parts: Part[] = [];
  let usesPrincipal = false;
  let last = 0;
  for (const m of value.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push(value.slice(last, m.index));
    const field = m[1]!;
    if (field === 'request.id') parts.push({ field });
    else if (field.startsWith('principal.') && PRINCIPAL_FIELD.test(field.slice(10))) {
      if (appending || scope.side === 'response') {
        fail(
          scope,
          rel,
          appending
            ? `{${field}} can only be used in \`set\`: appended to a client-sent value, the upstream could read the client's copy first`
            : `{${field}} is for request headers only`,
          false,
        );
      }
      parts.push({ field: field.slice(10), principal: true });
      usesPrincipal = true;
    } else {
      fail(
        scope,
        rel,
        `{${field}} is not a known placeholder (use {request.id} or {principal.id}, {principal.claims.<name>}…)`,
        false,
      );
    }
    last = m.index + m[0].length;
  }
  if (last < value.length) parts.push(value.slice(last));
  return { parts, usesPrincipal };
}

/** The value of a template for this request, or undefined when a principal field is missing or unsafe. */
function render(template: Template, ctx: RequestContext): string | undefined {
  const { parts } = template;
  if (parts.length === 1 && typeof parts[0] === 'string') return parts[0];
  let out = '';
  for (const part of parts) {
    if (typeof part === 'string') out += part;
    else if (!('principal' in part)) out += ctx.id;
    else {
      if (ctx.principal === null) return undefined;
      const value = principalField(ctx.principal, part.field);
      if (value === undefined) return undefined;
      out += value;
    }
  }
  return out.length > 8192 ? undefined : out;
}

/** Every header a step touches: the request side strips client copies of them all. */
export function touchedNames(steps: readonly HeaderStep[]): Set<string> {
  const names = new Set<string>();
  for (const s of steps) {
    if (s.op === 'rename') {
      names.add(s.from);
      names.add(s.to);
    } else names.add(s.name);
  }
  return names;
}

type HeaderValue = string | string[];

/** Apply steps to a header map with lowercase keys (a response head, or the request overlay). */
export function applyHeaderSteps(
  steps: readonly HeaderStep[],
  headers: Record<string, HeaderValue | number | undefined>,
  ctx: RequestContext,
  listSeparator: (name: string) => string | null,
): void {
  for (const step of steps) {
    switch (step.op) {
      case 'remove':
        delete headers[step.name];
        break;
      case 'rename': {
        const value = headers[step.from];
        if (value === undefined) break;
        delete headers[step.from];
        headers[step.to] = value;
        break;
      }
      case 'set': {
        const value = render(step.value, ctx);
        if (value === undefined) delete headers[step.name];
        else headers[step.name] = value;
        break;
      }
      case 'add': {
        const value = render(step.value, ctx);
        if (value === undefined) break;
        const existing = headers[step.name];
        const sep = listSeparator(step.name);
        if (existing === undefined) headers[step.name] = value;
        else if (sep === null)
          headers[step.name] = [...(Array.isArray(existing) ? existing : [String(existing)]), value];
        else
          headers[step.name] =
            `${Array.isArray(existing) ? existing.join(sep) : String(existing)}${sep}${value}`;
        break;
      }
    }
  }
}

/** Response rules: edit the head in place (multiple field lines for `add`, as RFC 9110 §5.3 allows). */
export function applyResponseRules(
  steps: readonly HeaderStep[],
  headers: OutgoingHttpHeaders,
  ctx: RequestContext,
): void {
  applyHeaderSteps(steps, headers as Record<string, HeaderValue | number | undefined>, ctx, () => null);
}

/** One line for `rampart explain`. */
export function describeSteps(steps: readonly HeaderStep[]): string {
  return steps.map((s) => (s.op === 'rename' ? `rename ${s.from}→${s.to}` : `${s.op} ${s.name}`)).join(', ');
}
