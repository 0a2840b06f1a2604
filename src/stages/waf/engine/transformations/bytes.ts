/**
 * Byte-level helpers shared by the transformations. They use the C locale's definitions,
 * as ModSecurity does (`isspace`, `isxdigit`), never Unicode's: inputs are byte strings.
 */

/** C `isspace`: space, \t, \n, \v, \f, \r. */
export function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

export function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

export function isOctal(c: number): boolean {
  return c >= 0x30 && c <= 0x37;
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

export function isAlnum(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function nibble(c: number): number {
  // ModSecurity's x2c arithmetic, defined for every byte (not only hex digits), mod 256.
  return c >= 0x41 ? ((c & 0xdf) - 0x41 + 10) & 0xff : (c - 0x30) & 0xff;
}

/** ModSecurity `x2c`: the byte of two hex digits at `i` (garbage-in, garbage-out as there). */
export function x2c(s: string, i: number): number {
  return (nibble(s.charCodeAt(i)) * 16 + nibble(s.charCodeAt(i + 1))) & 0xff;
}

/** ModSecurity `xsingle2c`: the value of one hex digit. */
export function xsingle2c(s: string, i: number): number {
  return nibble(s.charCodeAt(i)) & 0x0f;
}

/**
 * Collects output bytes in chunks: String.fromCharCode over a number[] is the fastest way to
 * build a byte string in V8, but it takes at most ~64k arguments at once.
 */
export class ByteWriter {
  private readonly parts: string[] = [];
  private buf: number[] = [];

  push(b: number): void {
    this.buf.push(b);
    if (this.buf.length === 8192) this.flush();
  }

  private flush(): void {
    if (this.buf.length === 0) return;
    this.parts.push(String.fromCharCode(...this.buf));
    this.buf = [];
  }

  toString(): string {
    this.flush();
    return this.parts.join('');
  }
}
