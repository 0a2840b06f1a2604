import { AhoCorasick } from './aho-corasick.ts';
import type { Operator } from './types.ts';

/**
 * Splits a `@pm` parameter into phrases as ModSecurity does: on whitespace, with `|hex|`
 * segments (Snort content syntax, e.g. `|3C 73|`) decoded to bytes first.
 */
export function pmPhrases(param: string): string[] {
  let text = '';
  const parts = param.split('|');
  if (parts.length % 2 === 0) throw new Error('@pm: unterminated |hex| segment');
  parts.forEach((part, k) => {
    if (k % 2 === 0) {
      text += part;
      return;
    }
    const hex = part.replace(/\s+/g, '');
    if (!/^(?:[0-9A-Fa-f]{2})*$/.test(hex)) throw new Error(`@pm: bad hex segment |${part}|`);
    text += Buffer.from(hex, 'hex').toString('latin1');
  });
  return text.split(/[\t\n\v\f\r ]+/).filter((p) => p.length > 0);
}

/** A phrase-set matcher; with `capture`, TX:0 is the phrase found. */
export function phraseOperator(phrases: readonly string[], what: string): Operator {
  if (phrases.length === 0) throw new Error(`${what}: no phrases`);
  const ac = new AhoCorasick(phrases);
  return {
    match(input, tx) {
      const found = ac.find(input);
      if (found === undefined) return false;
      if (tx.capture) tx.setCaptures([found]);
      return true;
    },
  };
}

/** `@pm`: any of the space-separated phrases occurs in the input (ASCII case-insensitive). */
export function pm(param: string): Operator {
  return phraseOperator(pmPhrases(param), '@pm');
}
