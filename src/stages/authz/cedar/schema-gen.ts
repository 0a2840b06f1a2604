import type { CedarType, SchemaJson } from './wasm.ts';

/**
 * The Cedar schema of an API, generated from its OpenAPI document (empty namespace):
 *
 * - `User` (the verified principal; parents: `Group`), `Group`, `Anonymous` (no credential);
 * - one action per operation, id = operationId, member of `Action::"tag:<tag>"` for each tag;
 * - one resource type per operation, with the path parameters as attributes;
 * - one context type shared by every action (client IP, scopes, claims, mTLS, time).
 *
 * Policies are validated against it at load (strict mode), so a policy that reads an
 * attribute that does not exist, or compares values of different types, never gets to run.
 */

export type ClaimTypeName = 'String' | 'Long' | 'Boolean' | 'Set<String>' | 'Set<Long>';

export interface ClaimDeclaration {
  readonly type: ClaimTypeName;
  readonly required: boolean;
}

/** What the schema generator reads of one operation. */
export interface SchemaOperation {
  readonly operationId: string;
  /** The path template under the document's paths, e.g. `/users/{userId}/orders/{orderId}`. */
  readonly path: string;
  readonly tags: readonly string[];
  /** The operation may be called without a credential (its security admits `{}`). */
  readonly anonymous: boolean;
  /** `operations.<id>.authz.resource`, if set. */
  readonly resourceType?: string;
}

export interface SchemaOptions {
  readonly claims: Readonly<Record<string, ClaimDeclaration>>;
  /** Path parameter name → entity type. */
  readonly entities: Readonly<Record<string, string>>;
}

/** How one operation's requests map to a Cedar resource. */
export interface ResourceShape {
  readonly type: string;
  /** The path parameter whose value is the resource id; null: the id is the API name. */
  readonly idParam: string | null;
  /** Path parameter names, in path order. */
  readonly params: readonly string[];
}

export interface GeneratedSchema {
  readonly schema: SchemaJson<string>;
  readonly resources: ReadonlyMap<string, ResourceShape>;
}

export const PRINCIPAL_TYPE = 'User';
export const GROUP_TYPE = 'Group';
export const ANONYMOUS_TYPE = 'Anonymous';
export const API_TYPE = 'Api';
const RESERVED_TYPES = new Set([PRINCIPAL_TYPE, GROUP_TYPE, ANONYMOUS_TYPE, 'Action']);
/** Words Cedar reserves: they cannot name an entity type. */
const CEDAR_KEYWORDS = new Set([
  'true',
  'false',
  'if',
  'then',
  'else',
  'in',
  'is',
  'like',
  'has',
  'principal',
  'action',
  'resource',
  'context',
  'permit',
  'forbid',
  'when',
  'unless',
  '__cedar',
]);

/** Why `name` cannot be an entity type of the generated schema, or null when it can. */
export function entityTypeProblem(name: string, usage: 'resource' | 'reference'): string | null {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return `"${name}" is not a Cedar identifier`;
  if (CEDAR_KEYWORDS.has(name)) return `"${name}" is a Cedar keyword`;
  if (name === 'Action') return '"Action" is the type of actions';
  if (usage === 'resource' && RESERVED_TYPES.has(name)) {
    return `"${name}" is the type of principals or groups; a resource type must be another name`;
  }
  return null;
}

const PATH_PARAM = /\{([^}]+)\}/g;

/** The resource shape of a path template, by the rules in the docs. */
export function resourceShape(path: string, apiType: string, override?: string): ResourceShape {
  const params = [...path.matchAll(PATH_PARAM)].map((m) => m[1]!);
  const last = params.at(-1) ?? null;
  if (override !== undefined) return { type: override, idParam: last, params };
  if (last === null) return { type: apiType, idParam: null, params };
  let base = last.replace(/(?<=.)(Id|_id|-id|ID)$/, '');
  if (base.toLowerCase() === 'id') {
    // `/orders/{id}`: the literal segment before the parameter names the thing.
    const segments = path.split('/');
    const at = segments.indexOf(`{${last}}`);
    base = at > 0 && !segments[at - 1]!.includes('{') ? segments[at - 1]! : 'Resource';
  }
  let type = pascal(base);
  if (!/^[A-Za-z_]/.test(type)) type = `R${type}`;
  if (RESERVED_TYPES.has(type) || CEDAR_KEYWORDS.has(type) || type === apiType) type = `${type}Resource`;
  return { type, idParam: last, params };
}

function pascal(text: string): string {
  const words = text.split(/[^A-Za-z0-9]+/).filter((w) => w !== '');
  return words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('') || 'Resource';
}

export function claimType(t: ClaimTypeName): CedarType<string> {
  switch (t) {
    case 'String':
    case 'Long':
    case 'Boolean':
      return { type: t };
    case 'Set<String>':
      return { type: 'Set', element: { type: 'String' } };
    case 'Set<Long>':
      return { type: 'Set', element: { type: 'Long' } };
  }
}

type Attr = CedarType<string> & { required?: boolean };

const STRING: Attr = { type: 'String' };
const STRING_SET: Attr = { type: 'Set', element: { type: 'String' } };

/** The shape of `context`, the same for every action. */
function contextType(claims: SchemaOptions['claims']): CedarType<string> {
  const claimAttrs: Record<string, Attr> = {};
  for (const [name, decl] of Object.entries(claims)) {
    claimAttrs[name] = { ...claimType(decl.type), required: decl.required };
  }
  return {
    type: 'Record',
    attributes: {
      clientIp: { type: 'Extension', name: 'ipaddr' },
      authenticated: { type: 'Boolean' },
      scopes: STRING_SET,
      claims: { type: 'Record', attributes: claimAttrs },
      mtls: {
        type: 'Record',
        required: false,
        attributes: {
          subjectCN: { ...STRING, required: false },
          issuerCN: { ...STRING, required: false },
          fingerprint: STRING,
          serial: STRING,
          sanDns: STRING_SET,
          sanUri: STRING_SET,
          sanEmail: STRING_SET,
        },
      } as Attr,
      time: {
        type: 'Record',
        attributes: {
          now: { type: 'Extension', name: 'datetime' },
          epochSeconds: { type: 'Long' },
        },
      },
    },
  } as CedarType<string>;
}

/**
 * Generate the schema of one API. `apiType` is the resource type of operations without path
 * parameters (`Api`). Throws a plain Error naming the operation when two parts clash; the
 * caller attaches the file location.
 */
export function generateSchema(
  operations: readonly SchemaOperation[],
  options: SchemaOptions,
): GeneratedSchema {
  const resources = new Map<string, ResourceShape>();
  // Resource type → attribute → how many of the type's operations have it.
  const shapes = new Map<string, { ops: number; attrs: Map<string, number> }>();
  const actions: Record<string, NonNullable<SchemaJson<string>['']>['actions'][string]> = {};
  const tagActions = new Set<string>();

  for (const op of operations) {
    const shape = resourceShape(op.path, API_TYPE, op.resourceType);
    resources.set(op.operationId, shape);
    let entry = shapes.get(shape.type);
    if (entry === undefined) {
      entry = { ops: 0, attrs: new Map() };
      shapes.set(shape.type, entry);
    }
    entry.ops++;
    for (const p of new Set(shape.params)) entry.attrs.set(p, (entry.attrs.get(p) ?? 0) + 1);
    for (const tag of op.tags) tagActions.add(`tag:${tag}`);
    actions[op.operationId] = {
      appliesTo: {
        principalTypes: op.anonymous ? [PRINCIPAL_TYPE, ANONYMOUS_TYPE] : [PRINCIPAL_TYPE],
        resourceTypes: [shape.type],
        context: { type: 'Context' },
      },
      ...(op.tags.length > 0 ? { memberOf: op.tags.map((t) => ({ id: `tag:${t}` })) } : {}),
    };
  }
  for (const tagAction of tagActions) {
    if (Object.hasOwn(actions, tagAction)) {
      throw new Error(
        `operationId "${tagAction}" clashes with the action group of tag "${tagAction.slice(4)}"`,
      );
    }
    actions[tagAction] = {};
  }

  const entityTypes: NonNullable<SchemaJson<string>['']>['entityTypes'] = {
    [PRINCIPAL_TYPE]: {
      memberOfTypes: [GROUP_TYPE],
      shape: { type: 'Record', attributes: { id: STRING, kind: STRING, scheme: STRING } },
    },
    [GROUP_TYPE]: {},
    [ANONYMOUS_TYPE]: {},
  };
  for (const type of Object.values(options.entities)) {
    if (!Object.hasOwn(entityTypes, type)) entityTypes[type] = {};
  }
  for (const [type, { ops, attrs }] of shapes) {
    const attributes: Record<string, Attr> = {};
    for (const [name, count] of attrs) {
      const ref = Object.hasOwn(options.entities, name) ? options.entities[name] : undefined;
      const base: Attr = ref === undefined ? STRING : { type: 'Entity', name: ref };
      // An attribute every operation of the type has is required; the others may be absent.
      attributes[name] = count === ops ? base : { ...base, required: false };
    }
    // A type both derived for resources and named in `entities` (`/tenants/{tenantId}` with
    // `tenantId: Tenant`) is one type: the resource entity carries the attributes.
    entityTypes[type] = { shape: { type: 'Record', attributes } };
  }

  return {
    schema: {
      '': {
        commonTypes: { Context: contextType(options.claims) },
        entityTypes,
        actions,
      },
    },
    resources,
  };
}
