import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { inspect } from 'node:util';
import { configError, type SourceLocation } from '../core/errors.ts';

/**
 * A resolved secret. It cannot be logged or serialized by accident: every string form is
 * `[secret]`; only `reveal()` gives the value, at the one place that needs it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[secret]';
  }

  toJSON(): string {
    return '[secret]';
  }

  [inspect.custom](): string {
    return 'Secret([secret])';
  }
}

/**
 * Resolve `env:NAME` or `file:PATH` (relative to the config's folder) at load. Errors name the
 * reference and the field, never the value.
 */
export function resolveSecret(ref: string, baseDir: string, field: string, location: SourceLocation): Secret {
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    const value = process.env[name];
    if (value === undefined || value === '') {
      throw configError('RAMPART_ERR_CONFIG_SECRET', {
        location,
        field,
        message: `environment variable ${name} is not set or empty`,
      });
    }
    return new Secret(value);
  }
  if (ref.startsWith('file:')) {
    const path = resolve(baseDir, ref.slice(5));
    try {
      // One trailing newline is what editors and `kubectl create secret` add; it is not part of the secret.
      return new Secret(readFileSync(path, 'utf8').replace(/\r?\n$/, ''));
    } catch (err) {
      throw configError('RAMPART_ERR_CONFIG_SECRET', {
        location,
        field,
        message: `cannot read secret file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      });
    }
  }
  throw configError('RAMPART_ERR_CONFIG_SECRET', {
    location,
    field,
    message: 'a secret must be a reference: env:NAME or file:PATH',
  });
}
