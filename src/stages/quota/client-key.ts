import { createHash } from 'node:crypto';

/**
 * The part of a store key that names the caller. IPv6 clients count per prefix: a single host
 * is routinely given a whole /64 (RFC 6177), so a per-address limit would let it rotate through
 * 2^64 buckets. Values longer than 64 characters (a header, a long JWT subject) are hashed, so a
 * client cannot make the store hold kilobyte keys.
 */
export function ipKey(ip: string, ipv6Prefix: number): string {
  if (ip.indexOf(':') < 0 || ipv6Prefix >= 128) return ip;
  const groups = expandIpv6(ip);
  if (groups === null) return ip;
  const out: string[] = [];
  let bits = ipv6Prefix;
  for (let i = 0; i < 8; i++) {
    if (bits >= 16) out.push(groups[i]!.toString(16));
    else if (bits > 0) out.push((groups[i]! & (0xffff << (16 - bits)) & 0xffff).toString(16));
    else break;
    bits -= 16;
  }
  return `${out.join(':')}/${ipv6Prefix}`;
}

function expandIpv6(ip: string): number[] | null {
  const halves = ip.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1]!.split(':') : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const parts = [...head, ...Array<string>(Math.max(0, fill)).fill('0'), ...tail];
  if (parts.length !== 8) return null;
  const out = parts.map((p) => Number.parseInt(p, 16));
  return out.some((n) => !Number.isInteger(n) || n < 0 || n > 0xffff) ? null : out;
}

/** A caller-supplied value as a key part: kept when short and plain, else a SHA-256 prefix. */
export function valueKey(value: string): string {
  if (value.length <= 64 && value[0] !== '#' && /^[\x21-\x7a\x7c\x7e]*$/.test(value)) return value;
  return `#${createHash('sha256').update(value).digest('base64url').slice(0, 22)}`;
}
