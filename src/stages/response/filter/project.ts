/**
 * Response filtering against excessive data exposure (OWASP API3:2023): a JSON response body is
 * rebuilt from its response schema, keeping only what the schema declares. An upstream that
 * starts returning `passwordHash` or `internalNotes` next to the declared fields leaks nothing
 * through the gateway, whatever the serializer upstream did.
 *
 * The rules, per value:
 * - an object keeps the properties its schema declares (`properties`, also through `allOf`,
 *   `anyOf` and `oneOf`: a property declared by any branch is kept), the keys matching
 *   `patternProperties`, and — only when `additionalProperties` is a schema or explicitly
 *   `true` — the others. An absent `additionalProperties` is *closed* here, though JSON Schema
 *   reads it as open: undeclared is undeclared.
 * - an array projects each element by `items` (or `prefixItems[i]`); without one, by the empty
 *   schema, so objects inside lose every property.
 * - scalars are kept; type mismatches are validation's business (`response.validate`).
 * - a property marked `x-rampart-sensitive` is masked as it says (sensitive.ts).
 *
 * Compiled once per schema into a tree of small functions; schemas are the dereferenced
 * document's objects, so recursive schemas are cycles, handled by compiling each schema once.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = Record<string, unknown>;
export type Projector = (value: Json) => Json;

export type SensitiveAction = 'drop' | 'mask' | 'last4';

/** Where a masked value was (for the decision detail: paths only, never values). */
export interface ProjectStats {
  dropped: number;
  masked: number;
}

const DROP = Symbol('drop');
type Step = (value: Json, stats: ProjectStats) => Json | typeof DROP;

/** Compiled steps by schema object, and by set of schemas for properties declared more than once. */
interface Memo {
  readonly bySchema: Map<object, Step>;
  readonly byUnion: Map<string, Step>;
  readonly ids: Map<object, number>;
}

export function compileProjector(schema: unknown): (value: Json, stats: ProjectStats) => Json {
  const memo: Memo = { bySchema: new Map(), byUnion: new Map(), ids: new Map() };
  const step = compile(schema, memo);
  return (value, stats) => {
    const out = step(value, stats);
    return out === DROP ? null : out;
  };
}

function compile(schema: unknown, memo: Memo): Step {
  if (schema === null || typeof schema !== 'object') return closedStep;
  const found = memo.bySchema.get(schema);
  if (found !== undefined) return found;
  // A forwarding step, so a recursive schema refers to itself while it is being compiled.
  let real: Step = closedStep;
  const forward: Step = (v, s) => real(v, s);
  memo.bySchema.set(schema, forward);
  real = build([schema as Schema], memo);
  return forward;
}

/** Several declarations of one property (allOf/anyOf branches): keep what any of them keeps. */
function compileUnion(schemas: unknown[], memo: Memo): Step {
  const objects = schemas.filter((s): s is Schema => s !== null && typeof s === 'object');
  if (objects.length === 0) return closedStep;
  if (objects.length === 1) return compile(objects[0], memo);
  const key = objects
    .map((o) => {
      let id = memo.ids.get(o);
      if (id === undefined) {
        id = memo.ids.size;
        memo.ids.set(o, id);
      }
      return id;
    })
    .join(',');
  const found = memo.byUnion.get(key);
  if (found !== undefined) return found;
  let real: Step = closedStep;
  const forward: Step = (v, s) => real(v, s);
  memo.byUnion.set(key, forward);
  real = build(objects, memo);
  return forward;
}

/** The empty or an unknown schema: objects lose every property, arrays project their items so. */
const closedStep: Step = (value, stats) => {
  if (Array.isArray(value))
    return value.map((v) => closedStep(v, stats)).filter((v): v is Json => v !== DROP);
  if (value !== null && typeof value === 'object') {
    stats.dropped += Object.keys(value).length;
    return {};
  }
  return value;
};

interface Shape {
  readonly properties: Map<string, unknown[]>;
  readonly patterns: { re: RegExp; schemas: unknown[] }[];
  additional: unknown[] | 'open' | 'closed';
  readonly items: unknown[];
  readonly prefixItems: unknown[][];
}

/** Collect what a schema (and its allOf/anyOf/oneOf branches) declares. */
function shapeOf(schema: Schema, shape: Shape, seen: Set<object>): void {
  if (seen.has(schema)) return;
  seen.add(schema);
  const props = schema.properties;
  if (props && typeof props === 'object') {
    for (const [name, sub] of Object.entries(props as Schema)) {
      const list = shape.properties.get(name) ?? [];
      list.push(sub);
      shape.properties.set(name, list);
    }
  }
  const patterns = schema.patternProperties;
  if (patterns && typeof patterns === 'object') {
    for (const [pattern, sub] of Object.entries(patterns as Schema)) {
      shape.patterns.push({ re: new RegExp(pattern, 'u'), schemas: [sub] });
    }
  }
  const ap = schema.additionalProperties;
  if (ap === true) shape.additional = 'open';
  else if (ap && typeof ap === 'object' && shape.additional !== 'open') {
    shape.additional = shape.additional === 'closed' ? [ap] : [...shape.additional, ap];
  }
  if (schema.items && typeof schema.items === 'object' && !Array.isArray(schema.items))
    shape.items.push(schema.items);
  // OpenAPI 3.0 tuple form would be `items: [..]`; 3.1 uses prefixItems.
  const prefix = Array.isArray(schema.prefixItems)
    ? schema.prefixItems
    : Array.isArray(schema.items)
      ? schema.items
      : null;
  prefix?.forEach((sub, i) => {
    const list = shape.prefixItems[i] ?? [];
    list.push(sub);
    shape.prefixItems[i] = list;
  });
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    const branches = schema[key];
    if (Array.isArray(branches))
      for (const b of branches) if (b && typeof b === 'object') shapeOf(b as Schema, shape, seen);
  }
}

function build(schemas: readonly Schema[], memo: Memo): Step {
  const shape: Shape = {
    properties: new Map(),
    patterns: [],
    additional: 'closed',
    items: [],
    prefixItems: [],
  };
  const seen = new Set<object>();
  for (const schema of schemas) shapeOf(schema, shape, seen);
  const union = (list: unknown[]): Step => compileUnion(list, memo);
  const props = new Map<string, { step: Step; sensitive: SensitiveAction | null }>();
  for (const [name, schemas] of shape.properties) {
    props.set(name, { step: union(schemas), sensitive: sensitiveOf(schemas) });
  }
  const patterns = shape.patterns.map((p) => ({ re: p.re, step: union(p.schemas) }));
  const additional =
    shape.additional === 'open' ? 'open' : shape.additional === 'closed' ? null : union(shape.additional);
  const items = shape.items.length > 0 ? union(shape.items) : closedStep;
  const prefix = shape.prefixItems.map(union);

  return (value, stats) => {
    if (Array.isArray(value)) {
      const out: Json[] = [];
      for (let i = 0; i < value.length; i++) {
        const v = (prefix[i] ?? items)(value[i]!, stats);
        if (v !== DROP) out.push(v);
      }
      return out;
    }
    if (value === null || typeof value !== 'object') return value;
    const out: { [key: string]: Json } = {};
    for (const key of Object.keys(value)) {
      const v = value[key]!;
      const prop = props.get(key);
      if (prop !== undefined) {
        if (prop.sensitive !== null) {
          stats.masked++;
          const masked = mask(v, prop.sensitive);
          if (masked !== DROP) out[key] = masked;
          continue;
        }
        const projected = prop.step(v, stats);
        if (projected !== DROP) out[key] = projected;
        continue;
      }
      const pattern = patterns.find((p) => p.re.test(key));
      if (pattern !== undefined) {
        const projected = pattern.step(v, stats);
        if (projected !== DROP) out[key] = projected;
      } else if (additional === 'open') {
        out[key] = v;
      } else if (additional !== null) {
        const projected = additional(v, stats);
        if (projected !== DROP) out[key] = projected;
      } else {
        stats.dropped++;
      }
    }
    return out;
  };
}

function sensitiveOf(schemas: unknown[]): SensitiveAction | null {
  for (const s of schemas) {
    const mark = (s as Schema | null)?.['x-rampart-sensitive'];
    if (mark === true || mark === 'mask') return 'mask';
    if (mark === 'drop' || mark === 'last4') return mark;
  }
  return null;
}

const MASK = '****';

/** `drop` removes the property; `mask` replaces it; `last4` keeps the last four characters of a string. */
export function mask(value: Json, action: SensitiveAction): Json | typeof DROP {
  if (action === 'drop') return DROP;
  if (action === 'last4' && (typeof value === 'string' || typeof value === 'number')) {
    const text = String(value);
    return text.length <= 4 ? MASK : `${MASK}${text.slice(-4)}`;
  }
  return MASK;
}
