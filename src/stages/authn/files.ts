import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fieldPath } from '../../config/validate.ts';
import type { YamlSource } from '../../config/yaml-source.ts';
import { configError } from '../../core/errors.ts';

/** Read a PEM file a scheme references (relative to the config), naming the field on failure. */
export function readCa(file: string, dir: string, source: YamlSource, at: (string | number)[]): Buffer {
  const path = resolve(dir, file);
  try {
    return readFileSync(path);
  } catch (err) {
    throw configError('RAMPART_ERR_CONFIG_FILE', {
      location: source.locate(at),
      field: fieldPath(at),
      message: `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    });
  }
}
