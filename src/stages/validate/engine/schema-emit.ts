/**
 * Turn an OpenAPI Schema Object (as written, with its `$ref`s) into a self-contained JSON Schema
 * for Ajv: draft-04 for OpenAPI 3.0, 2020-12 for 3.1. Every `$ref` becomes a local definition
 * (recursive schemas stay recursive), so nothing is fetched and the document is never mutated.
 *
 * OpenAPI 3.0 dialect: `nullable: true` adds `null` to `type` (and to `enum`), or wraps a
 * typeless schema in `anyOf [null, …]`; `discriminator`, `example`, `xml`, `externalDocs` and
 * `x-*` are annotations and are dropped; siblings of a `$ref` are ignored (JSON Reference).
 * In 3.1 they apply beside it (`allOf [ref, siblings]`).
 *
 * Requests: a property marked `readOnly` is not required in a request (OpenAPI 3.0 §4.7.24).
 *
 * `strict` (mass assignment, OWASP API3:2023 / API6:2019): every object schema that declares
 * properties is closed to undeclared ones, even where it leaves `additionalProperties` open by
 * omission. Closing each `allOf` branch would reject every object (branch A forbids B's
 * properties and vice versa: the classic `allOf` + `additionalProperties: false` trap), so the
 * rule is applied per object position, not per subschema:
 *
 * - a property is declared if the schema at that position, or any `allOf`, `oneOf`, `anyOf`,
 *   `then`, `else` or `dependentSchemas` subschema of it (through `$ref`s), lists it in
 *   `properties` or matches it with `patternProperties`;
 * - that position gets `additionalProperties: false` with the merged names; its subschemas are
 *   left open and still validate their own properties;
 * - a position (or one of those subschemas) that sets `additionalProperties` to `true` or to a
 *   schema is a declared map, and stays open; one that declares no property is free-form;
 * - under `not`, nothing is closed (closing would invert the meaning);
 * - `readOnly` properties are refused in the request.
 */

type Json = Record<string, unknown>;
export type Path = readonly (string | number)[];

export interface EmitDocument {
  /** The OpenAPI document as loaded (with `$ref`s). */
  readonly root: Json;
  readonly version: '3.0' | '3.1';
}

export interface EmitOptions {
  readonly strict: boolean;
  /**
   * Whether the validator knows a `format`. OpenAPI formats are an open set (`phone`,
   * `decimal`): an unknown one is dropped here (and reported by the caller), not a load error.
   */
  readonly knownFormat?: (name: string, at: Path) => boolean;
}

export interface Emitted {
  readonly schema: Json;
  /** Where each emitted object came from in the document, for load errors. */
  readonly origins: WeakMap<object, Path>;
}

/** An emitted-schema problem found while walking (an invalid `pattern`): a load error. */
export class EmitError extends Error {
  readonly at: Path;
  constructor(at: Path, message: string) {
    super(message);
    this.at = at;
  }
}

/** The custom keyword that refuses a `readOnly` property in a strict request. */
export const READ_ONLY_KEYWORD = 'x-rampart-read-only';

type Mode = 'value' | 'branch' | 'plain';

const ANNOTATIONS = new Set([
  'title',
  'description',
  'example',
  'examples',
  'default',
  'deprecated',
  'readOnly',
  'writeOnly',
  'xml',
  'externalDocs',
  'discriminator',
  'nullable',
  '$comment',
  '$schema',
  '$id',
  '$anchor',
  '$defs',
  'definitions',
]);

/** Follow a local `$ref` chain in the raw document. The loader already checked each resolves. */
export function resolveRef(root: Json, node: unknown, at: Path): { node: unknown; at: Path } {
  let current = node;
  let path = at;
  for (let hops = 0; hops < 64; hops++) {
    if (current === null || typeof current !== 'object' || typeof (current as Json).$ref !== 'string') break;
    const ref = (current as Json).$ref as string;
    const parts = ref === '#' ? [] : ref.slice(2).split('/').map(decodePointer);
    let target: unknown = root;
    for (const p of parts) target = (target as Json)?.[p];
    current = target;
    path = parts;
  }
  return { node: current, at: path };
}

function decodePointer(s: string): string {
  return decodeURIComponent(s).replace(/~1/g, '/').replace(/~0/g, '~');
}

export function emitSchema(doc: EmitDocument, node: unknown, at: Path, options: EmitOptions): Emitted {
  const defsKey = doc.version === '3.0' ? 'definitions' : '$defs';
  const defs: Json = {};
  const defNames = new Map<string, string>();
  const origins = new WeakMap<object, Path>();

  const refTo = (target: unknown, targetAt: Path, mode: Mode): Json => {
    const key = `${targetAt.join('/')}|${mode}`;
    let name = defNames.get(key);
    if (name === undefined) {
      name = `s${defNames.size}`;
      defNames.set(key, name);
      defs[name] = {}; // reserved first: a recursive schema refers to itself
      defs[name] = emit(target, targetAt, mode);
    }
    return { $ref: `#/${defsKey}/${name}` };
  };

  const emit = (raw: unknown, path: Path, mode: Mode): unknown => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
    const s = raw as Json;
    if (typeof s.$ref === 'string') {
      const target = resolveRef(doc.root, s, path);
      const siblings = Object.keys(s).filter(
        (k) => k !== '$ref' && !ANNOTATIONS.has(k) && !k.startsWith('x-'),
      );
      if (doc.version === '3.0' || siblings.length === 0) return refTo(target.node, target.at, mode);
      // 3.1: the target and its siblings are two parts of one object position, like allOf
      // branches: both stay open, and the position is closed over the names of both.
      const part: Mode = mode === 'value' ? 'branch' : mode;
      const { $ref: _ref, ...rest } = s;
      const out: Json = { allOf: [refTo(target.node, target.at, part), emit(rest, path, part)] };
      if (options.strict && mode === 'value') close(doc, s, out);
      return out;
    }
    const out: Json = {};
    origins.set(out, path);
    const sub = (key: string, value: unknown, m: Mode) => emit(value, [...path, key], m);
    const inner: Mode = mode === 'plain' ? 'plain' : 'value';
    const branch: Mode = mode === 'plain' ? 'plain' : 'branch';
    const readOnly = readOnlyNames(doc, s);
    for (const [key, value] of Object.entries(s)) {
      if (ANNOTATIONS.has(key) || key.startsWith('x-')) continue;
      switch (key) {
        case 'properties':
        case 'patternProperties': {
          const props: Json = {};
          for (const [name, schema] of Object.entries((value ?? {}) as Json)) {
            if (key === 'patternProperties') checkPattern(name, [...path, key, name]);
            const emitted = emit(schema, [...path, key, name], inner);
            props[name] =
              options.strict && mode !== 'plain' && readOnly.has(name) && key === 'properties'
                ? { [READ_ONLY_KEYWORD]: true }
                : emitted;
          }
          out[key] = props;
          break;
        }
        case 'dependentSchemas': {
          const deps: Json = {};
          for (const [name, schema] of Object.entries((value ?? {}) as Json))
            deps[name] = emit(schema, [...path, key, name], branch);
          out[key] = deps;
          break;
        }
        case 'allOf':
        case 'anyOf':
        case 'oneOf':
          out[key] = (value as unknown[]).map((b, i) => emit(b, [...path, key, i], branch));
          break;
        case 'then':
        case 'else':
          out[key] = sub(key, value, branch);
          break;
        case 'not':
        case 'if':
        case 'propertyNames':
        case 'contains':
          out[key] = sub(key, value, 'plain');
          break;
        case 'items':
          out[key] = Array.isArray(value)
            ? value.map((b, i) => emit(b, [...path, key, i], inner))
            : sub(key, value, inner);
          break;
        case 'prefixItems':
          out[key] = (value as unknown[]).map((b, i) => emit(b, [...path, key, i], inner));
          break;
        case 'additionalProperties':
        case 'additionalItems':
        case 'unevaluatedItems':
        case 'unevaluatedProperties':
          out[key] = sub(key, value, inner);
          break;
        case 'required':
          out[key] = readOnly.size === 0 ? value : (value as string[]).filter((n) => !readOnly.has(n));
          break;
        case 'pattern':
          checkPattern(value, [...path, key]);
          out[key] = value;
          break;
        case 'format':
          if (options.knownFormat === undefined || options.knownFormat(String(value), [...path, key]))
            out[key] = value;
          break;
        default:
          out[key] = value;
      }
    }
    if (Array.isArray(out.required) && out.required.length === 0) delete out.required;
    if (options.strict && mode === 'value') close(doc, s, out);
    return doc.version === '3.0' && s.nullable === true ? nullable(out) : out;
  };

  const top = emit(node, at, options.strict ? 'value' : 'plain');
  const body = top !== null && typeof top === 'object' ? (top as Json) : {};
  const schema: Json = typeof body.$ref === 'string' ? { allOf: [body] } : { ...body };
  if (Object.keys(defs).length > 0) schema[defsKey] = defs;
  origins.set(schema, at);
  return { schema, origins };
}

function checkPattern(pattern: unknown, at: Path): void {
  try {
    new RegExp(String(pattern), 'u');
  } catch (err) {
    throw new EmitError(at, `pattern is not a valid ECMA-262 regular expression: ${(err as Error).message}`);
  }
}

/** 3.0 `nullable`: null is one more admitted value. */
function nullable(out: Json): Json {
  if (typeof out.type === 'string') {
    out.type = [out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    return out;
  }
  return { anyOf: [{ type: 'null' }, out] };
}

/** Names of the object's own properties whose schema (or its `$ref` target) is `readOnly`. */
function readOnlyNames(doc: EmitDocument, s: Json): Set<string> {
  const out = new Set<string>();
  const props = s.properties;
  if (props === null || typeof props !== 'object') return out;
  for (const [name, schema] of Object.entries(props as Json)) {
    if (schema === null || typeof schema !== 'object') continue;
    if ((schema as Json).readOnly === true) out.add(name);
    else if ((resolveRef(doc.root, schema, []).node as Json | undefined)?.readOnly === true) out.add(name);
  }
  return out;
}

interface Declared {
  names: Set<string>;
  patterns: Set<string>;
  open: boolean;
}

/** Merge what an object position declares across its subschemas (see the rule above). */
function declared(doc: EmitDocument, s: Json, into: Declared, seen: Set<object>): void {
  if (seen.has(s)) return;
  seen.add(s);
  const ap = s.additionalProperties;
  if (ap !== undefined && ap !== false) into.open = true;
  if (s.unevaluatedProperties !== undefined) into.open = true;
  if (s.properties && typeof s.properties === 'object')
    for (const k of Object.keys(s.properties)) into.names.add(k);
  if (s.patternProperties && typeof s.patternProperties === 'object')
    for (const k of Object.keys(s.patternProperties)) into.patterns.add(k);
  const visit = (b: unknown) => {
    const node = resolveRef(doc.root, b, []).node;
    if (node !== null && typeof node === 'object' && !Array.isArray(node))
      declared(doc, node as Json, into, seen);
  };
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const)
    if (Array.isArray(s[key])) (s[key] as unknown[]).forEach(visit);
  if (s.then !== undefined) visit(s.then);
  if (s.else !== undefined) visit(s.else);
  if (s.dependentSchemas && typeof s.dependentSchemas === 'object')
    Object.values(s.dependentSchemas).forEach(visit);
  if (typeof s.$ref === 'string' && doc.version === '3.1') visit({ $ref: s.$ref });
}

function close(doc: EmitDocument, s: Json, out: Json): void {
  const d: Declared = { names: new Set(), patterns: new Set(), open: false };
  declared(doc, s, d, new Set());
  if (d.open || (d.names.size === 0 && d.patterns.size === 0)) return;
  const props = { ...((out.properties as Json | undefined) ?? {}) };
  for (const name of d.names) if (!Object.hasOwn(props, name)) props[name] = {};
  out.properties = props;
  if (d.patterns.size > 0) {
    const patterns = { ...((out.patternProperties as Json | undefined) ?? {}) };
    for (const p of d.patterns) if (!Object.hasOwn(patterns, p)) patterns[p] = {};
    out.patternProperties = patterns;
  }
  out.additionalProperties = false;
}
