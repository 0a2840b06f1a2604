import { isSpace } from './bytes.ts';

/** `t:removeWhitespace`: drops C-locale whitespace and NBSP (0xA0), as ModSecurity does. */
export function removeWhitespace(input: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (isSpace(c) || c === 0xa0) {
      out += input.slice(from, i);
      from = i + 1;
    }
  }
  return from === 0 ? input : out + input.slice(from);
}
