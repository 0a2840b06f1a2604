import type { YamlSource } from '../config/yaml-source.ts';
import { configError } from '../core/errors.ts';

type Json = Record<string, unknown>;

/**
 * Dereference local `$ref`s (`#/components/...`). Cycles (recursive schemas) become cycles in
 * the object graph, as json-schema-ref-parser does. A `$ref` outside the document is a load
 * error: Rampart never fetches or reads other files on an OpenAPI document's say-so.
 */
export function dereference(source: YamlSource): Json {
  const root = source.data as Json;
  const done = new Map<object, unknown>();

  const resolvePointer = (ref: string, at: (string | number)[]): unknown => {
    if (!ref.startsWith('#')) {
      throw configError('RAMPART_ERR_OPENAPI_REF', {
        location: source.locate(at),
        field: pathText(at),
        message: `external $ref "${ref}" is not supported; only references within the document (#/...) are`,
      });
    }
    let node: unknown = root;
    const parts = ref === '#' ? [] : ref.slice(1).split('/').slice(1);
    if (ref.length > 1 && !ref.startsWith('#/')) {
      throw configError('RAMPART_ERR_OPENAPI_REF', {
        location: source.locate(at),
        field: pathText(at),
        message: `$ref "${ref}" is not a JSON pointer (#/...)`,
      });
    }
    for (const raw of parts) {
      const key = decodePointerSegment(raw);
      if (key === undefined || node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) {
        throw configError('RAMPART_ERR_OPENAPI_REF', {
          location: source.locate(at),
          field: pathText(at),
          message: `$ref "${ref}" points to nothing in this document`,
        });
      }
      node = (node as Json)[key];
    }
    return node;
  };

  const walk = (node: unknown, at: (string | number)[], chain: Set<string>): unknown => {
    if (node === null || typeof node !== 'object') return node;
    if (done.has(node)) return done.get(node);
    if (!Array.isArray(node) && typeof (node as Json).$ref === 'string') {
      const ref = (node as Json).$ref as string;
      if (chain.has(ref)) {
        throw configError('RAMPART_ERR_OPENAPI_REF', {
          location: source.locate(at),
          field: pathText(at),
          message: `$ref "${ref}" refers to itself without any content`,
        });
      }
      const target = resolvePointer(ref, at);
      const resolved = walk(target, at, new Set(chain).add(ref));
      const { $ref: _ref, ...siblings } = node as Json;
      // OpenAPI 3.1: summary/description beside a $ref override the target's.
      if (Object.keys(siblings).length === 0 || resolved === null || typeof resolved !== 'object')
        return resolved;
      return { ...(resolved as Json), ...siblings };
    }
    const out: unknown[] | Json = Array.isArray(node) ? [] : {};
    done.set(node, out);
    if (Array.isArray(node)) {
      node.forEach((item, i) => {
        (out as unknown[])[i] = walk(item, [...at, i], new Set());
      });
    } else {
      for (const [key, value] of Object.entries(node)) {
        const path = [...at, key];
        (out as Json)[key] = isLiteral(path, value) ? value : walk(value, path, new Set());
      }
    }
    return out;
  };

  return walk(root, [], new Set()) as Json;
}

/** Maps whose keys are names chosen by the author, so a key there is never a keyword. */
const NAME_MAPS = new Set([
  'properties',
  'patternProperties',
  '$defs',
  'definitions',
  'dependentSchemas',
  'schemas',
  'paths',
  'responses',
  'parameters',
  'headers',
  'content',
  'callbacks',
  'links',
  'securitySchemes',
  'requestBodies',
  'pathItems',
  'encoding',
  'webhooks',
]);

/**
 * Whether `path` holds example or literal data rather than OpenAPI/JSON Schema structure: a
 * `$ref` key inside an example is the API's data, not a reference (`example`, `default`,
 * `const`, `enum`, a Schema's `examples` list, an Example Object's `value`).
 */
function isLiteral(path: readonly (string | number)[], value: unknown): boolean {
  const key = path[path.length - 1];
  const parentKey = path[path.length - 2];
  if (typeof parentKey === 'string' && NAME_MAPS.has(parentKey)) return false;
  if (key === 'example' || key === 'default' || key === 'const' || key === 'enum') return true;
  if (key === 'examples' && Array.isArray(value)) return true;
  // components.examples.<name>.value, or <media type>.examples.<name>.value
  return key === 'value' && path[path.length - 3] === 'examples';
}

/**
 * A pointer segment in a URI fragment (RFC 6901 §6): percent-decoded, then `~1` and `~0`.
 * A malformed escape (`%E0`) makes decodeURIComponent throw a bare URIError; it is reported as
 * a located $ref error instead (undefined here) rather than crashing the load.
 */
function decodePointerSegment(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
  } catch {
    return undefined;
  }
}

function pathText(at: readonly (string | number)[]): string {
  return at.map((s) => (typeof s === 'number' ? `[${s}]` : s)).join('.');
}
