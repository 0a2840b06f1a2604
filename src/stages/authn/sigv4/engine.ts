import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * AWS Signature Version 4 (`AWS4-HMAC-SHA256`) verification, pure: no I/O, no request context.
 * Spec: https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html. Where the
 * spec leaves room, this matches what the real clients sign (@smithy/signature-v4, i.e. AWS SDK
 * v3; aws4; curl --aws-sigv4), checked by clients.test.ts.
 */

export interface SignedRequestInput {
  readonly method: string;
  /** The request target exactly as on the wire: path and raw query, e.g. `/a%20b/c?x=1&y=%2F`. */
  readonly target: string;
  /** Header lines as received: names and values alternating, repeats and case kept (node's rawHeaders). */
  readonly rawHeaders: readonly string[];
}

export interface SigV4Auth {
  readonly accessKeyId: string;
  /** Credential scope date, `YYYYMMDD`. */
  readonly date: string;
  /** `X-Amz-Date`, `YYYYMMDDTHHMMSSZ`. */
  readonly amzDate: string;
  readonly timestampMs: number;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  /** 64 lowercase hex digits. */
  readonly signature: string;
  readonly presigned: boolean;
  readonly expiresSec?: number;
  readonly securityToken?: string;
  /** The `x-amz-content-sha256` header, if sent (always signed). */
  readonly contentSha256?: string;
}

export type Malformed = {
  readonly ok: false;
  readonly absent: false;
  readonly reason: 'signature_malformed';
  readonly detail: string;
};
export type ParseResult =
  | { readonly ok: true; readonly auth: SigV4Auth }
  | { readonly ok: false; readonly absent: true }
  | Malformed;

export type VerifyReason =
  | 'signature_malformed'
  | 'signature_credential_unknown'
  | 'signature_expired'
  | 'signature_invalid';
export type VerifyResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: VerifyReason; readonly detail: string };

export interface VerifyOptions {
  readonly secret: string;
  /** Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`: the last line of the canonical request. */
  readonly payloadHash: string;
  readonly nowMs: number;
  readonly clockSkewMs: number;
  readonly maxPresignedExpirySec: number;
  readonly region: string;
  readonly service: string;
  /** Double-encode the path, as every service but S3 does (default true). */
  readonly uriEscapePath?: boolean;
}

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** X-Amz-Expires upper bound set by AWS: seven days. */
export const MAX_PRESIGNED_EXPIRY_SEC = 604_800;

const Q = {
  algorithm: 'X-Amz-Algorithm',
  credential: 'X-Amz-Credential',
  date: 'X-Amz-Date',
  expires: 'X-Amz-Expires',
  signedHeaders: 'X-Amz-SignedHeaders',
  signature: 'X-Amz-Signature',
  token: 'X-Amz-Security-Token',
} as const;
/** Lowercased names of the presign parameters; a case variant of one is refused (ambiguous). */
const PRESIGN_PARAMS = new Map(Object.values(Q).map((name) => [name.toLowerCase(), name]));
/** Any of these in the query (any case) makes the request a presigned attempt. */
const PRESIGN_MARKERS = ['x-amz-algorithm', 'x-amz-credential', 'x-amz-signature'];
const PRESIGN_REQUIRED = [Q.algorithm, Q.credential, Q.date, Q.expires, Q.signedHeaders, Q.signature];

const HEX64 = /^[0-9a-f]{64}$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const ACCESS_KEY_ID = /^[A-Za-z0-9]{1,128}$/;
const SCOPE_PART = /^[A-Za-z0-9._-]{1,64}$/;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
/** RFC 9112 §3.2: a request target is visible ASCII; escapes are `%` and two hex digits. */
const PATH = /^\/(?:[!-$&-~]|%[0-9A-Fa-f]{2})*$/;
const QUERY = /^(?:[!-$&-~]|%[0-9A-Fa-f]{2})*$/;

export function payloadHashOf(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

/** Key for the caller's replay guard: a signature is accepted once. */
export function replayKey(auth: SigV4Auth): string {
  return `sigv4:${auth.signature}`;
}

export function parseSigV4(input: SignedRequestInput): ParseResult {
  const headers = headerLines(input.rawHeaders);
  const authLines = headers.get('authorization') ?? [];
  // Any AWS4-* scheme is ours to judge (SigV4a and case variants are refused, not ignored).
  const ours = authLines.some((v) => /^aws4-/i.test(v));
  const target = splitTarget(input.target);
  const query = typeof target === 'string' ? target : groupQuery(target.query);
  if (typeof query === 'string') {
    return ours || /x-amz-/i.test(input.target) ? malformed(query) : { ok: false, absent: true };
  }
  const presigned = PRESIGN_MARKERS.some((name) => query.lowered.has(name));
  if (ours || presigned) {
    for (const [lower, names] of query.lowered) {
      const exact = PRESIGN_PARAMS.get(lower);
      if (exact !== undefined && names.some((n) => n !== exact))
        return malformed(`query parameter ${exact} in another case`);
    }
  }
  if (ours && presigned) return malformed('both an Authorization header and a presigned query');
  if (ours && authLines.length > 1) return malformed('more than one Authorization header');
  if (!ours && !presigned) return { ok: false, absent: true };

  const fields = ours ? headerAuth(authLines[0]!, headers, query.values) : queryAuth(query.values, headers);
  if (typeof fields === 'string') return malformed(fields);
  const { credential, amzDate, signedHeaders } = fields;

  const scope = credential.split('/');
  const [accessKeyId = '', date = '', region = '', service = ''] = scope;
  if (scope.length !== 5 || scope[4] !== 'aws4_request')
    return malformed('credential is not AKID/date/region/service/aws4_request');
  if (!ACCESS_KEY_ID.test(accessKeyId)) return malformed('credential access key id is not alphanumeric');
  if (!SCOPE_PART.test(region) || !SCOPE_PART.test(service))
    return malformed('credential region or service is malformed');
  const timestampMs = parseAmzDate(amzDate);
  if (timestampMs === null) return malformed('X-Amz-Date is not YYYYMMDDTHHMMSSZ');
  if (amzDate.slice(0, 8) !== date)
    return malformed('X-Amz-Date and the credential scope name different days');

  const names = signedHeaders.split(';');
  for (let i = 0; i < names.length; i++) {
    if (!HEADER_NAME.test(names[i]!))
      return malformed('SignedHeaders has an empty, upper-case or invalid name');
    if (i > 0 && names[i - 1]! >= names[i]!) return malformed('SignedHeaders is not sorted and unique');
  }
  if (!names.includes('host')) return malformed('SignedHeaders does not include host');
  for (const name of names) if (!headers.has(name)) return malformed(`signed header ${name} is absent`);

  const contentSha = headers.get('x-amz-content-sha256');
  if (contentSha !== undefined) {
    if (contentSha.length > 1) return malformed('more than one x-amz-content-sha256 header');
    if (!names.includes('x-amz-content-sha256')) return malformed('x-amz-content-sha256 is not signed');
    // STREAMING-* (aws-chunked, per-chunk signatures) is not supported: refused, not ignored.
    if (!HEX64.test(contentSha[0]!) && contentSha[0] !== UNSIGNED_PAYLOAD)
      return malformed('x-amz-content-sha256 is neither a SHA-256 nor UNSIGNED-PAYLOAD');
  }
  return {
    ok: true,
    auth: {
      accessKeyId,
      date,
      amzDate,
      timestampMs,
      region,
      service,
      signedHeaders: names,
      signature: fields.signature,
      presigned: !ours,
      ...(fields.expiresSec !== undefined && { expiresSec: fields.expiresSec }),
      ...(fields.securityToken !== undefined && { securityToken: fields.securityToken }),
      ...(contentSha !== undefined && { contentSha256: contentSha[0] }),
    },
  };
}

interface AuthFields {
  credential: string;
  amzDate: string;
  signedHeaders: string;
  signature: string;
  expiresSec?: number;
  securityToken?: string;
}

/** `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` (any order, each once). */
function headerAuth(value: string, headers: Headers, query: Query): AuthFields | string {
  const m = /^AWS4-HMAC-SHA256 +(.+)$/.exec(value);
  if (m === null) return 'Authorization is not "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…"';
  const parts = new Map<string, string>();
  for (const part of m[1]!.split(/, */)) {
    const p = /^(Credential|SignedHeaders|Signature)=([^\s=,]+)$/.exec(part);
    if (p === null || parts.has(p[1]!)) return 'Authorization has an unknown, empty or repeated component';
    parts.set(p[1]!, p[2]!);
  }
  const credential = parts.get('Credential');
  const signedHeaders = parts.get('SignedHeaders');
  const signature = parts.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    return 'Authorization lacks Credential, SignedHeaders or Signature';
  }
  if (!HEX64.test(signature)) return 'Signature is not 64 lowercase hex digits';
  const date = headers.get('x-amz-date');
  if (date?.length !== 1) return 'header auth needs exactly one x-amz-date header';
  if (!signedHeaders.split(';').includes('x-amz-date')) return 'SignedHeaders does not include x-amz-date';
  if (query.has(Q.token)) return 'X-Amz-Security-Token in the query of a header-signed request';
  const token = headers.get('x-amz-security-token');
  if (token !== undefined) {
    if (token.length > 1) return 'more than one x-amz-security-token header';
    if (!signedHeaders.split(';').includes('x-amz-security-token'))
      return 'x-amz-security-token is not signed';
  }
  return { credential, amzDate: date[0]!, signedHeaders, signature, securityToken: token?.[0] };
}

/** A presigned URL: every parameter exactly once; the token, if any, is covered by the query. */
function queryAuth(query: Query, headers: Headers): AuthFields | string {
  const one = (name: string): string | undefined => {
    const values = query.get(name);
    return values?.length === 1 ? values[0] : undefined;
  };
  const values = PRESIGN_REQUIRED.map(one);
  if (values.includes(undefined)) {
    return 'presigned query needs X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders and -Signature, each once';
  }
  const [algorithm = '', credential = '', amzDate = '', expires = '', signedHeaders = '', signature = ''] =
    values;
  if (algorithm !== ALGORITHM) return `X-Amz-Algorithm is not ${ALGORITHM}`;
  if (!HEX64.test(signature)) return 'X-Amz-Signature is not 64 lowercase hex digits';
  if (!/^[1-9]\d{0,5}$/.test(expires) || Number(expires) > MAX_PRESIGNED_EXPIRY_SEC) {
    return `X-Amz-Expires is not an integer in 1..${MAX_PRESIGNED_EXPIRY_SEC}`;
  }
  const token = query.get(Q.token);
  if (token !== undefined && token.length > 1) return 'more than one X-Amz-Security-Token';
  if (headers.has('x-amz-security-token')) return 'x-amz-security-token header on a presigned request';
  return {
    credential,
    amzDate,
    signedHeaders,
    signature,
    expiresSec: Number(expires),
    securityToken: token?.[0],
  };
}

export function verifySigV4(input: SignedRequestInput, auth: SigV4Auth, o: VerifyOptions): VerifyResult {
  if (auth.region !== o.region || auth.service !== o.service) {
    return refuse(
      'signature_credential_unknown',
      `credential scope ${auth.region}/${auth.service} is not ${o.region}/${o.service}`,
    );
  }
  if (auth.presigned) {
    const expires = auth.expiresSec ?? 0;
    if (expires > o.maxPresignedExpirySec)
      return refuse('signature_expired', `X-Amz-Expires ${expires}s exceeds ${o.maxPresignedExpirySec}s`);
    if (o.nowMs < auth.timestampMs - o.clockSkewMs)
      return refuse('signature_expired', 'presigned X-Amz-Date is in the future');
    if (o.nowMs > auth.timestampMs + expires * 1000)
      return refuse('signature_expired', 'presigned URL has expired');
  } else if (Math.abs(o.nowMs - auth.timestampMs) > o.clockSkewMs) {
    return refuse('signature_expired', 'X-Amz-Date is outside the clock skew');
  }
  let canonical: string;
  try {
    canonical = canonicalRequest(input, auth, o.payloadHash, { uriEscapePath: o.uriEscapePath ?? true });
  } catch (err) {
    return refuse('signature_malformed', (err as Error).message);
  }
  const key = signingKeys.get(o.secret, auth.date, auth.region, auth.service);
  const expected = createHmac('sha256', key).update(stringToSign(auth, canonical)).digest();
  const given = Buffer.from(auth.signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return refuse('signature_invalid', 'signature does not match the request');
  }
  return { ok: true };
}

/**
 * The canonical request (method, URI, query, headers, signed header list, payload hash). Throws
 * if `input` does not carry what `auth` signs, which `parseSigV4` has already checked.
 */
export function canonicalRequest(
  input: SignedRequestInput,
  auth: SigV4Auth,
  payloadHash: string,
  options: { readonly uriEscapePath?: boolean } = {},
): string {
  const target = splitTarget(input.target);
  if (typeof target === 'string') throw new Error(target);
  const query = parseQuery(target.query)
    .filter(([name]) => !(auth.presigned && name === Q.signature))
    .map(([name, value]) => [escapeUri(name), escapeUri(value)] as const)
    .sort(([n1, v1], [n2, v2]) => (n1 < n2 ? -1 : n1 > n2 ? 1 : v1 < v2 ? -1 : v1 > v2 ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const headers = headerLines(input.rawHeaders);
  const lines = auth.signedHeaders.map((name) => {
    const values = headers.get(name);
    if (values === undefined) throw new Error(`signed header ${name} is absent`);
    // "Trimall" as @smithy/signature-v4 does it: runs of SP/HTAB become one space; repeated
    // lines are joined with a comma in the order received.
    return `${name}:${values.map((v) => v.replace(/[ \t]+/g, ' ').replace(/^ | $/g, '')).join(',')}`;
  });
  const uri = canonicalUri(target.path, options.uriEscapePath ?? true);
  return [input.method, uri, query, ...lines, '', auth.signedHeaders.join(';'), payloadHash].join('\n');
}

export function stringToSign(auth: SigV4Auth, canonical: string): string {
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  return `${ALGORITHM}\n${auth.amzDate}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
}

/**
 * The canonical URI. The clients do not decode the path: they take it as it goes on the wire
 * (already percent-encoded once), drop empty, `.` and `..` segments (on the encoded text, so
 * `%2E%2E` is an ordinary segment), and RFC 3986-encode each segment again: that second pass is
 * the "double encoding" (`%20` → `%2520`, `+` → `%2B`). Decoding first would break requests
 * whose wire path keeps a reserved character literal (`/a+b=c`, signed as `/a%2Bb%3Dc`).
 * Without `uriEscapePath` (S3) the wire path is used as is, as @smithy/signature-v4 does.
 */
function canonicalUri(path: string, uriEscapePath: boolean): string {
  if (!uriEscapePath) return path;
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '..') segments.pop();
    else if (segment !== '' && segment !== '.') segments.push(escapeUri(segment));
  }
  return `/${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
}

/** RFC 3986 §2.3: everything but the unreserved `A-Za-z0-9-_.~` as `%XX`, from UTF-8. */
function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function splitTarget(target: string): { path: string; query: string } | string {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q + 1);
  if (!PATH.test(path)) return 'request path is not origin-form visible ASCII with valid escapes';
  if (!QUERY.test(query)) return 'query is not visible ASCII with valid escapes';
  return { path, query };
}

/**
 * Query pairs, names and values percent-decoded. `+` is a literal plus (SigV4 encodes it as
 * `%2B`, never a space); `a` without `=` is `a=`; empty pieces (`&&`) carry nothing and are skipped.
 * Throws on escapes that are not UTF-8 (splitTarget has checked their shape).
 */
function parseQuery(raw: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const piece of raw.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    pairs.push(eq < 0 ? [decode(piece), ''] : [decode(piece.slice(0, eq)), decode(piece.slice(eq + 1))]);
  }
  return pairs;
}

function decode(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    throw new Error('query escape is not UTF-8');
  }
}

type Query = Map<string, string[]>;

function groupQuery(raw: string): { values: Query; lowered: Map<string, string[]> } | string {
  let pairs: [string, string][];
  try {
    pairs = parseQuery(raw);
  } catch (err) {
    return (err as Error).message;
  }
  const values: Query = new Map();
  const lowered = new Map<string, string[]>();
  const add = (map: Map<string, string[]>, key: string, value: string) => {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };
  for (const [name, value] of pairs) {
    add(values, name, value);
    add(lowered, name.toLowerCase(), name);
  }
  return { values, lowered };
}

type Headers = Map<string, string[]>;

function headerLines(raw: readonly string[]): Headers {
  const map: Headers = new Map();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const values = map.get(name);
    if (values) values.push(raw[i + 1]!);
    else map.set(name, [raw[i + 1]!]);
  }
  return map;
}

function parseAmzDate(text: string): number | null {
  const m = AMZ_DATE.exec(text);
  if (m === null) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  // Date.UTC rolls over (Feb 30 → Mar 2): a field out of range is refused, not reinterpreted.
  const same = back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d;
  return same && h < 24 && mi < 60 && s < 60 ? ms : null;
}

export function deriveSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = createHmac('sha256', `AWS4${secret}`).update(date).digest();
  const kRegion = createHmac('sha256', kDate).update(region).digest();
  const kService = createHmac('sha256', kRegion).update(service).digest();
  return createHmac('sha256', kService).update('aws4_request').digest();
}

/**
 * Signing keys by (secret, date, region, service), least recently used evicted. A key is valid
 * for one day and scope, so the four HMACs run once per credential per day, not per request. The
 * secret enters the cache key only as its SHA-256, never as plain text.
 */
export class SigningKeyCache {
  readonly #max: number;
  readonly #keys = new Map<string, Buffer>();

  constructor(max = 256) {
    this.#max = max;
  }

  get size(): number {
    return this.#keys.size;
  }

  get(secret: string, date: string, region: string, service: string): Buffer {
    const id = `${createHash('sha256').update(secret).digest('hex')}|${date}|${region}|${service}`;
    let key = this.#keys.get(id);
    if (key !== undefined) {
      this.#keys.delete(id); // re-insert: Map order is recency order
    } else {
      key = deriveSigningKey(secret, date, region, service);
      if (this.#keys.size >= this.#max) this.#keys.delete(this.#keys.keys().next().value!);
    }
    this.#keys.set(id, key);
    return key;
  }
}

const signingKeys = new SigningKeyCache();

function malformed(detail: string): Malformed {
  return { ok: false, absent: false, reason: 'signature_malformed', detail };
}

function refuse(reason: VerifyReason, detail: string): VerifyResult {
  return { ok: false, reason, detail };
}
