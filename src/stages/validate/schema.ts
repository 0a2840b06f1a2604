import { type Static, Type } from '@sinclair/typebox';
import { Strict, StringEnum } from '../../config/typedefs.ts';

/**
 * Config of the `validate` stage: requests checked against the operation's OpenAPI parameters
 * and request body. On by default, enforcing: the OpenAPI document is the security contract
 * (ARCHITECTURE §4), and a gateway that routes by the document but lets any input through to
 * the upstream would only be half of it. An API whose document does not yet describe its
 * traffic is moved with `mode: shadow` (decisions recorded, requests let through) until the
 * log shows none, then back to `enforce`.
 */

const MODES = ['enforce', 'shadow', 'off'] as const;

function fields(scope: string, withDefaults: boolean) {
  const d = <T>(value: T) => (withDefaults ? { default: value } : {});
  return {
    mode: StringEnum(
      MODES,
      `\`enforce\`: an invalid request is refused (400, 415). \`shadow\`: the decision is recorded and the request goes on. \`off\`: nothing is checked for ${scope}.`,
      withDefaults ? 'enforce' : undefined,
    ),
    strict: Type.Boolean({
      ...d(false),
      description:
        'Mass-assignment guard: a body property that no schema declares is an error even where the schema leaves `additionalProperties` open, `readOnly` properties may not be sent, and a body sent to an operation that declares no `requestBody` is refused (415).',
    }),
    parameters: Type.Boolean({
      ...d(true),
      description: 'Check path, query, header and cookie parameters (style, explode, type, required).',
    }),
    requestBody: Type.Boolean({
      ...d(true),
      description:
        'Check the request body: declared content type (else 415), `required`, and JSON and form bodies against their schema.',
    }),
    maxDepth: Type.Integer({
      minimum: 1,
      maximum: 1000,
      ...d(64),
      description:
        'Deepest nesting of arrays and objects accepted in a JSON body or JSON parameter; deeper is 400.',
    }),
  };
}

export const ApiValidateConfig = Strict(fields('this API', true), {
  default: {},
  description: "Request validation against the OpenAPI document's parameters and request bodies.",
});

const op = fields('this operation', false);

export const OperationValidateConfig = Strict(
  {
    mode: Type.Optional(op.mode),
    strict: Type.Optional(op.strict),
    parameters: Type.Optional(op.parameters),
    requestBody: Type.Optional(op.requestBody),
    maxDepth: Type.Optional(op.maxDepth),
  },
  {
    description: "This operation's request validation; unset fields take the API's.",
  },
);

export type ApiValidateConfigT = Static<typeof ApiValidateConfig>;
export type OperationValidateConfigT = Static<typeof OperationValidateConfig>;
