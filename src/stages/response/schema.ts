import { Type } from '@sinclair/typebox';
import { Duration, Strict } from '../../config/typedefs.ts';
import { HeaderRules } from '../transform/schema.ts';
import { OperationResponseFilterConfig } from './filter/schema.ts';

/**
 * HSTS (RFC 6797) and response header rules. HSTS is a property of a host over HTTPS, so it is
 * set gateway-wide (`server.hsts`, also for replies made before an API is matched) and may be
 * tuned per API; never per operation, since a browser applies it to the whole host.
 */

const hstsFields = (defaults: boolean) => ({
  enabled: defaults
    ? Type.Boolean({ default: true, description: 'Send `Strict-Transport-Security` on HTTPS responses.' })
    : Type.Optional(Type.Boolean({ description: 'Send `Strict-Transport-Security` on HTTPS responses.' })),
  maxAge: defaults
    ? Duration('How long browsers must use HTTPS only for the host (`max-age`).', '8760h')
    : Type.Optional(Duration('How long browsers must use HTTPS only for the host (`max-age`).')),
  includeSubDomains: defaults
    ? Type.Boolean({ default: false, description: 'Apply to every subdomain too (`includeSubDomains`).' })
    : Type.Optional(Type.Boolean({ description: 'Apply to every subdomain too (`includeSubDomains`).' })),
  preload: defaults
    ? Type.Boolean({
        default: false,
        description:
          "Ask for the browsers' preload list (`preload`); needs `includeSubDomains` and a `maxAge` of at least 8760h.",
      })
    : Type.Optional(Type.Boolean({ description: "Ask for the browsers' preload list (`preload`)." })),
});

export const HstsConfig = Strict(hstsFields(true), {
  default: {},
  description:
    '`Strict-Transport-Security` on responses to HTTPS requests (a TLS listener, or a trusted proxy that says `X-Forwarded-Proto: https`); never on plain HTTP (RFC 6797 §7.2).',
});

export const HstsOverride = Strict(hstsFields(false), {
  description: "This API's HSTS, field by field over `server.hsts`.",
});

export const OperationResponseConfig = Strict(
  { headers: Type.Optional(HeaderRules), filter: Type.Optional(OperationResponseFilterConfig) },
  { description: "How this operation's responses are treated (after the API's `response`)." },
);

export { HeaderRules };
