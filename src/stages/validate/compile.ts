import type { ValidateFunction } from 'ajv';
import type { Finding } from '../../config/gateway.ts';
import type { ApiConfig } from '../../config/schema.ts';
import { configError, type SourceLocation } from '../../core/errors.ts';
import type { Stage } from '../../core/stage.ts';
import type { OpenApiDocument, OpenApiOperation } from '../../openapi/document.ts';
import { type AjvPair, createAjvPair } from './engine/ajv.ts';
import { declaredProperties, schemaTypes } from './engine/coerce.ts';
import { type BodyKind, bodyKind } from './engine/media-type.ts';
import { EmitError, type EmitOptions, emitSchema, type Path, resolveRef } from './engine/schema-emit.ts';
import { defaultStyle, type ParamIn, type ParamSpec, type Shape } from './engine/styles.ts';
import type { ApiValidateConfigT } from './schema.ts';
import { createValidateStage } from './stage.ts';

type Json = Record<string, unknown>;
type KnownFormat = (name: string, at: Path) => boolean;

export interface CompiledParam {
  readonly spec: ParamSpec;
  readonly required: boolean;
  readonly allowEmpty: boolean;
  /** `content` with a JSON media type instead of `schema`: the value is a JSON text. */
  readonly json: boolean;
  readonly validate: ValidateFunction;
}

export interface CompiledMedia {
  readonly mediaType: string;
  readonly kind: BodyKind;
  /** Null: the content type is accepted and its body not inspected (no schema, or not JSON/form). */
  readonly fast: ValidateFunction | null;
  readonly full: ValidateFunction | null;
  /** The dereferenced schema, for form-field coercion. */
  readonly schema: unknown;
}

export interface CompiledBody {
  readonly required: boolean;
  readonly content: ReadonlyMap<string, CompiledMedia>;
}

export interface OperationValidation {
  readonly params: readonly CompiledParam[];
  readonly query: boolean;
  readonly cookies: boolean;
  /** Null: the operation declares no requestBody. */
  readonly body: CompiledBody | null;
  readonly strict: boolean;
  readonly maxDepth: number;
  readonly checkBody: boolean;
}

/** OpenAPI 3.1 §4.8.12.1: these header parameters are ignored (the HTTP layer owns them). */
const IGNORED_HEADERS = new Set(['accept', 'content-type', 'authorization']);

/**
 * Builds one `validate` stage per operation at load: every schema is emitted, checked against
 * its dialect's meta-schema and compiled by Ajv here, so a schema that cannot be compiled stops
 * the load with the OpenAPI file, line and JSON pointer — no operation runs unvalidated
 * because its schema was skipped.
 */
export class ValidateCompiler {
  readonly #findings: Finding[];
  readonly #ajv = new Map<string, AjvPair>();
  readonly #warned = new Set<string>();
  #current: { doc: OpenApiDocument; location: SourceLocation } | null = null;

  constructor(findings: Finding[]) {
    this.#findings = findings;
  }

  stageFor(api: ApiConfig, doc: OpenApiDocument, op: OpenApiOperation): Stage | null {
    const config = effectiveConfig(api, op.operationId);
    if (config.mode === 'off' || (!config.parameters && !config.requestBody)) return null;
    const ajv = this.#ajvFor(doc, op);
    const knownFormat = (name: string, at: Path): boolean => {
      if (ajv.fast.formats[name] !== undefined) return true;
      this.#warn(doc, `unknown format "${name}" at ${pointer(at)}`, doc.source.locate(at));
      return false;
    };
    const validation = compileOperation(doc, op, ajv, config, knownFormat);
    return createValidateStage(validation, config.mode);
  }

  /**
   * One pair of Ajv instances per dialect for the whole config: each instance compiles its
   * meta-schema once (tens of milliseconds), so sharing them keeps a reload of many documents
   * fast. Ajv's warnings go to the document being compiled.
   */
  #ajvFor(doc: OpenApiDocument, op: OpenApiOperation): AjvPair {
    this.#current = { doc, location: op.location };
    let pair = this.#ajv.get(doc.version);
    if (pair === undefined) {
      pair = createAjvPair(doc.version, (message) => {
        if (this.#current !== null) this.#warn(this.#current.doc, message, this.#current.location);
      });
      this.#ajv.set(doc.version, pair);
    }
    return pair;
  }

  /** A schema keyword or format the validator ignores: a finding, once per message. */
  #warn(doc: OpenApiDocument, message: string, location: SourceLocation): void {
    const text = `${doc.file}: ${message.replace(/^strict mode: /, '')} (request validation does not check it)`;
    if (this.#warned.has(text)) return;
    this.#warned.add(text);
    this.#findings.push({ id: 'validate-schema-keyword-ignored', severity: 'low', message: text, location });
  }
}

export function effectiveConfig(api: ApiConfig, operationId: string): ApiValidateConfigT {
  const override = api.operations[operationId]?.validate ?? {};
  const out: Record<string, unknown> = { ...api.validate };
  for (const [k, v] of Object.entries(override)) if (v !== undefined) out[k] = v;
  return out as ApiValidateConfigT;
}

function compileOperation(
  doc: OpenApiDocument,
  op: OpenApiOperation,
  ajv: AjvPair,
  config: ApiValidateConfigT,
  knownFormat: KnownFormat,
): OperationValidation {
  const root = doc.source.data as Json;
  const item = resolveRef(root, (root.paths as Json)[op.path], ['paths', op.path]);
  const opAt: Path = [...item.at, op.method.toLowerCase()];
  const rawOp = (item.node as Json)[op.method.toLowerCase()] as Json;
  const derefItem = (doc.document.paths as Json)[op.path] as Json;
  const params = config.parameters
    ? compileParams(doc, ajv, item, rawOp, opAt, derefItem, op.operation, knownFormat)
    : [];
  const body = compileBody(doc, ajv, rawOp, opAt, op.operation, config.strict, knownFormat);
  return {
    params,
    query: params.some((p) => p.spec.in === 'query'),
    cookies: params.some((p) => p.spec.in === 'cookie'),
    body,
    strict: config.strict,
    maxDepth: config.maxDepth,
    checkBody: config.requestBody,
  };
}

function compileParams(
  doc: OpenApiDocument,
  ajv: AjvPair,
  item: { node: unknown; at: Path },
  rawOp: Json,
  opAt: Path,
  derefItem: Json,
  derefOp: Json,
  knownFormat: KnownFormat,
): CompiledParam[] {
  // Operation-level parameters override path-level ones of the same name and location.
  const byKey = new Map<string, { raw: unknown; at: Path; deref: Json }>();
  const collect = (rawList: unknown, at: Path, derefList: unknown) => {
    if (!Array.isArray(rawList) || !Array.isArray(derefList)) return;
    rawList.forEach((raw, i) => {
      const deref = derefList[i] as Json;
      byKey.set(`${String(deref.in)}|${String(deref.name)}`, { raw, at: [...at, 'parameters', i], deref });
    });
  };
  collect((item.node as Json).parameters, item.at, derefItem.parameters);
  collect(rawOp.parameters, opAt, derefOp.parameters);
  const out: CompiledParam[] = [];
  for (const { raw, at, deref } of byKey.values()) {
    const where = deref.in as ParamIn;
    const name = String(deref.name);
    if (where === 'header' && IGNORED_HEADERS.has(name.toLowerCase())) continue;
    const resolved = resolveRef(doc.source.data as Json, raw, at);
    let schemaAt: Path = [...resolved.at, 'schema'];
    let rawSchema = (resolved.node as Json).schema;
    let schema = deref.schema;
    let json = false;
    if (rawSchema === undefined && deref.content && typeof deref.content === 'object') {
      const [mediaType, media] = Object.entries(deref.content as Json)[0] ?? [];
      if (mediaType !== undefined) {
        json = bodyKind(normalizeKey(mediaType)) === 'json';
        schemaAt = [...resolved.at, 'content', mediaType, 'schema'];
        rawSchema = ((resolved.node as Json).content as Json)[mediaType]
          ? (((resolved.node as Json).content as Json)[mediaType] as Json).schema
          : undefined;
        schema = (media as Json | undefined)?.schema;
      }
    }
    const style = typeof deref.style === 'string' ? deref.style : defaultStyle(where);
    const types = schemaTypes(schema);
    const shape: Shape = json
      ? 'primitive'
      : types.has('array')
        ? 'array'
        : types.has('object')
          ? 'object'
          : 'primitive';
    const spec: ParamSpec = {
      name: where === 'header' ? name.toLowerCase() : name,
      in: where,
      style,
      explode: typeof deref.explode === 'boolean' ? deref.explode : style === 'form',
      shape,
      schema: json ? { type: 'string' } : schema,
      properties: shape === 'object' ? [...declaredProperties(schema)] : [],
    };
    out.push({
      spec: where === 'header' ? { ...spec, name: name.toLowerCase() } : spec,
      required: where === 'path' || deref.required === true,
      allowEmpty: deref.allowEmptyValue === true,
      json,
      validate: compile(doc, ajv, rawSchema ?? {}, schemaAt, { strict: false, knownFormat }).full,
    });
  }
  return out;
}

function compileBody(
  doc: OpenApiDocument,
  ajv: AjvPair,
  rawOp: Json,
  opAt: Path,
  derefOp: Json,
  strict: boolean,
  knownFormat: KnownFormat,
): CompiledBody | null {
  const deref = derefOp.requestBody as Json | undefined;
  if (deref === undefined) return null;
  const raw = resolveRef(doc.source.data as Json, rawOp.requestBody, [...opAt, 'requestBody']);
  const content = new Map<string, CompiledMedia>();
  for (const [key, media] of Object.entries((deref.content ?? {}) as Json)) {
    const mediaType = normalizeKey(key);
    const kind = bodyKind(mediaType);
    const schema = (media as Json | undefined)?.schema;
    const rawSchema = (((raw.node as Json).content as Json)[key] as Json | undefined)?.schema;
    const at: Path = [...raw.at, 'content', key, 'schema'];
    const inspect = kind !== 'other' && rawSchema !== undefined;
    const compiled = inspect ? compile(doc, ajv, rawSchema, at, { strict, knownFormat }) : null;
    content.set(mediaType, {
      mediaType,
      kind,
      fast: compiled?.fast ?? null,
      full: compiled?.full ?? null,
      schema,
    });
  }
  return { required: deref.required === true, content };
}

/** `Application/JSON; charset=utf-8` → `application/json` (ranges such as `text/*` kept). */
function normalizeKey(key: string): string {
  return key.split(';')[0]!.trim().toLowerCase();
}

function pointer(at: Path): string {
  return `#/${at.map((s) => String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;
}

/**
 * Emit a schema once, check it against its dialect's meta-schema, and compile it into both
 * validators (first error, every error). Any failure is a load error at the schema's location.
 */
function compile(
  doc: OpenApiDocument,
  ajv: AjvPair,
  rawSchema: unknown,
  at: Path,
  options: EmitOptions,
): { fast: ValidateFunction; full: ValidateFunction } {
  const fail = (where: Path, message: string) =>
    configError('RAMPART_ERR_OPENAPI_INVALID', {
      location: doc.source.locate(where),
      field: pointer(where),
      message: `schema cannot be compiled for request validation: ${message}`,
    });
  let emitted: ReturnType<typeof emitSchema>;
  try {
    emitted = emitSchema({ root: doc.source.data as Json, version: doc.version }, rawSchema, at, options);
  } catch (err) {
    if (err instanceof EmitError) throw fail(err.at, err.message);
    throw err;
  }
  if (!ajv.fast.validateSchema(emitted.schema)) {
    const e = ajv.fast.errors?.[0];
    const where = e ? originOf(emitted.schema, emitted.origins, e.instancePath, at) : at;
    throw fail(where, `${e?.instancePath.split('/').pop() || 'schema'} ${e?.message ?? 'is invalid'}`);
  }
  try {
    return { fast: ajv.fast.compile(emitted.schema), full: ajv.full.compile(emitted.schema) };
  } catch (err) {
    throw fail(at, (err as Error).message);
  }
}

/** The document path of the emitted node a meta-schema error points into. */
function originOf(schema: Json, origins: WeakMap<object, Path>, instancePath: string, fallback: Path): Path {
  let node: unknown = schema;
  let best: Path = origins.get(schema) ?? fallback;
  let rest: string[] = [];
  for (const raw of instancePath.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = node !== null && typeof node === 'object' ? (node as Json)[key] : undefined;
    rest.push(key);
    const origin = node !== null && typeof node === 'object' ? origins.get(node) : undefined;
    if (origin !== undefined) {
      best = origin;
      rest = [];
    }
  }
  return [...best, ...rest];
}
