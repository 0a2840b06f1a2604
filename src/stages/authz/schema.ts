import { Type } from '@sinclair/typebox';
import { Cidr, FilePath, Mode, Strict, StringEnum } from '../../config/typedefs.ts';

/**
 * Config of the `authz` stage. A rule (groups, scopes, network, principal kinds) can be set on
 * the API, per OpenAPI tag and per operation; every level that sets one must pass, and any
 * level's `network.deny` wins over every allow. Cedar policies are per API.
 */

export const PRINCIPAL_KINDS = ['jwt', 'apiKey', 'sigv4', 'mtls', 'external', 'anonymous'] as const;

const ruleFields = {
  groups: Type.Optional(
    Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description: 'The caller must be in at least one of these groups (read from `groupsFrom`).',
    }),
  ),
  scopes: Type.Optional(
    Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description:
        "The caller's credential must carry all of these scopes (beyond those the OpenAPI `security` requires).",
    }),
  ),
  network: Type.Optional(
    Strict(
      {
        allow: Type.Optional(
          Type.Array(Cidr('A source network allowed.'), {
            minItems: 1,
            description: 'If set, the client IP must be in one of these blocks (IPv4 or IPv6).',
          }),
        ),
        deny: Type.Optional(
          Type.Array(Cidr('A source network refused.'), {
            minItems: 1,
            description: 'A client IP in one of these blocks is refused, whatever any level allows.',
          }),
        ),
      },
      {
        description:
          'Source networks, matched against the client IP the `client` stage resolved (the socket peer, or X-Forwarded-For from a trusted proxy).',
      },
    ),
  ),
  principalKinds: Type.Optional(
    Type.Array(
      StringEnum(PRINCIPAL_KINDS, 'A kind of principal: the verifier that produced it, or `anonymous`.'),
      {
        minItems: 1,
        description: 'Only principals of these kinds are allowed (`anonymous`: no credential).',
      },
    ),
  ),
};

const TagRule = Strict(ruleFields, { description: 'Rules for every operation carrying this OpenAPI tag.' });

const ClaimType = StringEnum(
  ['String', 'Long', 'Boolean', 'Set<String>', 'Set<Long>'] as const,
  'The Cedar type of the claim.',
);

const Claim = Type.Union([
  ClaimType,
  Strict({
    type: ClaimType,
    required: Type.Optional(
      Type.Boolean({
        description:
          'Default true. Required claims may be used without `has`; a token without one makes any policy that reads it an evaluation error, which denies. Optional claims must be tested with `context.claims has NAME`.',
      }),
    ),
  }),
]);

const CEDAR_IDENT = '^[A-Za-z_][A-Za-z0-9_]*$';

const Cedar = Strict(
  {
    policies: FilePath('Cedar policy file of this API, relative to the config file.'),
    claims: Type.Record(Type.String({ pattern: CEDAR_IDENT }), Claim, {
      additionalProperties: false,
      default: {},
      description:
        'Claims of the token (or attributes of an external principal) exposed to policies as `context.claims`, with their Cedar types: `String`, `Long`, `Boolean`, `Set<String>`, `Set<Long>`. A claim not listed here is not visible to policies.',
    }),
    entities: Type.Record(Type.String({ pattern: CEDAR_IDENT }), Type.String({ pattern: CEDAR_IDENT }), {
      additionalProperties: false,
      default: {},
      description:
        'Path parameters that name entities, by parameter name → entity type (e.g. `userId: User`): the resource attribute is then an entity reference instead of a string, comparable with `principal`.',
    }),
    decisionCache: Type.Integer({
      minimum: 0,
      maximum: 1_000_000,
      default: 10_000,
      description:
        'Most decisions remembered for this API (least recently used first out; at most 16 MiB of keys, and requests over 2048 characters are not cached); 0 turns the cache off. A decision is cached under the exact request sent to Cedar (pruned to what the policies read), so a hit is the decision Cedar would make; operations whose policies read `context.time` are never cached. Emptied on every reload.',
    }),
  },
  {
    description:
      'Cedar policies of this API, validated at load against a schema generated from its OpenAPI document.',
  },
);

export const ApiAuthzConfig = Strict(
  {
    mode: Mode('`shadow` evaluates and records every decision but refuses nothing.'),
    groupsFrom: Type.String({
      pattern: '^(claims|attributes)\\.[A-Za-z0-9_.:/-]+$',
      default: 'claims.groups',
      description:
        "The principal field holding the caller's groups (roles): `claims.NAME` (a JWT claim) or `attributes.NAME` (an attribute of an API-key, SigV4 or external principal). An array of strings, or one string.",
      'x-rampart-hint': 'claims.NAME or attributes.NAME',
    }),
    ...ruleFields,
    tags: Type.Record(Type.String({ minLength: 1 }), TagRule, {
      default: {},
      description: 'Rules by OpenAPI tag: they apply to every operation that carries the tag.',
    }),
    cedar: Type.Optional(Cedar),
  },
  {
    default: {},
    description:
      'Authorization of this API: rules on groups, scopes, source networks and principal kinds, and Cedar policies.',
  },
);

export const OperationAuthzConfig = Strict(
  {
    ...ruleFields,
    resource: Type.Optional(
      Type.String({
        pattern: CEDAR_IDENT,
        description: "The Cedar entity type of this operation's resource, instead of the derived one.",
      }),
    ),
  },
  { description: 'Authorization rules of this operation, on top of the API and tag rules.' },
);
