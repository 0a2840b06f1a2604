import { isSpace } from './bytes.ts';

/** `t:compressWhitespace`: each run of C-locale whitespace or NBSP (0xA0) becomes one space. */
export function compressWhitespace(input: string): string {
  let out = '';
  let inSpace = false;
  let from = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (isSpace(c) || c === 0xa0) {
      if (!inSpace) out += `${input.slice(from, i)} `;
      inSpace = true;
      from = i + 1;
    } else {
      inSpace = false;
    }
  }
  return from === 0 ? input : out + input.slice(from);
}
