import { isIP } from 'node:net';
import type { Config } from '../../config/schema.ts';
import { resolveSecret } from '../../config/secrets.ts';
import { parseDuration } from '../../config/units.ts';
import type { YamlSource } from '../../config/yaml-source.ts';
import { configError } from '../../core/errors.ts';
import { reportDependencyError } from '../logger.ts';
import { EventBus } from './bus.ts';
import { WebhookSink } from './webhook.ts';

/** The config's event sinks as a bus, or null when there are none (the log stage then skips events). */
export function createEventBus(config: Config, source: YamlSource, dir: string): EventBus | null {
  const hooks = config.events.webhooks;
  if (hooks.length === 0) return null;
  const names = new Set<string>();
  const sinks = hooks.map((hook, i) => {
    const at = ['events', 'webhooks', i];
    if (names.has(hook.name)) {
      throw configError('RAMPART_ERR_CONFIG_SCHEMA', {
        location: source.locate([...at, 'name']),
        field: `events.webhooks[${i}].name`,
        message: `a webhook named "${hook.name}" is already defined`,
      });
    }
    names.add(hook.name);
    const url = new URL(hook.url);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const loopback = host === 'localhost' || (isIP(host) === 4 && host.startsWith('127.')) || host === '::1';
    if (url.protocol === 'http:' && !loopback) {
      throw configError('RAMPART_ERR_CONFIG_SCHEMA', {
        location: source.locate([...at, 'url']),
        field: `events.webhooks[${i}].url`,
        message:
          'plain http:// is allowed only to a loopback address: events carry client IPs and principals; use https://',
      });
    }
    const secret = hook.secret
      ? resolveSecret(
          hook.secret,
          dir,
          `events.webhooks[${i}].secret`,
          source.locate([...at, 'secret']),
        ).reveal()
      : undefined;
    return new WebhookSink({
      name: hook.name,
      url: hook.url,
      ...(secret !== undefined ? { secret } : {}),
      batchSize: hook.batchSize,
      flushIntervalMs: parseDuration(hook.flushInterval),
      maxQueue: hook.maxQueue,
      timeoutMs: parseDuration(hook.timeout),
      maxAttempts: hook.maxAttempts,
      ...(hook.stages ? { stages: new Set(hook.stages) } : {}),
      onTrouble: (what, fields) =>
        reportDependencyError(new Error(`${what} ${JSON.stringify(fields)}`), `events.webhooks.${hook.name}`),
    });
  });
  return new EventBus(sinks);
}
