/**
 * Test support for the detectors (not used by the gateway): reads the CRS go-ftw regression
 * YAML and extracts, for each test, the values the detector rules inspect — ARGS and
 * ARGS_NAMES (query, urlencoded, JSON, XML and multipart bodies), cookies and their names,
 * User-Agent, Referer, REQUEST_FILENAME and REQUEST_BASENAME — with the rules'
 * transformations approximated (urlDecodeUni, htmlEntityDecode, jsDecode, cssDecode,
 * removeNulls). The engine's conformance harness is the full-fidelity version; this one
 * lets the detectors be measured on their own.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const CRS_TESTS = new URL(
  '../../../../../../shared/crs/v4.28.0/tests/regression/tests/',
  import.meta.url,
).pathname;

export interface CrsCase {
  readonly id: string;
  readonly expect: readonly number[];
  readonly noExpect: readonly number[];
  readonly args: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  readonly cookies: readonly string[];
  readonly filename: string;
  readonly basename: string;
}

interface FtwInput {
  uri?: string;
  headers?: Record<string, string>;
  data?: string;
  encoded_request?: string;
}

/** Bytes of a YAML string as the engine sees them: one char per byte. */
function bytes(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

/** Percent-decoding as ModSecurity's urlDecodeUni: `%XX`, `%uXXXX`, `+`; bad escapes kept. */
export function urlDecodeUni(s: string): string {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '+') out += ' ';
    else if (c === '%' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      out += String.fromCharCode(Number.parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === '%' && /^[uU][0-9a-fA-F]{4}$/.test(s.slice(i + 1, i + 6))) {
      const u = Number.parseInt(s.slice(i + 2, i + 6), 16);
      // Full-width ASCII (U+FF01..U+FF5E) maps to ASCII, as IIS and ModSecurity do.
      out += String.fromCharCode(u >= 0xff01 && u <= 0xff5e ? u - 0xfee0 : u & 0xff);
      i += 5;
    } else out += c;
  }
  return out;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", nbsp: '\xa0' };

export function htmlEntityDecode(s: string): string {
  return s.replace(
    /&(?:#[xX]([0-9a-fA-F]{1,6});?|#([0-9]{1,7});?|(lt|gt|amp|quot|apos|nbsp);)/g,
    (m, h, d, n) => {
      if (h !== undefined) return String.fromCharCode(Number.parseInt(h, 16) & 0xff);
      if (d !== undefined) return String.fromCharCode(Number.parseInt(d, 10) & 0xff);
      return ENTITIES[n] ?? m;
    },
  );
}

export function jsDecode(s: string): string {
  return s.replace(/\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|([0-7]{1,3})|(.))/gs, (_m, x, u, o, ch) => {
    if (x !== undefined) return String.fromCharCode(Number.parseInt(x, 16));
    if (u !== undefined) return String.fromCharCode(Number.parseInt(u, 16) & 0xff);
    if (o !== undefined) return String.fromCharCode(Number.parseInt(o, 8) & 0xff);
    const esc: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v' };
    return esc[ch] ?? ch;
  });
}

export function cssDecode(s: string): string {
  return s.replace(/\\([0-9a-fA-F]{1,6})\s?|\\(.)/gs, (_m, h, ch) =>
    h !== undefined ? String.fromCharCode(Number.parseInt(h, 16) & 0xff) : ch === '\n' ? '' : ch,
  );
}

export const sqliTransform = (v: string): string => urlDecodeUni(v).replaceAll('\0', '');
export const xssTransform = (v: string): string =>
  cssDecode(jsDecode(htmlEntityDecode(urlDecodeUni(v)))).replaceAll('\0', '');

function formPairs(s: string, out: string[]): void {
  for (const part of s.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    out.push(urlDecodeUni(name));
    if (eq >= 0) out.push(urlDecodeUni(part.slice(eq + 1)));
  }
}

function jsonLeaves(v: unknown, out: string[]): void {
  if (typeof v === 'string') out.push(v);
  else if (typeof v === 'number' || typeof v === 'boolean') out.push(String(v));
  else if (Array.isArray(v)) for (const x of v) jsonLeaves(x, out);
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.push(k);
      jsonLeaves(x, out);
    }
  }
}

function xmlValues(s: string, out: string[]): void {
  const decode = (t: string) =>
    t.replace(/&(lt|gt|amp|quot|apos);|&#x([0-9a-f]+);|&#([0-9]+);/gi, (m, n, h, d) =>
      n ? (ENTITIES[n.toLowerCase()] ?? m) : String.fromCharCode(h ? Number.parseInt(h, 16) : Number(d)),
    );
  for (const m of s.matchAll(/\s[\w:.-]+\s*=\s*(?:"([^"]*)"|'([^']*)')/g))
    out.push(decode(m[1] ?? m[2] ?? ''));
  for (const m of s.matchAll(/>([^<]+)</g)) out.push(decode(m[1]!));
}

function multipartValues(body: string, boundary: string, out: string[]): void {
  for (const part of body.split(`--${boundary}`)) {
    const split = part.indexOf('\r\n\r\n') >= 0 ? part.indexOf('\r\n\r\n') : part.indexOf('\n\n');
    if (split < 0) continue;
    const head = part.slice(0, split);
    const name = /name="([^"]*)"/i.exec(head);
    if (name) out.push(name[1]!);
    out.push(
      part
        .slice(split)
        .replace(/^\r?\n\r?\n/, '')
        .replace(/\r?\n$/, ''),
    );
  }
}

function bodyArgs(data: string, contentType: string, out: string[]): void {
  const ct = contentType.toLowerCase();
  if (ct.includes('json')) {
    try {
      jsonLeaves(JSON.parse(data), out);
    } catch {
      out.push(data);
    }
  } else if (ct.includes('xml')) xmlValues(data, out);
  else if (ct.includes('multipart'))
    multipartValues(data, /boundary=([^;]+)/i.exec(contentType)?.[1] ?? '', out);
  else if (ct === '' || ct.includes('x-www-form-urlencoded')) formPairs(data, out);
}

/** Splits a raw HTTP/1.1 request (go-ftw `encoded_request`) into the fields of an input. */
function fromRaw(raw: string): FtwInput {
  const headEnd = raw.indexOf('\r\n\r\n');
  const head = headEnd < 0 ? raw : raw.slice(0, headEnd);
  const lines = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const c = l.indexOf(':');
    if (c > 0) headers[l.slice(0, c).trim()] = l.slice(c + 1).trim();
  }
  return { uri: lines[0]?.split(' ')[1] ?? '/', headers, data: headEnd < 0 ? '' : raw.slice(headEnd + 4) };
}

function extract(input: FtwInput): Omit<CrsCase, 'id' | 'expect' | 'noExpect'> {
  const i = input.encoded_request
    ? fromRaw(Buffer.from(input.encoded_request, 'base64').toString('latin1'))
    : input;
  const uri = bytes(i.uri ?? '/');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(i.headers ?? {})) headers[k.toLowerCase()] = bytes(String(v));
  const q = uri.indexOf('?');
  const path = q < 0 ? uri : uri.slice(0, q);
  const args: string[] = [];
  if (q >= 0) formPairs(uri.slice(q + 1), args);
  if (i.data !== undefined) bodyArgs(bytes(String(i.data)), headers['content-type'] ?? '', args);
  const cookies: string[] = [];
  for (const c of (headers.cookie ?? '').split(';')) {
    const eq = c.indexOf('=');
    if (c.trim() === '') continue;
    cookies.push(c.slice(0, eq < 0 ? c.length : eq).trim());
    if (eq >= 0) cookies.push(c.slice(eq + 1).trim());
  }
  return { args, headers, cookies, filename: path, basename: path.slice(path.lastIndexOf('/') + 1) };
}

/** Every test of one rule file (`REQUEST-942-APPLICATION-ATTACK-SQLI/942100.yaml`), or of all. */
export function loadCases(file?: string): CrsCase[] {
  const files = file
    ? [file]
    : readdirSync(CRS_TESTS, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml'));
  const cases: CrsCase[] = [];
  for (const f of files) {
    const doc = parse(readFileSync(join(CRS_TESTS, f), 'utf8'));
    for (const t of doc?.tests ?? []) {
      for (const [n, stage] of (t.stages ?? []).entries()) {
        const log = stage.output?.log ?? {};
        cases.push({
          id: `${doc?.rule_id}-${t.test_id}${n > 0 ? `/${n}` : ''}`,
          expect: log.expect_ids ?? [],
          noExpect: log.no_expect_ids ?? [],
          ...extract(stage.input ?? {}),
        });
      }
    }
  }
  return cases;
}
