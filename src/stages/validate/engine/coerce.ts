/**
 * Type coercion of parameter strings to the types their schema declares. Strict on purpose: a
 * value is converted only when its whole text is the canonical JSON spelling of that type, so
 * what the gateway validated is what any upstream parser reads. `"12abc"` is not an integer
 * (parseInt would say 12), `"1e400"` is not a number (it is Infinity), `"0x10"`, `" 1"`, `"+1"`,
 * `"01"` are not numbers, `"TRUE"` and `"1"` are not booleans. Integers beyond ±(2^53−1) are
 * refused: they would be validated as a different, rounded number. A string that does not
 * convert stays a string, and the schema's `type` then reports it.
 */

type Json = Record<string, unknown>;

const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;
const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/** How deep combinators are followed to find a schema's types (schemas may be recursive). */
const MAX_COMBINATOR_DEPTH = 8;

/**
 * The JSON types a (dereferenced) schema admits: its `type`, else the union over its `allOf`,
 * `oneOf` and `anyOf` branches. Empty: no type constraint (the value stays a string).
 */
export function schemaTypes(schema: unknown, depth = 0): Set<string> {
  const out = new Set<string>();
  if (schema === null || typeof schema !== 'object' || depth > MAX_COMBINATOR_DEPTH) return out;
  const s = schema as Json;
  if (typeof s.type === 'string') out.add(s.type);
  else if (Array.isArray(s.type)) for (const t of s.type) out.add(String(t));
  else {
    for (const key of ['allOf', 'oneOf', 'anyOf'] as const) {
      const branches = s[key];
      if (!Array.isArray(branches)) continue;
      for (const b of branches) for (const t of schemaTypes(b, depth + 1)) out.add(t);
    }
    if (out.size === 0 && (s.properties !== undefined || s.additionalProperties !== undefined))
      out.add('object');
    if (out.size === 0 && s.items !== undefined) out.add('array');
  }
  if (s.nullable === true) out.add('null');
  return out;
}

/** A string as the scalar type its schema wants, when it spells one exactly; else the string. */
export function coerceScalar(raw: string, schema: unknown): unknown {
  const types = schemaTypes(schema);
  if (types.size === 0 || types.has('string')) return raw;
  if (types.has('integer') && INTEGER.test(raw)) {
    const n = Number(raw);
    if (Number.isSafeInteger(n)) return n;
  }
  if (types.has('number') && NUMBER.test(raw)) {
    const n = Number(raw);
    if (Number.isFinite(n) && (!INTEGER.test(raw) || Number.isSafeInteger(n))) return n;
  }
  if (types.has('boolean')) {
    if (raw === 'true') return true;
    if (raw === 'false') return false;
  }
  if (types.has('null') && raw === '') return null;
  return raw;
}

/** The schema of an array's items (`items`; 3.1 `prefixItems` is not a parameter shape). */
export function itemsOf(schema: unknown): unknown {
  if (schema === null || typeof schema !== 'object') return undefined;
  const s = schema as Json;
  if (s.items !== undefined) return s.items;
  for (const key of ['allOf', 'oneOf', 'anyOf'] as const) {
    const branches = s[key];
    if (Array.isArray(branches)) for (const b of branches) if (itemsOf(b) !== undefined) return itemsOf(b);
  }
  return undefined;
}

/** The schema of property `name` of an object schema: `properties`, else `additionalProperties`. */
export function propertyOf(schema: unknown, name: string): unknown {
  if (schema === null || typeof schema !== 'object') return undefined;
  const s = schema as Json;
  const props = s.properties as Json | undefined;
  if (props !== undefined && Object.hasOwn(props, name)) return props[name];
  for (const key of ['allOf', 'oneOf', 'anyOf'] as const) {
    const branches = s[key];
    if (!Array.isArray(branches)) continue;
    for (const b of branches) {
      const found = propertyOf(b, name);
      if (found !== undefined) return found;
    }
  }
  return typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
}

/** The property names an object schema declares (own, and through allOf/oneOf/anyOf). */
export function declaredProperties(schema: unknown, depth = 0, into = new Set<string>()): Set<string> {
  if (schema === null || typeof schema !== 'object' || depth > MAX_COMBINATOR_DEPTH) return into;
  const s = schema as Json;
  if (s.properties && typeof s.properties === 'object')
    for (const k of Object.keys(s.properties)) into.add(k);
  for (const key of ['allOf', 'oneOf', 'anyOf'] as const) {
    const branches = s[key];
    if (Array.isArray(branches)) for (const b of branches) declaredProperties(b, depth + 1, into);
  }
  return into;
}

/**
 * Set an own, enumerable property. Plain assignment of a client-chosen key would run the
 * `__proto__` setter (prototype pollution); a defined property is only ever data.
 */
export function setOwn(target: Json, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
