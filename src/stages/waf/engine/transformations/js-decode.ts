import { ByteWriter, isHex, isOctal, x2c } from './bytes.ts';

const SIMPLE: Record<string, number> = { a: 0x07, b: 0x08, f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09, v: 0x0b };

/**
 * `t:jsDecode`: JavaScript escapes as ModSecurity's `js_decode_nonstrict_inplace` decodes
 * them — `\uHHHH` (low byte only, full-width ASCII mapped to ASCII, as `t:urlDecodeUni`),
 * `\xHH`, octal `\OOO` (at most one byte: a 3-digit form over \377 uses 2 digits), `\a \b \f
 * \n \r \t \v`, and any other `\C` as `C`. The output stays bytes.
 */
export function jsDecode(input: string): string {
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
    const e = input.charCodeAt(i + 1);
    if (i + 5 < n && e === 0x75 && [2, 3, 4, 5].every((k) => isHex(input.charCodeAt(i + k)))) {
      let b = x2c(input, i + 4);
      const fullWidth =
        (input.charCodeAt(i + 2) | 0x20) === 0x66 && (input.charCodeAt(i + 3) | 0x20) === 0x66;
      if (fullWidth && b > 0x00 && b < 0x5f) b += 0x20;
      out.push(b);
      i += 6;
    } else if (i + 3 < n && e === 0x78 && isHex(input.charCodeAt(i + 2)) && isHex(input.charCodeAt(i + 3))) {
      out.push(x2c(input, i + 2));
      i += 4;
    } else if (i + 1 < n && isOctal(e)) {
      let j = 1;
      while (j < 3 && i + 1 + j < n && isOctal(input.charCodeAt(i + 1 + j))) j++;
      if (j === 3 && e > 0x33) j = 2;
      out.push(Number.parseInt(input.slice(i + 1, i + 1 + j), 8) & 0xff);
      i += 1 + j;
    } else if (i + 1 < n) {
      out.push(SIMPLE[input[i + 1] as string] ?? e);
      i += 2;
    } else {
      out.push(c);
      i++;
    }
  }
  return out.toString();
}
