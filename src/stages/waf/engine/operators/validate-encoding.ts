import { Buffer, isUtf8 } from 'node:buffer';
import type { Operator } from './types.ts';

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * `@validateUrlEncoding`: matches when a `%` is not followed by two hex digits (a truncated or
 * non-hex escape, which back ends decode inconsistently).
 */
export function validateUrlEncoding(): Operator {
  return {
    match(input) {
      for (let i = input.indexOf('%'); i !== -1; i = input.indexOf('%', i + 1)) {
        if (i + 2 >= input.length) return true;
        if (!isHex(input.charCodeAt(i + 1)) || !isHex(input.charCodeAt(i + 2))) return true;
        i += 2;
      }
      return false;
    },
  };
}

/**
 * `@validateUtf8Encoding`: matches when the bytes are not valid UTF-8 (RFC 3629): truncated or
 * bad continuation bytes, overlong forms (the `%c0%af` path-traversal evasion), surrogates,
 * or code points above U+10FFFF.
 */
export function validateUtf8Encoding(): Operator {
  return {
    match(input) {
      if (!/[\x80-\xff]/.test(input)) return false;
      return !isUtf8(Buffer.from(input, 'latin1'));
    },
  };
}
