import { BlockList, isIP } from 'node:net';

/** `::ffff:10.0.0.1` → `10.0.0.1`: dual-stack sockets report IPv4 peers in mapped form. */
export function canonicalIp(address: string): string {
  if (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4) return address.slice(7);
  return address.toLowerCase();
}

/** Parse `addr` or `addr/prefix`; returns an error message, or the parts. */
export function parseCidr(
  text: string,
): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | string {
  const [address = '', prefixText, extra] = text.trim().split('/');
  if (extra !== undefined) return `"${text}" is not a CIDR block`;
  const version = isIP(address);
  if (version === 0) return `"${address}" is not an IPv4 or IPv6 address`;
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
