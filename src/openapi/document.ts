import { readYamlFile, type YamlSource } from '../config/yaml-source.ts';
import { configError, type SourceLocation } from '../core/errors.ts';
import { dereference } from './deref.ts';
import { checkOpenApiSchema } from './schema-check.ts';

type Json = Record<string, unknown>;

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export interface OpenApiOperation {
  /** The document's operationId, or `METHOD /path` when it has none. */
  readonly operationId: string;
  /** Upper-case HTTP method. */
  readonly method: string;
  /** The path template as written in the document, e.g. `/pets/{petId}`. */
  readonly path: string;
  /** The dereferenced Operation Object. */
  readonly operation: Json;
  /** Operation-level `security`, else the document's; undefined when neither declares one. */
  readonly security: readonly Json[] | undefined;
  readonly location: SourceLocation;
}

export interface OpenApiDocument {
  readonly file: string;
  readonly version: '3.0' | '3.1';
  readonly document: Json;
  readonly operations: readonly OpenApiOperation[];
  /** `components.securitySchemes` by name (empty when none), dereferenced. */
  readonly securitySchemes: Readonly<Record<string, SecuritySchemeObject>>;
  readonly source: YamlSource;
}

/** The fields of an OpenAPI security scheme object that Rampart reads. */
export interface SecuritySchemeObject {
  readonly type?: string;
  readonly scheme?: string;
  readonly in?: string;
  readonly name?: string;
  readonly openIdConnectUrl?: string;
  readonly 'x-amazon-apigateway-authtype'?: string;
}

const OPENAPI_LIMITS = { maxBytes: 16 * 1024 * 1024, maxAliases: 1000 };

/** Load, check against the official schema, dereference, and list the operations. */
export function loadOpenApi(file: string): OpenApiDocument {
  const source = readYamlFile(file, OPENAPI_LIMITS);
  const data = source.data as Json | null;
  const declared = data && typeof data === 'object' ? data.openapi : undefined;
  const version = typeof declared === 'string' ? /^3\.(0|1)\.\d+$/.exec(declared) : null;
  if (!version) {
    throw configError('RAMPART_ERR_OPENAPI_INVALID', {
      location: source.locate(['openapi']),
      field: 'openapi',
      message: `must be an OpenAPI 3.0.x or 3.1.x version string (found ${JSON.stringify(declared ?? null)})`,
    });
  }
  const v = version[1] === '0' ? '3.0' : '3.1';
  checkOpenApiSchema(source, v);
  const document = dereference(source);
  const securitySchemes = ((document.components as Json | undefined)?.securitySchemes ?? {}) as Record<
    string,
    SecuritySchemeObject
  >;
  return {
    file,
    version: v,
    document,
    operations: listOperations(source, document),
    securitySchemes,
    source,
  };
}

function listOperations(source: YamlSource, document: Json): OpenApiOperation[] {
  const operations: OpenApiOperation[] = [];
  const ids = new Map<string, string>();
  const paths = (document.paths ?? {}) as Json;
  const rootSecurity = document.security as Json[] | undefined;
  for (const [path, item] of Object.entries(paths)) {
    checkTemplate(source, path);
    for (const method of HTTP_METHODS) {
      const operation = (item as Json)[method] as Json | undefined;
      if (!operation) continue;
      const at = ['paths', path, method];
      const id =
        typeof operation.operationId === 'string' ? operation.operationId : `${method.toUpperCase()} ${path}`;
      const previous = ids.get(id);
      if (previous !== undefined) {
        throw configError('RAMPART_ERR_OPENAPI_INVALID', {
          location: source.locate([...at, 'operationId']),
          field: `paths.${path}.${method}.operationId`,
          message: `operationId "${id}" is already used by ${previous}; operationIds must be unique`,
        });
      }
      ids.set(id, `${method.toUpperCase()} ${path}`);
      operations.push({
        operationId: id,
        method: method.toUpperCase(),
        path,
        operation,
        security: (operation.security as Json[] | undefined) ?? rootSecurity,
        // The method key (`get:`), not the operation's first field on the next line.
        location: source.locate(at, { key: true }),
      });
    }
  }
  return operations;
}

/** `{name}` templates must be balanced and unique within a path, and fill whole names. */
function checkTemplate(source: YamlSource, path: string): void {
  const fail = (message: string) =>
    configError('RAMPART_ERR_OPENAPI_INVALID', {
      // The path template is the key; its value (the Path Item) starts on the next line.
      location: source.locate(['paths', path], { key: true }),
      field: `paths.${path}`,
      message,
    });
  const names = new Set<string>();
  for (const segment of path.split('/').slice(1)) {
    const stripped = segment.replace(/\{([^{}/]+)\}/g, (_, name: string) => {
      if (names.has(name)) throw fail(`path parameter {${name}} appears twice`);
      names.add(name);
      return '';
    });
    if (/[{}]/.test(stripped)) throw fail(`unbalanced or empty {parameter} template in segment "${segment}"`);
  }
}
