import { Ajv, type ErrorObject } from 'ajv';
import { type ConfigProblem, RampartError } from '../core/errors.ts';
import { type Config, ConfigSchema } from './schema.ts';
import type { YamlSource } from './yaml-source.ts';

const ajv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: true });
ajv.addVocabulary(['x-rampart-kind', 'x-rampart-hint']);
const validateSchema = ajv.compile<Config>(ConfigSchema);

/**
 * Validate a parsed config file against the schema, filling defaults in place. Every problem
 * names file, line, column and the field path; none is skipped.
 */
export function validateConfig(source: YamlSource): Config {
  const data = source.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new RampartError('RAMPART_ERR_CONFIG_SCHEMA', `${source.file} must be a mapping of config fields`, [
      { location: source.locate([]), message: 'the top level must be a mapping (key: value lines)' },
    ]);
  }
  if (validateSchema(data)) return data;
  const problems = describeErrors(validateSchema.errors ?? [], source);
  throw new RampartError(
    'RAMPART_ERR_CONFIG_SCHEMA',
    `${source.file} has ${problems.length} invalid field(s)`,
    problems,
  );
}

export function describeErrors(errors: readonly ErrorObject[], source: YamlSource): ConfigProblem[] {
  const seen = new Set<string>();
  const problems: ConfigProblem[] = [];
  for (const error of errors) {
    const path = pointerToPath(error.instancePath);
    const { field, message, at } = describeError(error, path);
    const key = `${field}\0${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    // An unknown field or a bad name is the key itself: point at it, not at its value.
    const onKey = error.keyword === 'additionalProperties';
    problems.push({ location: source.locate(at, { key: onKey }), field: field || '(top level)', message });
  }
  return problems;
}

function describeError(
  error: ErrorObject,
  path: (string | number)[],
): { field: string; message: string; at: (string | number)[] } {
  const schema = (error.parentSchema ?? {}) as Record<string, unknown>;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required': {
      const name = String(params.missingProperty);
      return { field: fieldPath([...path, name]), message: 'is required but missing', at: path };
    }
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const child = [...path, name];
      if (schema.patternProperties) {
        const hint = firstHint(schema.patternProperties);
        return {
          field: fieldPath(child),
          message: `"${name}" is not a valid name${hint ? `: use ${hint}` : ''}`,
          at: child,
        };
      }
      const known = Object.keys((schema.properties as object | undefined) ?? {});
      const guess = closest(name, known);
      const suggestion = guess
        ? ` (did you mean "${guess}"?)`
        : known.length
          ? ` (known fields: ${known.join(', ')})`
          : '';
      return { field: fieldPath(child), message: `unknown field${suggestion}`, at: child };
    }
    case 'type': {
      // `drainTimeout: 30` is a type error too; the hint says what a string should look like.
      const hint = schema['x-rampart-hint'];
      const message = `must be ${article(String(params.type))}${typeof hint === 'string' ? `: ${hint}` : ''}`;
      return { field: fieldPath(path), message, at: path };
    }
    case 'pattern': {
      const hint = schema['x-rampart-hint'];
      return {
        field: fieldPath(path),
        message: hint ? `must be ${hint}` : `must match ${String(params.pattern)}`,
        at: path,
      };
    }
    case 'enum':
      return {
        field: fieldPath(path),
        message: `must be one of: ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
        at: path,
      };
    case 'const':
      return { field: fieldPath(path), message: `must be ${JSON.stringify(params.allowedValue)}`, at: path };
    default:
      return { field: fieldPath(path), message: error.message ?? 'is invalid', at: path };
  }
}

function firstHint(patternProperties: unknown): string | undefined {
  for (const sub of Object.values(patternProperties as Record<string, Record<string, unknown>>)) {
    if (typeof sub['x-rampart-hint'] === 'string') return sub['x-rampart-hint'];
  }
  return 'a name of letters, digits, _ and -, starting with a letter (at most 64)';
}

function article(type: string): string {
  if (type === 'object') return 'a mapping';
  if (type === 'array') return 'a list';
  if (type === 'integer') return 'an integer';
  return `a ${type}`;
}

export function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

/** `['server', 'listen', 0, 'port']` → `server.listen[0].port`. */
export function fieldPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

/** A known name within edit distance 2, for "did you mean". */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = current;
    }
  }
  return row[b.length]!;
}
