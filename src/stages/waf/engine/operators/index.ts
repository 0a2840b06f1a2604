import { noMatch, unconditionalMatch } from './constant.ts';
import { detectSQLi, detectXSS } from './detect.ts';
import { ipMatch, ipMatchFromFile } from './ip-match.ts';
import { eq, ge, gt, le, lt } from './numeric.ts';
import { pm } from './pm.ts';
import { pmFromFile } from './pm-from-file.ts';
import { rx } from './rx.ts';
import { beginsWith, contains, containsWord, endsWith, streq, strmatch, within } from './strings.ts';
import type { Operator, OperatorEnv, OperatorFactory } from './types.ts';
import { validateByteRange } from './validate-byte-range.ts';
import { validateUrlEncoding, validateUtf8Encoding } from './validate-encoding.ts';

export type { Operator, OperatorEnv, OperatorFactory, OperatorTx } from './types.ts';

/** Keyed by the lowercased SecLang name (ModSecurity matches operator names case-insensitively). */
const OPERATORS = new Map<string, OperatorFactory>(
  Object.entries({
    beginswith: beginsWith,
    contains,
    containsword: containsWord,
    detectsqli: detectSQLi,
    detectxss: detectXSS,
    endswith: endsWith,
    eq,
    ge,
    gt,
    ipmatch: ipMatch,
    ipmatchf: ipMatchFromFile,
    ipmatchfromfile: ipMatchFromFile,
    le,
    lt,
    nomatch: noMatch,
    pm,
    pmf: pmFromFile,
    pmfromfile: pmFromFile,
    rx,
    streq,
    strmatch,
    unconditionalmatch: unconditionalMatch,
    validatebyterange: validateByteRange,
    validateurlencoding: validateUrlEncoding,
    validateutf8encoding: validateUtf8Encoding,
    within,
  }),
);

/**
 * Builds the operator `name` (without '@') with `param`. Throws an Error with a clear message
 * on an unknown operator or a bad parameter; the engine turns it into a load error with
 * file:line. Negation (`!@`) is the engine's.
 */
export function createOperator(name: string, param: string, env: OperatorEnv): Operator {
  const factory = OPERATORS.get(name.toLowerCase());
  if (factory === undefined) throw new Error(`unknown operator @${name}`);
  try {
    return factory(param, env);
  } catch (err) {
    const message = (err as Error).message;
    throw new Error(message.startsWith('@') ? message : `@${name}: ${message}`);
  }
}
