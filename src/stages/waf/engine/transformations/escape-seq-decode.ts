import { ByteWriter, isHex, isOctal, x2c } from './bytes.ts';

const SIMPLE: Record<string, number> = {
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  v: 0x0b,
  '\\': 0x5c,
  '?': 0x3f,
  "'": 0x27,
  '"': 0x22,
};

/**
 * `t:escapeSeqDecode`: ANSI C escapes (C11 §6.4.4.4), as ModSecurity's
 * `ansi_c_sequences_decode_inplace`: `\a \b \f \n \r \t \v \\ \? \' \"`, `\xHH` (exactly two
 * digits), octal `\O`–`\OOO` (low byte); an unknown escape `\q` leaves `q`, a bad `\x` leaves
 * `x`, and a trailing `\` stays.
 */
export function escapeSeqDecode(input: string): string {
  if (input.indexOf('\\') === -1) return input;
  const out = new ByteWriter();
  const n = input.length;
  let i = 0;
  while (i < n) {
    const c = input.charCodeAt(i);
    if (c !== 0x5c || i + 1 >= n) {
      out.push(c);
      i++;
      continue;
    }
    const e = input.charCodeAt(i + 1);
    const simple = SIMPLE[input[i + 1] as string];
    if (simple !== undefined) {
      out.push(simple);
      i += 2;
    } else if (
      (e === 0x78 || e === 0x58) &&
      i + 3 < n &&
      isHex(input.charCodeAt(i + 2)) &&
      isHex(input.charCodeAt(i + 3))
    ) {
      out.push(x2c(input, i + 2));
      i += 4;
    } else if (isOctal(e)) {
      let j = 1;
      while (j < 3 && i + 1 + j < n && isOctal(input.charCodeAt(i + 1 + j))) j++;
      out.push(Number.parseInt(input.slice(i + 1, i + 1 + j), 8) & 0xff);
      i += 1 + j;
    } else {
      out.push(e);
      i += 2;
    }
  }
  return out.toString();
}
