/**
 * Origins as the Fetch standard serializes them (RFC 6454 §6.1; WHATWG URL "serialization of
 * an origin"): `scheme "://" host [":" port]`, lowercase, no default port, no path, no
 * trailing slash. Browsers always send this canonical form in `Origin`, so a request origin is
 * matched only when it is canonical: anything else is refused rather than normalized and
 * echoed, and the gateway never reflects a string it did not compare byte for byte.
 *
 * Config patterns are deliberately small: an exact origin, `*`, or one wildcard label in front
 * of a fixed domain (`https://*.example.com`), with the scheme and port exact. No regular
 * expression ever comes from config: the classic CORS bypasses are regexes with an unescaped
 * `.` or a missing anchor (`https://example.com.evil.com`, `https://evilexample.com`).
 */

const DEFAULT_PORTS: Readonly<Record<string, string>> = { http: '80', https: '443' };

/** A DNS label in LDH form (RFC 1123 §2.1), punycode A-labels (`xn--…`) included. */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const SCHEME = /^[a-z][a-z0-9+.-]*$/;
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export interface ParsedOrigin {
  readonly scheme: string;
  /** Lowercase host: a DNS name, an IPv4 address, or a bracketed IPv6 address. */
  readonly host: string;
  /** Explicit non-default port, or '' (default port). */
  readonly port: string;
  /** The canonical serialization. */
  readonly origin: string;
}

export type OriginParse = { ok: true; value: ParsedOrigin } | { ok: false; reason: string };

/**
 * Parse an origin, requiring nothing about case or default ports (config may write
 * `HTTPS://Example.com:443`; it means `https://example.com`). `canonical` tells whether the
 * input was already in serialized form, which request origins must be.
 */
export function parseOrigin(text: string): OriginParse & { canonical?: boolean } {
  const sep = text.indexOf('://');
  if (sep <= 0) return fail('is not an origin: expected scheme://host[:port]');
  const scheme = text.slice(0, sep).toLowerCase();
  if (!SCHEME.test(scheme)) return fail(`has an invalid scheme "${text.slice(0, sep)}"`);
  const rest = text.slice(sep + 3);
  if (/[/?#]/.test(rest)) {
    return fail(
      'has a path, query or fragment (or a trailing slash): an origin is scheme://host[:port] only',
    );
  }
  if (rest.includes('@')) return fail('has user information: an origin is scheme://host[:port] only');
  let host: string;
  let port = '';
  let portGiven = false;
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end < 0) return fail('has an unterminated IPv6 address');
    host = rest.slice(0, end + 1).toLowerCase();
    if (!/^\[[0-9a-f:.]+\]$/.test(host) || !host.includes(':')) return fail('has an invalid IPv6 address');
    const after = rest.slice(end + 1);
    if (after !== '') {
      if (!after.startsWith(':')) return fail('has characters after the IPv6 address');
      port = after.slice(1);
      portGiven = true;
    }
  } else {
    const colon = rest.lastIndexOf(':');
    host = (colon < 0 ? rest : rest.slice(0, colon)).toLowerCase();
    if (colon >= 0) {
      port = rest.slice(colon + 1);
      portGiven = true;
    }
    if (host === '') return fail('has no host');
    if (/[\u0080-\uffff]/.test(host)) {
      return fail(
        'has a host that is not ASCII: write an internationalized name in its punycode form (xn--…), as browsers send it',
      );
    }
    // A name whose last label is a number is parsed as an IPv4 address by browsers (WHATWG
    // URL "ends in a number"), so it is one, or it is invalid.
    const labels = host.split('.');
    if (!IPV4.test(host) && (!labels.every((l) => LABEL.test(l)) || /^\d+$/.test(labels.at(-1)!))) {
      return fail(`has an invalid host "${host}"`);
    }
  }
  if (portGiven) {
    if (!/^[1-9]\d{0,4}$/.test(port) || Number(port) > 65535) return fail(`has an invalid port "${port}"`);
    if (DEFAULT_PORTS[scheme] === port) port = '';
  }
  const origin = `${scheme}://${host}${port === '' ? '' : `:${port}`}`;
  return { ok: true, value: { scheme, host, port, origin }, canonical: origin === text };
}

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

/** One entry of `allowOrigins`, compiled. */
export type OriginRule =
  | { readonly kind: 'any' }
  | { readonly kind: 'exact'; readonly origin: string }
  /** `scheme://*.suffix[:port]`: exactly one label before `.suffix`. */
  | { readonly kind: 'label'; readonly scheme: string; readonly suffix: string; readonly port: string };

export type RuleParse = { ok: true; rule: OriginRule } | { ok: false; reason: string };

/** Compile an `allowOrigins` entry, or say precisely why it is not one. */
export function parseOriginRule(text: string): RuleParse {
  if (text === '*') return { ok: true, rule: { kind: 'any' } };
  if (text.trim().toLowerCase() === 'null') {
    return {
      ok: false,
      reason:
        'cannot be allowed: the null origin is sent by sandboxed iframes, file: pages and redirects, which any site can produce',
    };
  }
  if (text !== text.trim()) return { ok: false, reason: 'has leading or trailing white space' };
  const star = text.indexOf('*');
  if (star < 0) {
    const parsed = parseOrigin(text);
    return parsed.ok ? { ok: true, rule: { kind: 'exact', origin: parsed.value.origin } } : parsed;
  }
  const sep = text.indexOf('://');
  if (sep < 0 || star !== sep + 3 || text[star + 1] !== '.' || text.indexOf('*', star + 1) >= 0) {
    return {
      ok: false,
      reason:
        'has a misplaced wildcard: it may only be the whole first label of the host, once (https://*.example.com); scheme and port are always exact',
    };
  }
  // Parse the rest with a placeholder label, so every other rule of an origin applies.
  const parsed = parseOrigin(`${text.slice(0, star)}x${text.slice(star + 1)}`);
  if (!parsed.ok) {
    return /^\d+(:\d+)?$/.test(text.split('.').at(-1) ?? '')
      ? { ok: false, reason: 'has a wildcard in an IP address' }
      : parsed;
  }
  const { scheme, host, port } = parsed.value;
  if (scheme !== 'http' && scheme !== 'https') {
    return { ok: false, reason: 'has a wildcard with a scheme other than http or https' };
  }
  if (host.startsWith('[') || IPV4.test(host.slice(2))) {
    return { ok: false, reason: 'has a wildcard in an IP address' };
  }
  const suffix = host.slice(2);
  if (suffix.split('.').length < 2) {
    return {
      ok: false,
      reason: `would match every site under the top-level domain "${suffix}": put the wildcard in front of a registrable domain (https://*.example.com)`,
    };
  }
  return { ok: true, rule: { kind: 'label', scheme, suffix, port } };
}

/**
 * Whether a request's `Origin` header is allowed by the rules. `null`, non-canonical forms
 * (uppercase, default port, trailing slash, a path) and repeated headers are never allowed
 * except by `*`, whose answer is the literal `*` and reflects nothing.
 */
export function originAllowed(
  rules: readonly OriginRule[],
  exact: ReadonlySet<string>,
  origin: string,
): boolean {
  if (exact.has(origin)) return true;
  let labelRules = false;
  for (const rule of rules) {
    if (rule.kind === 'any') return true;
    if (rule.kind === 'label') labelRules = true;
  }
  if (!labelRules) return false;
  const parsed = parseOrigin(origin);
  if (!parsed.ok || !parsed.canonical) return false;
  const { scheme, host, port } = parsed.value;
  for (const rule of rules) {
    if (rule.kind !== 'label' || rule.scheme !== scheme || rule.port !== port) continue;
    if (host.length <= rule.suffix.length + 1 || !host.endsWith(`.${rule.suffix}`)) continue;
    const label = host.slice(0, host.length - rule.suffix.length - 1);
    if (LABEL.test(label)) return true;
  }
  return false;
}
