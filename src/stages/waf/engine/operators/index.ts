import type { Operator, OperatorEnv, OperatorFactory } from './types.ts';

export type { Operator, OperatorEnv, OperatorFactory, OperatorTx } from './types.ts';

const OPERATORS = new Map<string, OperatorFactory>();

/**
 * Builds the operator `name` (without '@') with `param`. Throws an Error with a clear message
 * on an unknown operator or a bad parameter; the engine turns it into a load error with
 * file:line. Negation (`!@`) is the engine's.
 */
export function createOperator(name: string, param: string, env: OperatorEnv): Operator {
  const factory = OPERATORS.get(name.toLowerCase());
  if (factory === undefined) throw new Error(`unknown operator @${name}`);
  return factory(param, env);
}
