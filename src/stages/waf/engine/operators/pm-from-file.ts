import { dataFileLines } from './data-file.ts';
import { phraseOperator } from './pm.ts';
import type { Operator, OperatorEnv } from './types.ts';

/** `@pmFromFile` (alias `@pmf`): `@pm` with one phrase per line of the named data files. */
export function pmFromFile(param: string, env: OperatorEnv): Operator {
  return phraseOperator(dataFileLines(param, env, '@pmFromFile'), '@pmFromFile');
}
