import { Type } from '@sinclair/typebox';
import { Duration, Name, SecretRef, Strict, StringEnum } from '../../config/typedefs.ts';
import { STAGE_NAMES } from '../../core/pipeline-order.ts';

const Webhook = Strict(
  {
    name: Name('Name of the sink, in logs and stats.'),
    url: Type.String({
      pattern: '^https?://[^/?#\\s]+(/[^\\s#]*)?$',
      description:
        'Where batches are POSTed as `{"events":[…]}`. Plain `http://` only to a loopback address: events carry client IPs and principals.',
      'x-rampart-hint': 'an http:// or https:// URL',
    }),
    secret: Type.Optional(
      SecretRef(
        'Key for `x-rampart-signature: sha256=<HMAC-SHA-256 of the body, hex>`, so the receiver can check the sender.',
      ),
    ),
    batchSize: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 100,
      description: 'Most events per request.',
    }),
    flushInterval: Duration('Longest an event waits for its batch to fill.', '1s'),
    maxQueue: Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      default: 10_000,
      description:
        'Most events held while the receiver is slow or down; past it, new events are dropped and counted.',
    }),
    timeout: Duration('Time allowed for one delivery (headers and body of the answer).', '5s'),
    maxAttempts: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 8,
      description:
        'Attempts per batch (exponential backoff from 200 ms, at most 30 s apart) before it is dropped and counted.',
    }),
    stages: Type.Optional(
      Type.Array(StringEnum(STAGE_NAMES as unknown as readonly [string, ...string[]], 'A pipeline stage.'), {
        minItems: 1,
        description: 'Only the decisions of these stages. Default: all.',
      }),
    ),
  },
  { description: 'A webhook that receives security events in batches.' },
);

export const EventsConfig = Strict(
  {
    webhooks: Type.Array(Webhook, { default: [], description: 'Webhook sinks for security events.' }),
  },
  {
    default: {},
    description:
      'Security events: one per stage decision, to the access log (always) and to these sinks, never blocking requests.',
  },
);
