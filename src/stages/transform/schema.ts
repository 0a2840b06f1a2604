import { Type } from '@sinclair/typebox';
import { Strict } from '../../config/typedefs.ts';

/**
 * Header rules, for the upstream request (`transform.request`) and for the response
 * (`response.headers`). Names are checked at load by the rule compiler (header-rules.ts), which
 * says why a name is refused (hop-by-hop, framing, owned by the gateway); values are refused
 * here already when they hold a control character.
 */

const HeaderValue = Type.String({
  // HTAB is the only control character a field value may hold (RFC 9110 §5.5); CR, LF and NUL
  // in a configured value would split or end the header block (header injection, smuggling).
  pattern: '^[^\\u0000-\\u0008\\u000A-\\u001F\\u007F]*$',
  maxLength: 4096,
  'x-rampart-hint':
    'a header value without CR, LF, NUL or other control characters (at most 4096 characters)',
});

const HeaderName = Type.String({ minLength: 1 });

export const HeaderRules = Strict(
  {
    remove: Type.Optional(
      Type.Array(HeaderName, { uniqueItems: true, description: 'Headers removed (any case).' }),
    ),
    rename: Type.Optional(
      Type.Record(HeaderName, HeaderName, {
        description: 'Header → new name: the value moves, replacing any header of the new name.',
      }),
    ),
    set: Type.Optional(
      Type.Record(HeaderName, HeaderValue, {
        description:
          'Header → value, replacing any value (a client-sent one included). A value may use `{request.id}` and `{principal.id}` (or `kind`, `scheme`, `scopes`, `claims.<name>`, `attributes.<name>`); a header whose value cannot be made (anonymous caller, unsafe claim) is left out.',
      }),
    ),
    add: Type.Optional(
      Type.Record(HeaderName, HeaderValue, {
        description:
          'Header → value appended to any existing value (`{request.id}` allowed, not `{principal.*}`).',
      }),
    ),
  },
  {
    description:
      'Header rules, applied in this order: remove, rename, set, add. Hop-by-hop, framing and gateway-owned headers cannot be named (a load error says why).',
  },
);

export const TransformConfig = Strict(
  { request: Type.Optional(HeaderRules) },
  {
    description:
      "Edits of the request sent upstream, after the identity headers (`authn.identityHeaders`), which rules cannot name. API rules apply first, then the operation's.",
  },
);
