import { ConfigSchema } from '../../src/config/schema.ts';

type Json = Record<string, unknown>;

export const JSON_SCHEMA_DIALECT = 'http://json-schema.org/draft-07/schema#';

/**
 * The published JSON Schema for editors (schema/rampart.schema.json), derived from ConfigSchema:
 *
 * - plain JSON: TypeBox's symbol keys and `undefined` values are dropped;
 * - a property with a `default` is not `required`: the loader fills it in (Ajv `useDefaults`),
 *   so an editor must not ask for it — runtime validation keeps the full schema;
 * - a map (`patternProperties`) admits no other keys, so an editor flags an invalid name;
 * - `x-rampart-hint` also becomes `patternErrorMessage`, which VS Code's JSON and YAML
 *   language servers show instead of the raw pattern;
 * - keys in a fixed order, so the file only changes when the schema does.
 */
export function publishedSchema(): Json {
  const plain = JSON.parse(JSON.stringify(ConfigSchema)) as Json;
  const schema = editorView(plain);
  return orderKeys({ $schema: JSON_SCHEMA_DIALECT, ...schema }) as Json;
}

/** The file's text: two-space JSON and a trailing newline. */
export function publishedSchemaText(): string {
  return `${JSON.stringify(publishedSchema(), null, 2)}\n`;
}

function editorView(node: unknown): Json {
  const schema = { ...(node as Json) };
  const properties = schema.properties as Record<string, Json> | undefined;
  if (properties) {
    const required = ((schema.required as string[] | undefined) ?? []).filter(
      (name) => properties[name]?.default === undefined,
    );
    if (required.length > 0) schema.required = required;
    else delete schema.required;
    schema.properties = mapValues(properties, editorView);
  }
  const patterns = schema.patternProperties as Record<string, Json> | undefined;
  if (patterns) {
    schema.patternProperties = mapValues(patterns, editorView);
    schema.additionalProperties ??= false;
  }
  if (schema.items && typeof schema.items === 'object') schema.items = editorView(schema.items);
  if (typeof schema['x-rampart-hint'] === 'string' && typeof schema.pattern === 'string') {
    schema.patternErrorMessage = `must be ${schema['x-rampart-hint']}`;
  }
  return schema;
}

function mapValues(record: Record<string, Json>, fn: (value: Json) => Json): Record<string, Json> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fn(v)]));
}

/** Annotation keys first, then validation keywords, then sub-schemas; unknown keys sorted last. */
const KEY_ORDER = [
  '$schema',
  '$id',
  'title',
  'description',
  'x-rampart-kind',
  'x-rampart-hint',
  'type',
  'const',
  'enum',
  'default',
  'pattern',
  'patternErrorMessage',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'required',
  'properties',
  'patternProperties',
  'additionalProperties',
  'items',
];

function rank(key: string): number {
  const i = KEY_ORDER.indexOf(key);
  return i < 0 ? KEY_ORDER.length : i;
}

/** Reorder schema keywords; the keys of `properties`/`patternProperties` keep their declared order. */
function orderKeys(node: unknown, isSchema = true): unknown {
  if (Array.isArray(node)) return node.map((item) => orderKeys(item, isSchema));
  if (node === null || typeof node !== 'object') return node;
  const entries = Object.entries(node as Json);
  if (isSchema) entries.sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(
    entries.map(([key, value]) => {
      if (!isSchema) return [key, orderKeys(value, true)];
      if (key === 'properties' || key === 'patternProperties') return [key, orderKeys(value, false)];
      if (key === 'default' || key === 'enum' || key === 'const' || key === 'required') return [key, value];
      return [key, orderKeys(value, true)];
    }),
  );
}
