import { detectSQLi as sqli } from '../detectors/sqli/index.ts';
import { detectXSS as xss } from '../detectors/xss/index.ts';
import type { Operator } from './types.ts';

function noParam(name: string, param: string): void {
  if (param.trim() !== '') throw new Error(`@${name} takes no parameter`);
}

/** `@detectSQLi`: the SQL injection detector; with `capture`, TX:0 is the fingerprint. */
export function detectSQLi(param: string): Operator {
  noParam('detectSQLi', param);
  return {
    match(input, tx) {
      const verdict = sqli(input);
      if (verdict.match && tx.capture) tx.setCaptures([verdict.fingerprint ?? '']);
      return verdict.match;
    },
  };
}

/** `@detectXSS`: the cross-site scripting detector. */
export function detectXSS(param: string): Operator {
  noParam('detectXSS', param);
  return { match: (input) => xss(input) };
}
