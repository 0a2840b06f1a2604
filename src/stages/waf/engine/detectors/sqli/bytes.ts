/** Byte classes and the string and space scans shared by the SQLi lexer's parts. */

export function isSpace(c: number): boolean {
  return c <= 0x20 || c === 0xa0;
}

/**
 * Word bytes: letters, `_`, `$`, bytes ≥ 0x80 (identifiers in MySQL), and `\`, which is no SQL
 * operator — `'\r\n'` in a value is an escape sequence, not arithmetic.
 */
export function isWordStart(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    c === 0x5f ||
    c === 0x24 ||
    c === 0x5c ||
    (c >= 0x80 && c !== 0xa0)
  );
}

/** `:` too: `:name` binds a parameter, `a::text` casts; neither is arithmetic. */
export function isWordChar(c: number): boolean {
  return isWordStart(c) || (c >= 0x30 && c <= 0x3a);
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

export function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/**
 * The offset just past the quote that closes a string whose body starts at `i`, or -1 when
 * the value ends first (the string is left open — the application's own quote closes it).
 */
export function scanString(s: string, i: number, quote: number, backslash: boolean): number {
  const q = quote === 0x27 ? "'" : quote === 0x22 ? '"' : '`';
  for (;;) {
    // indexOf finds the next quote far faster than a byte loop; escapes are checked after.
    const at = s.indexOf(q, i);
    if (at < 0) return -1;
    if (backslash) {
      let k = at - 1;
      while (k >= i && s.charCodeAt(k) === 0x5c) k--;
      if ((at - 1 - k) % 2 === 1) {
        i = at + 1;
        continue;
      }
    }
    if (s.charCodeAt(at + 1) !== quote) return at + 1;
    i = at + 2;
  }
}

/** Skips whitespace and block comments (not line comments): for look-ahead only. */
export function skipSpace(s: string, i: number, end: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (isSpace(c)) i++;
    else if (c === 0x2f && s.charCodeAt(i + 1) === 0x2a) {
      const close = s.indexOf('*/', i + 2);
      if (close < 0) return end;
      i = close + 2;
    } else break;
  }
  return i;
}
