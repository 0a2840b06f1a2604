import { CidrSet, canonicalIp } from '../../../client/engine/ip.ts';
import { dataFileLines } from './data-file.ts';
import type { Operator, OperatorEnv } from './types.ts';

function cidrOperator(entries: string[], what: string): Operator {
  if (entries.length === 0) throw new Error(`${what}: no addresses`);
  let set: CidrSet;
  try {
    set = new CidrSet(entries);
  } catch (err) {
    // Fail closed: an allow or deny list with an entry we cannot read is not half-applied.
    throw new Error(`${what}: ${(err as Error).message}`);
  }
  return { match: (input) => set.has(canonicalIp(input.trim())) };
}

/** `@ipMatch`: the input address is in one of the comma-separated IPv4/IPv6 CIDR blocks. */
export function ipMatch(param: string): Operator {
  const entries = param
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  return cidrOperator(entries, '@ipMatch');
}

/** `@ipMatchFromFile` (alias `@ipMatchF`): one address or CIDR block per line of the files. */
export function ipMatchFromFile(param: string, env: OperatorEnv): Operator {
  return cidrOperator(
    dataFileLines(param, env, '@ipMatchFromFile').map((l) => l.trim()),
    '@ipMatchFromFile',
  );
}
