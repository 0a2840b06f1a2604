/**
 * `t:urlEncode`, as ModSecurity's `url_encode`: space → `+`; `*` and ASCII letters and digits
 * stay; every other byte → `%hh` (lowercase hex).
 */
export function urlEncode(input: string): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c === 0x20) out += '+';
    else if (c === 0x2a || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) {
      out += input[i];
    } else out += `%${c.toString(16).padStart(2, '0')}`;
  }
  return out;
}
