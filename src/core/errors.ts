/**
 * The catalogue of operator/programmer errors (`RAMPART_ERR_<AREA>_<WHAT>`). Request decisions
 * use reason codes (reasons.ts) instead. docs/reference/errors.md is checked against this table by a test.
 */
export const ERRORS = {
  RAMPART_ERR_CONFIG_FILE:
    'A config or referenced file cannot be read (missing, unreadable, or over its size limit).',
  RAMPART_ERR_CONFIG_YAML:
    'A config or OpenAPI file is not valid YAML/JSON, uses custom tags, duplicate keys, or too many aliases.',
  RAMPART_ERR_CONFIG_SCHEMA: 'A config field is missing, unknown, of the wrong type, or out of range.',
  RAMPART_ERR_CONFIG_SECRET: 'A secret reference (`env:NAME`, `file:PATH`) cannot be resolved.',
  RAMPART_ERR_CONFIG_REFERENCE:
    'A config field names something that does not exist (an upstream, an operationId) or conflicts with another entry.',
  RAMPART_ERR_CONFIG_CIDR: 'A CIDR or IP address in the config does not parse.',
  RAMPART_ERR_CONFIG_POLICY:
    'A Cedar policy file does not parse, or a policy does not validate against the schema generated from the OpenAPI document.',
  RAMPART_ERR_OPENAPI_INVALID:
    'An OpenAPI document does not conform to the OpenAPI 3.0/3.1 schema or has unsupported content.',
  RAMPART_ERR_OPENAPI_REF: 'An OpenAPI `$ref` cannot be resolved, or points outside the document.',
  RAMPART_ERR_RELOAD_LISTENER:
    'A reload changed the listeners (address, port or TLS); listener changes need a restart.',
  RAMPART_ERR_LISTEN: 'A listener could not bind its address (in use, not permitted).',
  RAMPART_ERR_CLI_USAGE: 'The command line is wrong: unknown command or option, or a missing argument.',
} as const;

export type ErrorCode = keyof typeof ERRORS;

export interface SourceLocation {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
}

export interface ConfigProblem {
  readonly location: SourceLocation;
  /** Field path in words, e.g. `apis.petstore.upstream`. */
  readonly field?: string;
  readonly message: string;
}

/** An error an operator can act on: a stable code, and every problem with its location. */
export class RampartError extends Error {
  readonly code: ErrorCode;
  readonly problems: readonly ConfigProblem[];

  constructor(code: ErrorCode, message: string, problems: readonly ConfigProblem[] = []) {
    super(message);
    this.name = 'RampartError';
    this.code = code;
    this.problems = problems;
  }

  /** The multi-line text the CLI prints: one line per problem, `file:line:col field: message`. */
  format(): string {
    if (this.problems.length === 0) return `${this.code}: ${this.message}`;
    const lines = this.problems.map(
      (p) => `  ${formatLocation(p.location)}${p.field ? ` ${p.field}:` : ''} ${p.message}`,
    );
    return `${this.code}: ${this.message}\n${lines.join('\n')}`;
  }
}

export function formatLocation(loc: SourceLocation): string {
  if (loc.line === undefined) return `${loc.file}:`;
  return `${loc.file}:${loc.line}:${loc.column ?? 1}:`;
}

export function configError(code: ErrorCode, problem: ConfigProblem): RampartError {
  return new RampartError(code, problem.message, [problem]);
}
