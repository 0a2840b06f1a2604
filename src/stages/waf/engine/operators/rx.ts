import { compileByteRegex } from '../regex.ts';
import { compiledParam } from './macro-param.ts';
import type { Operator } from './types.ts';

/**
 * `@rx`: the regex (RE2 syntax, compiled by regex.ts for byte strings) matches anywhere in
 * the input. With the rule's `capture`, groups 0..9 go to TX:0..9 (unmatched groups empty).
 */
export function rx(param: string): Operator {
  const regex = compiledParam(param, compileByteRegex);
  return {
    match(input, tx) {
      const re = regex(tx);
      if (!tx.capture) return re.test(input);
      const m = re.exec(input);
      if (m === null) return false;
      const captures: string[] = [];
      for (let k = 0; k < m.length && k < 10; k++) captures.push(m[k] ?? '');
      tx.setCaptures(captures);
      return true;
    },
  };
}
