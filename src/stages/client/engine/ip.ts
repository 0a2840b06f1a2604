import { BlockList, isIP } from 'node:net';

const MAPPED_HEX = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/**
 * One spelling per address, so that logs, allow/deny lists and per-IP limits agree on who the
 * client is. `::ffff:10.0.0.1` → `10.0.0.1`: dual-stack sockets report IPv4 peers in mapped
 * form. X-Forwarded-For hops are free text, so other IPv6 spellings (`::FFFF:a00:1`,
 * `0:0:0:0:0:ffff:10.0.0.1`, `2001:DB8:0::1`) are brought to RFC 5952 form first.
 */
export function canonicalIp(address: string): string {
  if (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4) return address.slice(7);
  const lower = address.toLowerCase();
  if (isIP(lower) !== 6 || lower.includes('%')) return lower;
  // WHATWG URL serializes an IPv6 host per RFC 5952 (mapped IPv4 in hex: ::ffff:a00:1).
  const compact = new URL(`http://[${lower}]/`).hostname.slice(1, -1);
  const mapped = MAPPED_HEX.exec(compact);
  if (mapped === null) return compact;
  const high = Number.parseInt(mapped[1]!, 16);
  const low = Number.parseInt(mapped[2]!, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** Parse `addr` or `addr/prefix`; returns an error message, or the parts. */
export function parseCidr(
  text: string,
): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | string {
  const [address = '', prefixText, extra] = text.trim().split('/');
  if (extra !== undefined) return `"${text}" is not a CIDR block`;
  const version = isIP(address);
  if (version === 0) return `"${address}" is not an IPv4 or IPv6 address`;
  // A zone (`fe80::1%eth0`) names an interface, not addresses: BlockList would drop it silently.
  if (address.includes('%')) return `"${address}" has a zone id; a CIDR block cannot`;
  const max = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) {
    return `"/${prefixText}" is not a prefix length`;
  }
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return `prefix /${prefix} is longer than ${max} bits`;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** A set of CIDR blocks (node's BlockList), matched against canonical client IPs. */
export class CidrSet {
  readonly #list = new BlockList();
  readonly size: number;

  /** Throws with the offending entry's index and reason; callers attach the file location. */
  constructor(cidrs: readonly string[]) {
    cidrs.forEach((text, index) => {
      const parsed = parseCidr(text);
      if (typeof parsed === 'string') throw Object.assign(new Error(parsed), { index });
      this.#list.addSubnet(parsed.address, parsed.prefix, parsed.family);
    });
    this.size = cidrs.length;
  }

  has(ip: string): boolean {
    if (this.size === 0) return false;
    const version = isIP(ip);
    if (version === 0) return false;
    return this.#list.check(ip, version === 4 ? 'ipv4' : 'ipv6');
  }
}
