/**
 * `t:utf8toUnicode`, as ModSecurity's `Utf8ToUnicode`: every valid multi-byte UTF-8 sequence
 * becomes `%uhhhh` (lowercase hex, at least 4 digits), so rules written for `%u` escapes also
 * see raw UTF-8 (e.g. full-width `＜` U+FF1C → `%uff1c`). ASCII stays as it is. As there:
 * a lead byte with missing or bad continuation bytes is dropped, a byte that cannot start a
 * sequence is copied, NUL bytes are dropped, and an overlong or surrogate sequence is written
 * as its `%u` form followed by its lead byte. The output is ASCII apart from copied bytes.
 */
export function utf8toUnicode(input: string): string {
  if (!/[\x80-\xff]/.test(input) && !input.includes('\x00')) return input;
  let out = '';
  const n = input.length;
  let i = 0;
  while (i < n) {
    const c = input.charCodeAt(i);
    if ((c & 0x80) === 0) {
      if (c !== 0) out += input[i];
      i++;
      continue;
    }
    const len = (c & 0xe0) === 0xc0 ? 2 : (c & 0xf0) === 0xe0 ? 3 : (c & 0xf8) === 0xf0 ? 4 : 0;
    if (len === 0) {
      out += input[i];
      i++;
      continue;
    }
    let valid = i + len <= n;
    for (let k = 1; valid && k < len; k++) valid = (input.charCodeAt(i + k) & 0xc0) === 0x80;
    if (!valid) {
      i++;
      continue;
    }
    let d = c & (len === 2 ? 0x1f : len === 3 ? 0x0f : 0x07);
    for (let k = 1; k < len; k++) d = (d << 6) | (input.charCodeAt(i + k) & 0x3f);
    out += `%u${d.toString(16).padStart(4, '0')}`;
    const overlong = (len === 2 && d < 0x80) || (len === 3 && d < 0x800) || (len === 4 && d < 0x10000);
    if (d >= 0xd800 && d <= 0xdfff) out += input[i];
    if (overlong) out += input[i];
    i += len;
  }
  return out;
}
