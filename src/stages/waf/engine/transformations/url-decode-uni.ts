import { ByteWriter, isHex, x2c } from './bytes.ts';

function isUnicodeEscape(input: string, i: number): boolean {
  for (let k = i + 2; k <= i + 5; k++) if (!isHex(input.charCodeAt(k))) return false;
  return true;
}

/**
 * `t:urlDecodeUni`: `t:urlDecode` plus IIS's `%uHHHH`, as ModSecurity without a unicode map
 * decodes it: the low byte only, and full-width ASCII (U+FF01–U+FF5E) mapped to ASCII by
 * adding 0x20 — `%uff1c` is `<`, which is how full-width payloads evade naive filters. An
 * invalid `%u` sequence is kept literally.
 */
export function urlDecodeUni(input: string): string {
  if (input.indexOf('%') === -1 && input.indexOf('+') === -1) return input;
  const out = new ByteWriter();
  const n = input.length;
  for (let i = 0; i < n; ) {
    const c = input.charCodeAt(i);
    if (c === 0x2b) {
      out.push(0x20);
      i++;
      continue;
    }
    if (c !== 0x25) {
      out.push(c);
      i++;
      continue;
    }
    const next = input.charCodeAt(i + 1);
    if (next === 0x75 || next === 0x55) {
      if (i + 5 < n && isUnicodeEscape(input, i)) {
        let b = x2c(input, i + 4);
        const fullWidth =
          (input.charCodeAt(i + 2) | 0x20) === 0x66 && (input.charCodeAt(i + 3) | 0x20) === 0x66;
        if (fullWidth && b > 0x00 && b < 0x5f) b += 0x20;
        out.push(b);
        i += 6;
      } else {
        out.push(c);
        out.push(next);
        i += 2;
      }
    } else if (i + 2 < n && isHex(next) && isHex(input.charCodeAt(i + 2))) {
      out.push(x2c(input, i + 1));
      i += 3;
    } else {
      out.push(c);
      i++;
    }
  }
  return out.toString();
}
