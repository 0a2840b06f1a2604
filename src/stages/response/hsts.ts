import type { Static } from '@sinclair/typebox';
import { parseDuration } from '../../config/units.ts';
import { fieldPath } from '../../config/validate.ts';
import type { YamlSource } from '../../config/yaml-source.ts';
import { configError } from '../../core/errors.ts';
import type { HstsConfig, HstsOverride } from './schema.ts';

export type HstsConfigT = Static<typeof HstsConfig>;
export type HstsOverrideT = Static<typeof HstsOverride>;

/** hstspreload.org's minimum: a year. */
const PRELOAD_MIN_SECONDS = 31_536_000;

/**
 * The `Strict-Transport-Security` value (RFC 6797 §6.1) of a scope, or null when it is off.
 * Preload without its requirements is a load error: the preload list refuses such hosts, and
 * an operator who asked for it must not believe it is in place.
 */
export function hstsHeader(
  server: HstsConfigT,
  override: HstsOverrideT | undefined,
  source: YamlSource,
  at: readonly (string | number)[],
): string | null {
  const h = { ...server, ...stripUndefined(override ?? {}) };
  if (!h.enabled) return null;
  const seconds = Math.floor(parseDuration(h.maxAge) / 1000);
  if (h.preload && (!h.includeSubDomains || seconds < PRELOAD_MIN_SECONDS)) {
    const where = [...at, 'preload'];
    throw configError('RAMPART_ERR_CONFIG_SCHEMA', {
      // The nearest field written (locate falls back to the enclosing one).
      location: source.locate(where),
      field: fieldPath(where),
      message:
        'needs includeSubDomains: true and a maxAge of at least 8760h (the preload list refuses anything less)',
    });
  }
  return `max-age=${seconds}${h.includeSubDomains ? '; includeSubDomains' : ''}${h.preload ? '; preload' : ''}`;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
