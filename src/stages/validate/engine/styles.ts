import { coerceScalar, itemsOf, propertyOf, setOwn } from './coerce.ts';
import { decodeComponent, type Pairs } from './pairs.ts';

/**
 * OpenAPI parameter serialization (OpenAPI 3.1 §4.8.12.4, after RFC 6570): how a `style` and
 * `explode` spell primitives, arrays and objects in each location, read back into values and
 * coerced to the schema's types. Defaults per location: `simple` for path and header, `form`
 * for query and cookie; `explode` is true for `form` only.
 *
 * | style          | in           | array (explode=false / true) | object (explode=false / true)       |
 * | -------------- | ------------ | ---------------------------- | ----------------------------------- |
 * | simple         | path, header | `3,4,5` / `3,4,5`            | `a,1,b,2` / `a=1,b=2`               |
 * | label          | path         | `.3,4,5` / `.3.4.5`          | `.a,1,b,2` / `.a=1.b=2`             |
 * | matrix         | path         | `;id=3,4,5` / `;id=3;id=4`   | `;id=a,1,b,2` / `;a=1;b=2`          |
 * | form           | query,cookie | `id=3,4,5` / `id=3&id=4`     | `id=a,1,b,2` / `a=1&b=2`            |
 * | spaceDelimited | query        | `id=3%204%205` / as form     | —                                   |
 * | pipeDelimited  | query        | `id=3%7C4%7C5` / as form     | —                                   |
 * | deepObject     | query        | —                            | — / `id[a]=1&id[b]=2`               |
 *
 * `form` splits on a literal `,` before percent-decoding (an encoded `%2C` is data);
 * `spaceDelimited` and `pipeDelimited` split after it, since their delimiters are sent encoded.
 * A name given twice where the schema is not an array is an error (`repeated`), never
 * "first wins" or "last wins": the upstream's framework may pick the other one (HTTP parameter
 * pollution).
 */

export type ParamIn = 'path' | 'query' | 'header' | 'cookie';
export type Shape = 'primitive' | 'array' | 'object';

export interface ParamSpec {
  readonly name: string;
  readonly in: ParamIn;
  readonly style: string;
  readonly explode: boolean;
  readonly shape: Shape;
  /** The dereferenced schema, read for coercion (validation uses the compiled one). */
  readonly schema: unknown;
  /** Property names of an object schema: what `form` + explode reads as separate parameters. */
  readonly properties: readonly string[];
}

/** A value read (undefined: the parameter is absent), or why it could not be. */
export type ParamRead =
  | { readonly ok: true; readonly value: unknown }
  | {
      readonly ok: false;
      readonly rule: 'style' | 'repeated' | 'encoding';
      readonly path: string;
      readonly detail: string;
    };

const ABSENT: ParamRead = Object.freeze({ ok: true, value: undefined });

export function defaultStyle(location: ParamIn): string {
  return location === 'query' || location === 'cookie' ? 'form' : 'simple';
}

function fail(
  spec: ParamSpec,
  rule: 'style' | 'repeated' | 'encoding',
  detail: string,
  sub?: string,
): ParamRead {
  return { ok: false, rule, path: `${spec.in}/${spec.name}${sub === undefined ? '' : `/${sub}`}`, detail };
}

function scalar(spec: ParamSpec, s: string): unknown {
  return coerceScalar(s, spec.schema);
}

function list(spec: ParamSpec, parts: readonly string[]): unknown[] {
  const items = itemsOf(spec.schema);
  return parts.map((p) => coerceScalar(p, items));
}

function objectOf(spec: ParamSpec, entries: readonly (readonly [string, string])[]): ParamRead {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    if (Object.hasOwn(out, k)) return fail(spec, 'repeated', `property "${k}" given twice`);
    setOwn(out, k, coerceScalar(v, propertyOf(spec.schema, k)));
  }
  return { ok: true, value: out };
}

/** `a,1,b,2`: names and values alternate. */
function objectFromFlat(spec: ParamSpec, parts: readonly string[]): ParamRead {
  if (parts.length % 2 !== 0) return fail(spec, 'style', 'an object needs name,value pairs');
  const entries: [string, string][] = [];
  for (let i = 0; i < parts.length; i += 2) entries.push([parts[i]!, parts[i + 1]!]);
  return objectOf(spec, entries);
}

/** `a=1,b=2` (already split): each part is name=value. */
function objectFromAssignments(spec: ParamSpec, parts: readonly string[]): ParamRead {
  const entries: [string, string][] = [];
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq <= 0) return fail(spec, 'style', 'an exploded object needs name=value members');
    entries.push([part.slice(0, eq), part.slice(eq + 1)]);
  }
  return objectOf(spec, entries);
}

function splitList(s: string, sep: string): string[] {
  return s === '' ? [] : s.split(sep);
}

/** The three comma-separated forms shared by simple and (unexploded) label/matrix/form values. */
function fromSeparated(spec: ParamSpec, s: string, sep: string, explodedSep: string): ParamRead {
  if (spec.shape === 'primitive') return { ok: true, value: scalar(spec, s) };
  const parts = splitList(s, spec.explode ? explodedSep : sep);
  if (spec.shape === 'array') return { ok: true, value: list(spec, parts) };
  return spec.explode ? objectFromAssignments(spec, parts) : objectFromFlat(spec, parts);
}

/** A path parameter, already percent-decoded by the route stage (so `%2C` reads as `,`). */
export function readPath(spec: ParamSpec, raw: string | undefined): ParamRead {
  if (raw === undefined) return ABSENT;
  switch (spec.style) {
    case 'label':
      if (!raw.startsWith('.')) return fail(spec, 'style', 'a label-style value starts with "."');
      return fromSeparated(spec, raw.slice(1), ',', '.');
    case 'matrix':
      return readMatrix(spec, raw);
    default:
      return fromSeparated(spec, raw, ',', ',');
  }
}

function readMatrix(spec: ParamSpec, raw: string): ParamRead {
  if (!raw.startsWith(';')) return fail(spec, 'style', 'a matrix-style value starts with ";"');
  const params = raw.slice(1).split(';');
  const memberValue = (p: string, name: string): string | null => {
    if (p === name) return '';
    return p.startsWith(`${name}=`) ? p.slice(name.length + 1) : null;
  };
  if (spec.shape === 'object' && spec.explode) return objectFromAssignments(spec, params);
  if (spec.shape === 'array' && spec.explode) {
    const values: string[] = [];
    for (const p of params) {
      const v = memberValue(p, spec.name);
      if (v === null) return fail(spec, 'style', `each member is ;${spec.name}=value`);
      values.push(v);
    }
    return { ok: true, value: list(spec, values) };
  }
  if (params.length !== 1) return fail(spec, 'repeated', `;${spec.name} given ${params.length} times`);
  const v = memberValue(params[0]!, spec.name);
  if (v === null) return fail(spec, 'style', `a matrix-style value is ;${spec.name}=value`);
  return fromSeparated({ ...spec, explode: false }, v, ',', ',');
}

/** A query parameter from the parsed pairs (names decoded, values raw). */
export function readQuery(spec: ParamSpec, pairs: Pairs): ParamRead {
  if (spec.style === 'deepObject') return readDeepObject(spec, pairs);
  if (spec.shape === 'object' && spec.explode && spec.style === 'form') {
    const entries: [string, string][] = [];
    for (const prop of spec.properties) {
      const values = pairs.get(prop);
      if (values === undefined) continue;
      if (values.length > 1) return fail(spec, 'repeated', `"${prop}" given ${values.length} times`, prop);
      const v = decodeComponent(values[0]!, false);
      if (v === null) return fail(spec, 'encoding', 'malformed percent-encoding or not UTF-8', prop);
      entries.push([prop, v]);
    }
    return entries.length === 0 ? ABSENT : objectOf(spec, entries);
  }
  const values = pairs.get(spec.name);
  if (values === undefined) return ABSENT;
  if (spec.shape === 'array' && spec.explode) {
    const decoded: string[] = [];
    for (const v of values) {
      const d = decodeComponent(v, false);
      if (d === null) return fail(spec, 'encoding', 'malformed percent-encoding or not UTF-8');
      decoded.push(d);
    }
    return { ok: true, value: list(spec, decoded) };
  }
  if (values.length > 1) return fail(spec, 'repeated', `given ${values.length} times`);
  const raw = values[0]!;
  if (spec.shape !== 'primitive' && spec.style === 'form') {
    const parts: string[] = [];
    for (const p of splitList(raw, ',')) {
      const d = decodeComponent(p, false);
      if (d === null) return fail(spec, 'encoding', 'malformed percent-encoding or not UTF-8');
      parts.push(d);
    }
    return spec.shape === 'array' ? { ok: true, value: list(spec, parts) } : objectFromFlat(spec, parts);
  }
  const decoded = decodeComponent(raw, false);
  if (decoded === null) return fail(spec, 'encoding', 'malformed percent-encoding or not UTF-8');
  if (spec.shape === 'array' && (spec.style === 'spaceDelimited' || spec.style === 'pipeDelimited')) {
    return { ok: true, value: list(spec, splitList(decoded, spec.style === 'pipeDelimited' ? '|' : ' ')) };
  }
  return { ok: true, value: scalar(spec, decoded) };
}

function readDeepObject(spec: ParamSpec, pairs: Pairs): ParamRead {
  const prefix = `${spec.name}[`;
  const entries: [string, string][] = [];
  for (const [name, values] of pairs) {
    if (!name.startsWith(prefix)) continue;
    const key = name.slice(prefix.length, -1);
    if (!name.endsWith(']') || key.includes('[') || key.includes(']')) {
      return fail(spec, 'style', `deepObject members are ${spec.name}[name]=value, one level deep`);
    }
    if (values.length > 1) return fail(spec, 'repeated', `"${key}" given ${values.length} times`, key);
    const v = decodeComponent(values[0]!, false);
    if (v === null) return fail(spec, 'encoding', 'malformed percent-encoding or not UTF-8', key);
    entries.push([key, v]);
  }
  return entries.length === 0 ? ABSENT : objectOf(spec, entries);
}

/** A header parameter from every line that carried it (simple style: lists are `,`-separated, OWS trimmed). */
export function readHeader(spec: ParamSpec, lines: readonly string[]): ParamRead {
  if (lines.length === 0) return ABSENT;
  if (spec.shape === 'primitive') {
    if (lines.length > 1) return fail(spec, 'repeated', `sent on ${lines.length} header lines`);
    return { ok: true, value: scalar(spec, lines[0]!) };
  }
  if (spec.shape === 'object' && lines.length > 1)
    return fail(spec, 'repeated', `sent on ${lines.length} header lines`);
  const parts = lines.flatMap((l) => splitList(l, ',').map((p) => p.trim()));
  if (spec.shape === 'array') return { ok: true, value: list(spec, parts) };
  return spec.explode ? objectFromAssignments(spec, parts) : objectFromFlat(spec, parts);
}

/** The cookies of a request, by name (RFC 6265 §5.4: `a=1; b=2`; several Cookie lines joined by node with `; `). */
export function parseCookies(header: string | undefined): Pairs {
  const out: Pairs = new Map();
  if (header === undefined || header === '') return out;
  for (const part of header.split(';')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    const name = eq < 0 ? '' : item.slice(0, eq).trim();
    const value = eq < 0 ? item : item.slice(eq + 1).trim();
    const values = out.get(name);
    if (values === undefined) out.set(name, [value]);
    else values.push(value);
  }
  return out;
}

/**
 * A cookie parameter (form style). Cookie values are taken as sent: RFC 6265 defines no
 * percent-encoding, so none is undone.
 */
export function readCookie(spec: ParamSpec, cookies: Pairs): ParamRead {
  const values = cookies.get(spec.name);
  if (values === undefined) return ABSENT;
  if (spec.shape === 'array' && spec.explode) return { ok: true, value: list(spec, values) };
  if (values.length > 1) return fail(spec, 'repeated', `cookie sent ${values.length} times`);
  const v = values[0]!;
  if (spec.shape === 'primitive') return { ok: true, value: scalar(spec, v) };
  const parts = splitList(v, ',');
  return spec.shape === 'array' ? { ok: true, value: list(spec, parts) } : objectFromFlat(spec, parts);
}
