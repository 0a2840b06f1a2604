import { ByteWriter, isAlnum, isDigit, isHex } from './bytes.ts';

const NAMED: Record<string, number> = { quot: 0x22, amp: 0x26, lt: 0x3c, gt: 0x3e, nbsp: 0xa0 };

/** C `(unsigned char)strtol(...)`: the low byte, or 0xFF when the value overflows a long. */
function entityByte(digits: string, radix: 10 | 16): number {
  const v = BigInt(radix === 16 ? `0x${digits}` : digits);
  return v > 0x7fffffffffffffffn ? 0xff : Number(v & 0xffn);
}

/**
 * `t:htmlEntityDecode`, as ModSecurity's `html_entities_decode_inplace`: `&#DDD;`, `&#xHH;`
 * (the `;` optional, one byte: the value's low byte) and the five named entities `&quot;
 * &amp; &lt; &gt; &nbsp;` (case-insensitive, `;` optional); anything else stays as it is.
 */
export function htmlEntityDecode(input: string): string {
  if (input.indexOf('&') === -1) return input;
  const out = new ByteWriter();
  const n = input.length;
  let i = 0;
  while (i < n) {
    const c = input.charCodeAt(i);
    if (c !== 0x26 || i + 1 >= n) {
      out.push(c);
      i++;
      continue;
    }
    const decoded = decodeAt(input, i + 1);
    if (decoded === undefined) {
      out.push(c);
      i++;
      continue;
    }
    out.push(decoded.byte);
    i = input.charCodeAt(decoded.end) === 0x3b && decoded.end < n ? decoded.end + 1 : decoded.end;
  }
  return out.toString();
}

/** The entity starting after `&` at `k`: its byte and where its name or digits end. */
function decodeAt(input: string, k: number): { byte: number; end: number } | undefined {
  const n = input.length;
  if (input.charCodeAt(k) === 0x23) {
    if (k + 1 >= n) return undefined;
    const x = input.charCodeAt(k + 1);
    const hex = x === 0x78 || x === 0x58;
    if (hex && k + 2 >= n) return undefined;
    const start = hex ? k + 2 : k + 1;
    let j = start;
    while (j < n && (hex ? isHex(input.charCodeAt(j)) : isDigit(input.charCodeAt(j)))) j++;
    if (j === start) return undefined;
    return { byte: entityByte(input.slice(start, j), hex ? 16 : 10), end: j };
  }
  let j = k;
  while (j < n && isAlnum(input.charCodeAt(j))) j++;
  if (j === k) return undefined;
  const byte = NAMED[input.slice(k, j).toLowerCase()];
  return byte === undefined ? undefined : { byte, end: j };
}
