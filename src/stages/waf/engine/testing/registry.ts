/**
 * Unit-test registry: a handful of exact operators and transformations with known behaviour,
 * so the engine's own tests do not depend on the full operator library.
 */
import type { Operator, OperatorEnv, OperatorTx } from '../operators/index.ts';
import type { Registry } from '../rule.ts';

export interface CountingRegistry extends Registry {
  /** Calls of each transformation, to observe the per-transaction cache. */
  readonly calls: Map<string, number>;
}

export function testRegistry(): CountingRegistry {
  const calls = new Map<string, number>();
  const counted = (name: string, f: (s: string) => string) => (s: string) => {
    calls.set(name, (calls.get(name) ?? 0) + 1);
    return f(s);
  };
  const transformations: Record<string, (s: string) => string> = {
    lowercase: counted('lowercase', (s) => s.toLowerCase()),
    trim: counted('trim', (s) => s.trim()),
    removewhitespace: counted('removewhitespace', (s) => s.replace(/\s+/g, '')),
  };
  const num = (f: (a: number, b: number) => boolean) => (p: string) => ({
    match: (i: string, tx: OperatorTx) => f(Number(i) || 0, Number(tx.expand(p)) || 0),
  });
  const ops: Record<string, (p: string, env: OperatorEnv) => Operator> = {
    rx: (p) => {
      const re = new RegExp(p, 's');
      return {
        match(i, tx) {
          const m = re.exec(i);
          if (m !== null && tx.capture) tx.setCaptures(m.map((x) => x ?? ''));
          return m !== null;
        },
      };
    },
    streq: (p) => ({ match: (i, tx) => i === tx.expand(p) }),
    eq: num((a, b) => a === b),
    gt: num((a, b) => a > b),
    ge: num((a, b) => a >= b),
    lt: num((a, b) => a < b),
    unconditionalmatch: () => ({ match: () => true }),
  };
  return {
    calls,
    createOperator(name, param, env) {
      const f = ops[name];
      if (f === undefined) throw new Error(`unknown operator @${name}`);
      return f(param, env);
    },
    getTransformation: (name) => transformations[name.toLowerCase()],
  };
}
