import type { Operator } from './types.ts';

/**
 * `@validateByteRange 9,10,13,32-126`: matches when the input holds a byte outside the listed
 * values and ranges (0–255). A malformed list is a load error.
 */
export function validateByteRange(param: string): Operator {
  const allowed = new Uint8Array(256);
  const items = param.split(',').map((s) => s.trim());
  for (const item of items) {
    const m = /^(\d{1,3})(?:\s*-\s*(\d{1,3}))?$/.exec(item);
    if (m === null) throw new Error(`@validateByteRange: "${item}" is not a byte or a range`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo > 255 || hi > 255 || hi < lo) throw new Error(`@validateByteRange: bad range "${item}"`);
    allowed.fill(1, lo, hi + 1);
  }
  return {
    match(input) {
      for (let i = 0; i < input.length; i++) if (allowed[input.charCodeAt(i) & 0xff] === 0) return true;
      return false;
    },
  };
}
