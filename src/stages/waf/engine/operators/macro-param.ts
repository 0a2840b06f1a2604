import type { OperatorTx } from './types.ts';

/** Expanded values kept per operator; a bounded map, so hostile macro values cannot grow memory. */
const MAX_CACHED = 64;

export function hasMacro(param: string): boolean {
  return /%\{[^}]+\}/.test(param);
}

/**
 * The operator parameter, compiled: once in createOperator when it has no macro, else per
 * expanded value (`%{tx.allowed_methods}`), cached per value, at most MAX_CACHED values.
 * A compile error of an expanded value throws at match time: the engine denies the request.
 */
export function compiledParam<T>(param: string, compile: (value: string) => T): (tx: OperatorTx) => T {
  if (!hasMacro(param)) {
    const value = compile(param);
    return () => value;
  }
  const cache = new Map<string, T>();
  return (tx) => {
    const expanded = tx.expand(param);
    let value = cache.get(expanded);
    if (value === undefined) {
      value = compile(expanded);
      if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
      cache.set(expanded, value);
    }
    return value;
  };
}
