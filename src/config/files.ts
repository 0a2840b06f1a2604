import { readFileSync } from 'node:fs';
import { configError } from '../core/errors.ts';
import { fieldPath } from './validate.ts';
import type { YamlSource } from './yaml-source.ts';

/** Read a file the config references (certificates, CA bundles), naming the field on failure. */
export function readReferenced(path: string, source: YamlSource, at: (string | number)[]): Buffer {
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
