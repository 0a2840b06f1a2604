import type { ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajvDraft04 from 'ajv-draft-04';
import ajvFormats from 'ajv-formats';
import { READ_ONLY_KEYWORD } from './schema-emit.ts';

// Both are CommonJS with `exports.default`; under NodeNext their default import is the module.
const Ajv04 = ajvDraft04.default;
const addFormats = ajvFormats.default;

/**
 * The Ajv instances request schemas are compiled with: draft-04 for OpenAPI 3.0 documents,
 * 2020-12 for 3.1. One pair per document and load (a reload compiles new validators; nothing
 * is cached across configs). `fast` stops at the first error and runs on every request; `full`
 * collects every error and runs only on a request already found invalid, and only on input of
 * bounded size (Ajv's `allErrors` on large untrusted input is a CPU and memory amplifier).
 *
 * Options that matter for a gateway:
 * - `ownProperties`: `required: [toString]` is not met by Object.prototype's `toString`;
 * - `strictNumbers`: NaN and ±Infinity are not numbers;
 * - `strictSchema: 'log'`: a keyword Ajv does not know (a misspelt `maxLenght`) is ignored and
 *   reported to `warn`, which the compiler turns into a finding, instead of failing the load.
 *   OpenAPI annotations and `x-*` extensions never get here (emitting drops them), nor do
 *   unknown formats (dropped and reported by the compiler);
 * - formats from ajv-formats (`email`, `uuid`, `date-time`, `uri`, `ipv4`, …) plus OpenAPI's
 *   own (`int32`, `int64`, `float`, `double`, `byte`, `binary`, `password`).
 */
/** Either dialect's instance: both extend Ajv's core class. */
type AjvCore = InstanceType<typeof Ajv2020>;

export interface AjvPair {
  readonly fast: AjvCore;
  readonly full: AjvCore;
}

export function createAjvPair(version: '3.0' | '3.1', warn: (message: string) => void): AjvPair {
  const make = (allErrors: boolean): AjvCore => {
    const options = {
      allErrors,
      strictSchema: 'log',
      strictNumbers: true,
      strictTypes: false,
      strictTuples: false,
      strictRequired: false,
      allowUnionTypes: true,
      ownProperties: true,
      validateFormats: true,
      // The compiler checks each schema against the meta-schema once, on `fast`: compiling
      // the meta-schema in every instance costs more than all of a document's schemas.
      validateSchema: false,
      logger: { log() {}, warn, error: warn },
    } as const;
    const ajv = (version === '3.0' ? new Ajv04(options) : new Ajv2020(options)) as unknown as AjvCore;
    addFormats(ajv as never);
    ajv.addFormat('int32', {
      type: 'number',
      validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
    });
    ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
    ajv.addFormat('float', { type: 'number', validate: (n: number) => Number.isFinite(n) });
    ajv.addFormat('double', { type: 'number', validate: (n: number) => Number.isFinite(n) });
    ajv.addFormat('byte', /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
    ajv.addFormat('binary', true);
    ajv.addFormat('password', true);
    // Present means refused: the emitter puts it where a strict request must not send a property.
    ajv.addKeyword({
      keyword: READ_ONLY_KEYWORD,
      schemaType: 'boolean',
      validate: (on: boolean) => !on,
      errors: false,
    });
    return ajv;
  };
  return { fast: make(false), full: make(true) };
}

export type { ValidateFunction };
