import type { ErrorObject } from 'ajv';
import { READ_ONLY_KEYWORD } from './schema-emit.ts';

/**
 * What a client is told about an invalid request: the field that failed (`body/items/0/qty`,
 * `query/limit`) and the rule it broke (`type`, `required`, `maximum`, …), with a message built
 * from the schema alone. The submitted value is never repeated: it may be a secret pasted in
 * the wrong field, or a payload aimed at whoever reads the error (reflected XSS, log forging).
 * Ajv's messages name only schema values (limits, patterns, allowed values, the names of
 * missing or undeclared properties), never the instance; a property name taken from the
 * request is cut to a bounded length.
 */
export interface FieldError {
  readonly path: string;
  readonly rule: string;
  readonly detail: string;
}

/** Most errors listed in one response (and one log line). */
export const MAX_FIELD_ERRORS = 20;
const MAX_SEGMENT = 64;

function bounded(segment: string): string {
  return segment.length <= MAX_SEGMENT ? segment : `${segment.slice(0, MAX_SEGMENT)}…`;
}

function pointerSegment(name: string): string {
  return bounded(name.replace(/~/g, '~0').replace(/\//g, '~1'));
}

/** `body` + Ajv's instance path (`/items/0/qty`), with the property an error is about appended. */
export function fieldErrors(prefix: string, errors: readonly ErrorObject[]): FieldError[] {
  const out: FieldError[] = [];
  const seen = new Set<string>();
  // With several errors, an `anyOf`/`oneOf` summary and a "must be null" from the null branch of
  // a nullable schema only restate the branch errors that explain them.
  const focused =
    errors.length > 1
      ? errors.filter(
          (e) =>
            !(e.keyword === 'type' && (e.params as { type?: unknown }).type === 'null') &&
            !(
              (e.keyword === 'anyOf' || e.keyword === 'oneOf') &&
              errors.some(
                (o) => o !== e && o.keyword !== e.keyword && o.instancePath.startsWith(e.instancePath),
              )
            ),
        )
      : errors;
  for (const e of focused) {
    // Combinator summaries restate their branches' errors.
    if (e.keyword === 'if' || e.keyword === '$ref') continue;
    const params = e.params as Record<string, unknown>;
    let path = prefix + e.instancePath.split('/').map(bounded).join('/');
    let rule = e.keyword;
    let detail = e.message ?? 'is invalid';
    if (e.keyword === 'required' || e.keyword === 'dependencies' || e.keyword === 'dependentRequired') {
      path += `/${pointerSegment(String(params.missingProperty))}`;
      rule = 'required';
      detail = 'is required';
    } else if (e.keyword === 'additionalProperties' || e.keyword === 'unevaluatedProperties') {
      path += `/${pointerSegment(String(params.additionalProperty ?? params.unevaluatedProperty))}`;
      rule = 'undeclared';
      detail = 'is not a declared property';
    } else if (e.keyword === 'propertyNames') {
      detail = 'has a property name that is not allowed';
    } else if (e.keyword === READ_ONLY_KEYWORD) {
      rule = 'readOnly';
      detail = 'is read-only and may not be sent';
    }
    const key = `${path}|${rule}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path, rule, detail });
    if (out.length === MAX_FIELD_ERRORS) break;
  }
  return out;
}

/** One line for the access log decision: `body/items/0/qty: maximum; query/limit: type`. */
export function describeErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.path}: ${e.rule}`).join('; ');
}
