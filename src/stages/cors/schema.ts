import { Type } from '@sinclair/typebox';
import { Duration, Mode, Strict } from '../../config/typedefs.ts';

/**
 * Config of the `cors` stage, per API. Origins are checked by the origin engine at load (with
 * file, line and field), not by a pattern here: the reason a value is refused (a path, a
 * misplaced wildcard, `null`) is worth more than "does not match".
 */

const TOKEN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

const HeaderName = Type.String({
  pattern: TOKEN,
  'x-rampart-hint': "a header name (letters, digits and !#$%&'*+.^_`|~-)",
});

export const CorsConfig = Strict(
  {
    allowOrigins: Type.Array(
      Type.String({
        minLength: 1,
        description:
          'An exact origin (`https://app.example.com`, `http://localhost:3000`), `*`, or one wildcard label (`https://*.example.com`; scheme and port exact). Never `null`, never a regular expression.',
      }),
      { minItems: 1, description: 'Origins allowed to call the API from a browser.' },
    ),
    allowMethods: Type.Optional(
      Type.Array(Type.String({ pattern: '^[A-Z]+$', 'x-rampart-hint': 'an upper-case HTTP method' }), {
        minItems: 1,
        uniqueItems: true,
        description:
          'Methods a preflight may allow. Unset: the methods the OpenAPI document declares on the requested path. Set: only these, and only where the path declares them (it narrows, it cannot open an undeclared method).',
      }),
    ),
    allowHeaders: Type.Optional(
      Type.Array(HeaderName, {
        uniqueItems: true,
        description:
          "Request headers a preflight may allow. Unset: the path's header parameters, the header names of its security schemes (`Authorization`, API-key headers, SigV4's `X-Amz-*`), and `Content-Type` where an operation has a request body.",
      }),
    ),
    exposeHeaders: Type.Optional(
      Type.Array(HeaderName, {
        uniqueItems: true,
        description:
          "Response headers browser code may read beyond the CORS-safelisted ones. Unset: the response headers the path's operations declare.",
      }),
    ),
    allowCredentials: Type.Boolean({
      default: false,
      description:
        'Let browsers send cookies and HTTP authentication, and read the response (`Access-Control-Allow-Credentials: true`). Refused together with `*`.',
    }),
    maxAge: Duration(
      'How long browsers may cache a preflight answer (`Access-Control-Max-Age`); at most 24h (Chromium caps it at 2h).',
      '10m',
    ),
    mode: Mode(
      '`shadow`: refused preflights are recorded but the gateway neither answers preflights nor adds or strips CORS headers (the upstream keeps doing CORS) — to rehearse a policy.',
    ),
  },
  {
    description:
      'Cross-origin resource sharing for browsers: preflights answered by the gateway from this policy and the OpenAPI document, CORS headers on responses. Unset: no CORS (browsers refuse cross-origin reads; preflights to undeclared OPTIONS get 405).',
  },
);
