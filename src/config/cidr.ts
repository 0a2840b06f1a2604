import { configError } from '../core/errors.ts';
import { CidrSet } from '../stages/client/engine/ip.ts';
import { fieldPath } from './validate.ts';
import type { YamlSource } from './yaml-source.ts';

/** A config list of CIDR blocks as a set; an entry that does not parse stops the load, located. */
export function compileCidrs(list: readonly string[], source: YamlSource, at: (string | number)[]): CidrSet {
  try {
    return new CidrSet(list);
  } catch (err) {
    const index = (err as { index?: number }).index ?? 0;
    throw configError('RAMPART_ERR_CONFIG_CIDR', {
      location: source.locate([...at, index]),
      field: fieldPath([...at, index]),
      message: (err as Error).message,
    });
  }
}
