import { compiledParam } from './macro-param.ts';
import type { Operator } from './types.ts';

const INT_MAX = 2147483647;
const INT_MIN = -2147483648;

/**
 * C++ `std::stoi`, as ModSecurity v3 reads both sides of `@eq`/`@gt`/...: leading whitespace,
 * an optional sign, then digits up to the first non-digit (`"12abc"` is 12). No digits, or a
 * value outside a 32-bit int (stoi throws), is 0 there too.
 */
export function parseInteger(text: string): number {
  const m = /^[\t\n\v\f\r ]*([+-]?\d+)/.exec(text);
  if (m === null) return 0;
  const v = Number(m[1]);
  return v > INT_MAX || v < INT_MIN ? 0 : v;
}

type Compare = (input: number, param: number) => boolean;

function numeric(compare: Compare): (param: string) => Operator {
  return (param) => {
    const value = compiledParam(param, parseInteger);
    return { match: (input, tx) => compare(parseInteger(input), value(tx)) };
  };
}

/** `@eq`, `@ge`, `@gt`, `@le`, `@lt`: integer comparisons of the input with the parameter. */
export const eq = numeric((a, b) => a === b);
export const ge = numeric((a, b) => a >= b);
export const gt = numeric((a, b) => a > b);
export const le = numeric((a, b) => a <= b);
export const lt = numeric((a, b) => a < b);
