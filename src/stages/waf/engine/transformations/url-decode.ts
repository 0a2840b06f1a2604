import { ByteWriter, isHex, x2c } from './bytes.ts';

/**
 * `t:urlDecode`: `%hh` to the byte and `+` to a space; a `%` not followed by two hex digits
 * stays literally (ModSecurity's non-strict `urldecode_nonstrict_inplace`).
 */
export function urlDecode(input: string): string {
  if (input.indexOf('%') === -1 && input.indexOf('+') === -1) return input;
  const out = new ByteWriter();
  const n = input.length;
  for (let i = 0; i < n; ) {
    const c = input.charCodeAt(i);
    if (c === 0x25 && i + 2 < n && isHex(input.charCodeAt(i + 1)) && isHex(input.charCodeAt(i + 2))) {
      out.push(x2c(input, i + 1));
      i += 3;
    } else {
      out.push(c === 0x2b ? 0x20 : c);
      i++;
    }
  }
  return out.toString();
}
