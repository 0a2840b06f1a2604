import { compiledParam } from './macro-param.ts';
import type { Operator } from './types.ts';

type Test = (input: string, param: string) => boolean;

function stringOperator(test: Test): (param: string) => Operator {
  return (param) => {
    const value = compiledParam(param, (v) => v);
    return { match: (input, tx) => test(input, value(tx)) };
  };
}

/** `@streq`: the input equals the (expanded) parameter, byte for byte. */
export const streq = stringOperator((input, param) => input === param);
/** `@contains`: the parameter occurs in the input. */
export const contains = stringOperator((input, param) => input.includes(param));
/** `@beginsWith`. */
export const beginsWith = stringOperator((input, param) => input.startsWith(param));
/** `@endsWith`. */
export const endsWith = stringOperator((input, param) => input.endsWith(param));
/**
 * `@within`: the input occurs in the parameter — CRS's allow-lists (`!@within
 * %{tx.allowed_methods}`) are space-separated strings searched as one text, as ModSecurity does.
 */
export const within = stringOperator((input, param) => param.includes(input));
/** `@strmatch`: a case-sensitive substring match (ModSecurity's Boyer–Moore–Horspool). */
export const strmatch = stringOperator((input, param) => input.includes(param));

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/**
 * `@containsWord`: the parameter occurs with no ASCII letter right before or after it, as
 * ModSecurity v3 checks (digits and `_` count as boundaries there).
 */
export const containsWord = stringOperator((input, param) => {
  if (param.length === 0) return true;
  for (let pos = input.indexOf(param); pos !== -1; pos = input.indexOf(param, pos + 1)) {
    const before = pos === 0 || !isLetter(input.charCodeAt(pos - 1));
    const after = pos + param.length >= input.length || !isLetter(input.charCodeAt(pos + param.length));
    if (before && after) return true;
  }
  return false;
});
