import { ByteWriter, isHex, isSpace, x2c, xsingle2c } from './bytes.ts';

/**
 * `t:cssDecode` (CSS 2.1 §4.1.3 escapes), as ModSecurity's `css_decode_inplace`: `\` + 1–6 hex
 * digits is one byte — the last two digits, with full-width ASCII (`\ff1c`, `\00ff1c`) mapped
 * to ASCII — and one whitespace after it is eaten; `\` + newline is a line continuation
 * (removed); `\` + any other byte is that byte; a trailing `\` is dropped.
 */
export function cssDecode(input: string): string {
  if (input.indexOf('\\') === -1) return input;
  const out = new ByteWriter();
  const n = input.length;
  let i = 0;
  while (i < n) {
    const c = input.charCodeAt(i);
    if (c !== 0x5c) {
      out.push(c);
      i++;
      continue;
    }
    if (i + 1 >= n) break; // a trailing backslash is dropped
    i++;
    let j = 0;
    while (j < 6 && i + j < n && isHex(input.charCodeAt(i + j))) j++;
    if (j === 0) {
      if (input.charCodeAt(i) !== 0x0a) out.push(input.charCodeAt(i));
      i++;
      continue;
    }
    let b = j === 1 ? xsingle2c(input, i) : x2c(input, i + j - 2);
    const fullCheck =
      j === 4 || (j === 5 && input[i] === '0') || (j === 6 && input[i] === '0' && input[i + 1] === '0');
    if (fullCheck && b > 0x00 && b < 0x5f) {
      const f1 = input.charCodeAt(i + j - 3) | 0x20;
      const f2 = input.charCodeAt(i + j - 4) | 0x20;
      if (f1 === 0x66 && f2 === 0x66) b += 0x20;
    }
    out.push(b);
    if (i + j < n && isSpace(input.charCodeAt(i + j))) j++;
    i += j;
  }
  return out.toString();
}
