/**
 * The variables of one transaction: scalars (REQUEST_URI, ...) and collections (ARGS, TX,
 * ...), filled from the request, its body and the response as they arrive. Everything is a
 * byte string (one char per byte).
 */
import type { SetVar } from './actions.ts';
import { type BodyState, processBody } from './body/index.ts';
import { Collection } from './collection.ts';
import { basename, parseCookies, parseUrlEncoded, splitUri, urlDecode } from './request.ts';
import type { RequestInput, ResponseInput } from './tx-types.ts';

export class TxData {
  readonly scalars = new Map<string, string>();
  readonly collections = new Map<string, Collection>();
  /** Bumped whenever request or response data arrives; cached target resolutions expire with it. */
  version = 0;

  collection(name: string): Collection {
    let c = this.collections.get(name);
    if (c === undefined) {
      c = new Collection(name);
      this.collections.set(name, c);
    }
    return c;
  }

  /** A macro reference: a scalar, the first value of a collection, or `collection.key`. */
  lookup(name: string, key: string | undefined): string | undefined {
    if (key === undefined) return this.scalars.get(name) ?? this.collections.get(name)?.entries[0]?.value;
    return this.collections.get(name)?.get(key);
  }

  /** `setvar`, with key and value already macro-expanded. Arithmetic is on integers, as in ModSecurity. */
  setvar(sv: SetVar, key: string, value: string): void {
    const col = this.collection(sv.collection);
    if (sv.op === 'delete') {
      col.delete(key);
      return;
    }
    if (sv.op === 'set') {
      col.set(key, value);
      return;
    }
    const cur = Number.parseInt(col.get(key) ?? '0', 10) || 0;
    const n = Number.parseInt(value, 10) || 0;
    col.set(key, String(sv.op === 'add' ? cur + n : cur - n));
  }

  setRequest(req: RequestInput): void {
    const s = this.scalars;
    const parts = splitUri(req.uri);
    s.set('REQUEST_METHOD', req.method);
    s.set('REQUEST_PROTOCOL', req.protocol);
    s.set('REQUEST_LINE', `${req.method} ${req.uri} ${req.protocol}`);
    s.set('REQUEST_URI_RAW', req.uri);
    s.set('REQUEST_URI', parts.uri);
    const filename = urlDecode(parts.path, false);
    s.set('REQUEST_FILENAME', filename);
    s.set('PATH_INFO', filename);
    s.set('REQUEST_BASENAME', basename(filename));
    s.set('QUERY_STRING', parts.query);
    s.set('REMOTE_ADDR', req.remoteAddr ?? '');
    s.set('REMOTE_HOST', req.remoteAddr ?? '');
    s.set('REMOTE_PORT', String(req.remotePort ?? 0));
    s.set('SERVER_ADDR', req.serverAddr ?? '');
    s.set('SERVER_PORT', String(req.serverPort ?? 0));
    s.set('UNIQUE_ID', req.id ?? '');
    this.#setTime(new Date());
    const args = this.collection('ARGS');
    const argsGet = this.collection('ARGS_GET');
    const names = this.collection('ARGS_NAMES');
    const getNames = this.collection('ARGS_GET_NAMES');
    for (const [k, v] of parseUrlEncoded(parts.query)) {
      args.add(k, v);
      argsGet.add(k, v);
      names.add(k, k);
      getNames.add(k, k);
    }
    const headers = this.collection('REQUEST_HEADERS');
    const headerNames = this.collection('REQUEST_HEADERS_NAMES');
    const cookies = this.collection('REQUEST_COOKIES');
    const cookieNames = this.collection('REQUEST_COOKIES_NAMES');
    let headerBytes = 0;
    for (const [k, v] of req.headers) {
      headers.add(k, v);
      headerNames.add(k, k);
      headerBytes += k.length + v.length + 4;
      const lower = k.toLowerCase();
      if (lower === 'cookie') {
        for (const [ck, cv] of parseCookies(v)) {
          cookies.add(ck, cv);
          cookieNames.add(ck, ck);
        }
      } else if (lower === 'host') {
        s.set('SERVER_NAME', v.replace(/:\d+$/, ''));
      } else if (lower === 'authorization') {
        s.set('AUTH_TYPE', v.trimStart().split(/\s/, 1)[0] ?? '');
      }
    }
    s.set(
      'FULL_REQUEST_LENGTH',
      String(req.method.length + req.uri.length + req.protocol.length + 4 + headerBytes + 2),
    );
    this.#updateCombinedSize();
  }

  /**
   * Body variables. As ModSecurity: REQUEST_BODY holds the raw body for URLENCODED, or when a
   * rule forces it (CRS 901340 does for bodies no processor parses); JSON, XML and multipart
   * bodies are inspected through the variables their processors fill.
   */
  setBody(body: string, processor: string | undefined, forceBodyVariable: boolean): void {
    this.version++;
    const s = this.scalars;
    if (processor === 'URLENCODED' || forceBodyVariable) s.set('REQUEST_BODY', body);
    s.set('REQUEST_BODY_LENGTH', String(body.length));
    s.set('FULL_REQUEST_LENGTH', String(Number(s.get('FULL_REQUEST_LENGTH') ?? 0) + body.length));
    s.set('REQBODY_ERROR', '0');
    if (processor === undefined || body === '') return;
    const state: BodyState = {
      add: (collection, key, value) => this.collection(collection).add(key, value),
      set: (name, value) => s.set(name, value),
    };
    const err = processBody(
      processor,
      body,
      this.collection('REQUEST_HEADERS').get('content-type') ?? '',
      state,
    );
    if (err !== undefined) {
      s.set('REQBODY_ERROR', '1');
      s.set('REQBODY_ERROR_MSG', err);
      s.set('REQBODY_PROCESSOR_ERROR', '1');
    }
    this.#updateCombinedSize();
  }

  setResponseHeaders(res: ResponseInput, requestProtocol: string): void {
    this.version++;
    const s = this.scalars;
    const protocol = res.protocol ?? requestProtocol;
    s.set('RESPONSE_STATUS', String(res.status));
    s.set('RESPONSE_PROTOCOL', protocol);
    s.set('STATUS_LINE', `${protocol} ${res.status}`);
    const headers = this.collection('RESPONSE_HEADERS');
    const names = this.collection('RESPONSE_HEADERS_NAMES');
    for (const [k, v] of res.headers) {
      headers.add(k, v);
      names.add(k, k);
      const lower = k.toLowerCase();
      if (lower === 'content-type') s.set('RESPONSE_CONTENT_TYPE', v);
      else if (lower === 'content-length') s.set('RESPONSE_CONTENT_LENGTH', v);
    }
  }

  setResponseBody(body: string): void {
    this.version++;
    this.scalars.set('RESPONSE_BODY', body);
  }

  #updateCombinedSize(): void {
    let n = 0;
    for (const e of this.collection('ARGS').entries) n += e.key.length + e.value.length;
    this.scalars.set('ARGS_COMBINED_SIZE', String(n));
  }

  /** TIME_* in UTC (a gateway's logs and rules should not depend on the host's zone). */
  #setTime(now: Date): void {
    const s = this.scalars;
    const two = (n: number) => String(n).padStart(2, '0');
    s.set('TIME_EPOCH', String(Math.floor(now.getTime() / 1000)));
    s.set('TIME_YEAR', String(now.getUTCFullYear()));
    s.set('TIME_MON', two(now.getUTCMonth() + 1));
    s.set('TIME_DAY', two(now.getUTCDate()));
    s.set('TIME_HOUR', two(now.getUTCHours()));
    s.set('TIME_MIN', two(now.getUTCMinutes()));
    s.set('TIME_SEC', two(now.getUTCSeconds()));
    s.set('TIME_WDAY', String(now.getUTCDay()));
    s.set('TIME', `${two(now.getUTCHours())}:${two(now.getUTCMinutes())}:${two(now.getUTCSeconds())}`);
  }
}
