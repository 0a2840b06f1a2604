import { ConfigSchema } from '../../src/config/schema.ts';
import { NAME_PATTERN, Name } from '../../src/config/typedefs.ts';
import { code, generatedHeader, slug, table, yamlFlow } from './markdown.ts';

type Json = Record<string, unknown>;

interface Section {
  /** `server.limits`, `server.listen[]`, `upstreams.<name>`; `''` for the top level. */
  readonly path: string;
  readonly intro: string | undefined;
  readonly schema: Json;
}

/** How a map's keys are named in section titles, where `<name>` would say too little. */
const MAP_KEYS: Record<string, string> = { 'apis.<name>.operations': '<operationId>' };

/** Words for the shared field types (typedefs.ts `x-rampart-kind`). */
const KIND_WORDS: Record<string, string> = {
  duration: 'duration',
  size: 'size',
  secret: 'secret reference',
  cidr: 'CIDR',
  path: 'file path',
};

/**
 * docs/reference/config.md: one section per object path, each a table of field, type in
 * words, default and description. A field without a description fails the generation, so
 * the reference cannot grow silent rows.
 */
export function configReference(): string {
  const root = JSON.parse(JSON.stringify(ConfigSchema)) as Json;
  const sections: Section[] = [];
  collect(root, '', root.description as string | undefined, sections);
  const parts = [
    generatedHeader('Configuration reference', 'src/config/schema.ts'),
    '',
    'Every field of `rampart.yaml`, section by section. **required** marks a field without a',
    'default; — marks an optional field that is unset unless given. YAML keys are camelCase.',
    'The same schema validates a config at load (`rampart check`), and is published for editors',
    'as [`schema/rampart.schema.json`](../../schema/rampart.schema.json)',
    '(see [Configuration](../concepts/configuration.md)).',
    '',
    '## Value types',
    '',
    valueTypes(root),
    '',
    '## Sections',
    '',
    ...sections.map((s) => `- [${sectionTitle(s.path)}](#${slug(sectionTitle(s.path))})`),
  ];
  for (const section of sections) {
    parts.push('', `## ${sectionTitle(section.path)}`, '');
    if (section.intro) parts.push(section.intro, '');
    parts.push(sectionTable(section));
  }
  return `${parts.join('\n')}\n`;
}

/** Paths hold `<name>`, which Markdown would read as an HTML tag outside a code span. */
function sectionTitle(path: string): string {
  return path === '' ? 'Top level' : code(path);
}

function collect(schema: Json, path: string, intro: string | undefined, out: Section[]): void {
  out.push({ path, intro: (schema.description as string | undefined) ?? intro, schema });
  for (const [name, field] of Object.entries(properties(schema))) {
    const target = childSection(field, join(path, name));
    if (target) collect(target.schema, target.path, field.description as string | undefined, out);
  }
}

/** The section a field leads to, if it is an object, a list of objects, or a map. */
function childSection(field: Json, path: string): { path: string; schema: Json } | undefined {
  if (field.properties) return { path, schema: field };
  const items = field.items as Json | undefined;
  if (items?.properties) return { path: `${path}[]`, schema: items };
  const value = mapValue(field);
  if (value?.properties) return { path: `${path}.${mapKey(field, path)}`, schema: value };
  return undefined;
}

function mapValue(field: Json): Json | undefined {
  const patterns = field.patternProperties as Record<string, Json> | undefined;
  return patterns ? Object.values(patterns)[0] : undefined;
}

function mapKey(field: Json, path: string): string {
  const pattern = Object.keys((field.patternProperties as Json | undefined) ?? {})[0];
  return MAP_KEYS[path] ?? (pattern === NAME_PATTERN ? '<name>' : '<key>');
}

function properties(schema: Json): Record<string, Json> {
  return (schema.properties as Record<string, Json> | undefined) ?? {};
}

function join(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function sectionTable(section: Section): string {
  const required = new Set((section.schema.required as string[] | undefined) ?? []);
  const rows = Object.entries(properties(section.schema)).map(([name, field]) => {
    const path = join(section.path, name);
    const description = field.description as string | undefined;
    if (!description) throw new Error(`${path} has no description in src/config/schema.ts`);
    return [
      code(name),
      typeWords(field, path),
      defaultWords(field, required.has(name)),
      details(field, description),
    ];
  });
  return table(['field', 'type', 'default', 'description'], rows);
}

export function typeWords(field: Json, path: string): string {
  const section = childSection(field, path);
  const link = section ? `, see [${code(section.path)}](#${slug(section.path)})` : '';
  if (Array.isArray(field.enum)) return `one of ${field.enum.map((v) => code(String(v))).join(', ')}`;
  if (field.const !== undefined) return code(JSON.stringify(field.const));
  const kind = KIND_WORDS[field['x-rampart-kind'] as string];
  if (kind) return kind;
  switch (field.type) {
    case 'string':
      return field.pattern === NAME_PATTERN ? 'name' : 'string';
    case 'integer':
    case 'number':
      return `${field.type}${range(field.minimum, field.maximum)}`;
    case 'boolean':
      return 'boolean';
    case 'array': {
      const items = field.items as Json;
      const of = items.properties ? 'objects' : typeWords(items, `${path}[]`);
      const min = typeof field.minItems === 'number' ? `, at least ${field.minItems}` : '';
      return `list of ${of}${min}${link}`;
    }
    case 'object': {
      if (field.properties) return `object${link}`;
      const min = typeof field.minProperties === 'number' ? `, at least ${field.minProperties}` : '';
      const key = mapKey(field, path).slice(1, -1);
      return `map of ${key} → object${min}${link}`;
    }
    default:
      throw new Error(`${path}: no words for schema type ${JSON.stringify(field.type)}`);
  }
}

function range(min: unknown, max: unknown): string {
  if (typeof min === 'number' && typeof max === 'number') return ` (${min}–${max})`;
  if (typeof min === 'number') return ` (≥ ${min})`;
  if (typeof max === 'number') return ` (≤ ${max})`;
  return '';
}

function defaultWords(field: Json, required: boolean): string {
  if (field.default !== undefined) {
    if (field.default === '') return '`""` (empty)';
    return code(yamlFlow(field.default));
  }
  return required ? '**required**' : '—';
}

/** The description, plus the format a patterned string must have when its type word does not say it. */
function details(field: Json, description: string): string {
  const items = field.type === 'array' ? (field.items as Json) : undefined;
  const shaped = items ?? field;
  const pattern = shaped.pattern;
  if (typeof pattern !== 'string' || shaped['x-rampart-kind'] || pattern === NAME_PATTERN) return description;
  const hint = shaped['x-rampart-hint'];
  if (items) {
    return typeof hint === 'string'
      ? `${description} Each entry is ${hint}.`
      : `${description} Each entry must match ${code(pattern)}.`;
  }
  return typeof hint === 'string'
    ? `${description} Must be ${hint}.`
    : `${description} Must match ${code(pattern)}.`;
}

/** A table of the shared field types used in this schema, with the hint each one's errors show. */
function valueTypes(root: Json): string {
  const seen = new Map<string, string>();
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    const schema = node as Json;
    const kind = schema['x-rampart-kind'];
    if (typeof kind === 'string' && !seen.has(kind)) {
      seen.set(kind, (schema['x-rampart-hint'] as string | undefined) ?? '');
    }
    for (const value of Object.values(schema)) visit(value);
  };
  visit(root);
  const rows = [...seen]
    .sort(([a], [b]) => (KIND_WORDS[a] ?? a).localeCompare(KIND_WORDS[b] ?? b, 'en'))
    .map(([kind, hint]) => [KIND_WORDS[kind] ?? kind, hint === '' ? (KIND_NOTES[kind] ?? '') : hint]);
  rows.push(['name', String(Name('')['x-rampart-hint'])]);
  return table(['type', 'written as'], rows);
}

/** For kinds whose typedef carries no hint. */
const KIND_NOTES: Record<string, string> = {
  path: 'a file path, relative to the folder of the config file',
};
