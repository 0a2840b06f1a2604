import type { Operator } from './types.ts';

/** `@unconditionalMatch`: always matches (CRS uses it to run actions on every request). */
export function unconditionalMatch(): Operator {
  return { match: () => true };
}

/** `@noMatch`: never matches. */
export function noMatch(): Operator {
  return { match: () => false };
}
