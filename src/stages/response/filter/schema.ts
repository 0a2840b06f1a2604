import { Type } from '@sinclair/typebox';
import { Size, Strict, StringEnum } from '../../../config/typedefs.ts';

const fields = {
  mode: StringEnum(
    ['off', 'filter'] as const,
    '`filter`: JSON response bodies lose every property their OpenAPI response schema does not declare, and `x-rampart-sensitive` properties are masked (excessive data exposure, OWASP API3). `off`: bodies are streamed as the upstream sent them.',
    'off',
  ),
  maxBodySize: Size('Largest response body buffered to be filtered; past it, `oversize` applies.', '1mb'),
  oversize: StringEnum(
    ['reject', 'passthrough'] as const,
    '`reject`: a body too large to filter becomes a 502 (fail closed). `passthrough`: it is sent unfiltered, and the access log records `response_unfiltered`.',
    'reject',
  ),
};

export const ApiResponseFilterConfig = Strict(fields, {
  default: {},
  description: 'Response filtering for every operation of the API (each may override it).',
});

export const OperationResponseFilterConfig = Strict(
  {
    mode: Type.Optional(fields.mode),
    maxBodySize: Type.Optional(fields.maxBodySize),
    oversize: Type.Optional(fields.oversize),
  },
  { description: "Response filtering of this operation, over the API's." },
);
