import type { Readable } from 'node:stream';
import {
  type CompactJWSHeaderParameters,
  type CryptoKey,
  createLocalJWKSet,
  type FlattenedJWSInput,
  type JWK,
  type LocalJWKSet,
} from 'jose';
import { Agent, request } from 'undici';
import { parseStrictJson } from './strict-json.ts';

export interface JwksCacheOptions {
  /** Where the key set is published. Exactly one of `jwksUri` and `discoveryUrl`. */
  readonly jwksUri?: string;
  /** OpenID Connect discovery document (its `jwks_uri` is used; its `issuer` must be in `issuers`). */
  readonly discoveryUrl?: string;
  readonly issuers: readonly string[];
  readonly refreshIntervalMs: number;
  /** Shortest time between a fetch and one caused by an unknown `kid` (or retrying a failed fetch). */
  readonly cooldownMs: number;
  /** How long keys are served after the last successful fetch while fetches fail. */
  readonly maxStaleMs: number;
  readonly timeoutMs: number;
  /** Largest discovery or JWKS document accepted (default 512 KiB). */
  readonly maxBytes?: number;
  /** PEM CA certificates trusted for the fetches instead of the system store. */
  readonly ca?: Buffer;
  /** Clock in milliseconds since the epoch (default `Date.now`). */
  readonly now?: () => number;
  /** Replaces the HTTP fetcher (tests). */
  readonly fetchJson?: (url: string) => Promise<unknown>;
  /** Background refresh failures (the old keys keep serving). */
  readonly onError?: (err: unknown) => void;
}

/** The key set cannot be fetched and what is cached is too old to trust (or there is none). */
export class JwksUnavailableError extends Error {
  override readonly name = 'JwksUnavailableError';
}

/** The token's `kid` is not in the key set, even after a re-fetch. */
export class JwksKeyUnknownError extends Error {
  override readonly name = 'JwksKeyUnknownError';
}

interface KeySet {
  readonly lookup: LocalJWKSet;
  readonly kids: ReadonlySet<string>;
}

const DEFAULT_MAX_BYTES = 512 * 1024;
const MAX_TIMER_MS = 2 ** 31 - 1; // setInterval turns anything larger into 1 ms

/**
 * The signing keys of one issuer, fetched from its JWKS endpoint (directly or through OIDC
 * discovery) and refreshed in the background.
 *
 * Availability versus safety: while the identity provider cannot be reached, the last keys keep
 * serving for `maxStale` (a short IdP outage must not become a gateway outage); after that every
 * token is refused until a fetch succeeds (a key revoked at the IdP must stop working). Fetches
 * that tokens can cause (unknown `kid`, retries after a failure) are limited to one per
 * `cooldown`, so forged `kid`s cannot turn the gateway into a traffic amplifier against the IdP.
 */
export class JwksCache {
  readonly #options: JwksCacheOptions;
  readonly #now: () => number;
  readonly #fetcher: JsonFetcher | undefined;
  readonly #fetchJson: (url: string) => Promise<unknown>;
  #set: KeySet | undefined;
  #lastSuccess = Number.NEGATIVE_INFINITY;
  #lastAttempt = Number.NEGATIVE_INFINITY;
  #lastError: unknown;
  #inflight: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: JwksCacheOptions) {
    if ((options.jwksUri === undefined) === (options.discoveryUrl === undefined)) {
      throw new TypeError('JwksCache: set exactly one of jwksUri and discoveryUrl');
    }
    httpUrl(options.jwksUri ?? options.discoveryUrl);
    for (const name of ['refreshIntervalMs', 'cooldownMs', 'maxStaleMs', 'timeoutMs'] as const) {
      if (!(options[name] > 0)) throw new TypeError(`JwksCache: ${name} must be positive`);
    }
    this.#options = options;
    this.#now = options.now ?? Date.now;
    if (options.fetchJson) {
      this.#fetchJson = options.fetchJson;
    } else {
      const fetcher = createJsonFetcher({
        timeoutMs: options.timeoutMs,
        maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES,
        ca: options.ca,
      });
      this.#fetcher = fetcher;
      this.#fetchJson = fetcher.fetchJson;
    }
  }

  /** The configured JWKS or discovery URL. */
  get source(): string {
    return this.#options.jwksUri ?? this.#options.discoveryUrl!;
  }

  /** Whether the cached key set has a key with this `kid` (no fetch). */
  hasKid(kid: string): boolean {
    return this.#set?.kids.has(kid) ?? false;
  }

  /** A key resolver for `jose.jwtVerify` (a `JWTVerifyGetKey`). */
  readonly getKey = async (
    header: CompactJWSHeaderParameters,
    token: FlattenedJWSInput,
  ): Promise<CryptoKey> => {
    let set = await this.#usableSet();
    const { kid } = header;
    if (typeof kid === 'string' && !set.kids.has(kid)) {
      // Perhaps the IdP rotated keys since the last fetch: look once more, unless a fetch was
      // made within the cooldown (then the answer would be the same, or the kid is forged).
      if (this.#inflight) await this.#inflight.catch(() => {});
      else if (!this.#coolingDown()) {
        await this.#refresh().catch((err: unknown) => this.#options.onError?.(err));
      }
      set = this.#set!;
      if (!set.kids.has(kid))
        throw new JwksKeyUnknownError(`kid ${JSON.stringify(kid)} is not in the key set`);
    }
    return set.lookup(header, token);
  };

  /** Fetches the keys now and then every `refreshInterval` (the timer does not hold the process open). */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(
      () => this.#background(),
      Math.min(this.#options.refreshIntervalMs, MAX_TIMER_MS),
    );
    this.#timer.unref();
    this.#background();
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#fetcher?.close();
  }

  /** The cached set if it may still serve, else a fresh one (or JwksUnavailableError). */
  async #usableSet(): Promise<KeySet> {
    const age = this.#now() - this.#lastSuccess;
    if (this.#set && age <= this.#options.maxStaleMs) {
      // Refresh lazily too, so the keys stay fresh even if start() was never called.
      if (age >= this.#options.refreshIntervalMs && this.#mayFetch()) this.#background();
      return this.#set;
    }
    // No usable keys. After a failed fetch, wait out the cooldown instead of letting every
    // request hit an IdP that is down.
    if (!this.#inflight && this.#lastError !== undefined && this.#coolingDown()) {
      throw new JwksUnavailableError(`${this.#staleness()}; last fetch failed: ${message(this.#lastError)}`);
    }
    try {
      await this.#refresh();
    } catch (err) {
      throw new JwksUnavailableError(`${this.#staleness()}; fetch failed: ${message(err)}`, { cause: err });
    }
    return this.#set!;
  }

  #coolingDown(): boolean {
    return this.#now() - this.#lastAttempt < this.#options.cooldownMs;
  }

  #mayFetch(): boolean {
    return !this.#inflight && !this.#coolingDown();
  }

  #staleness(): string {
    if (this.#set === undefined) return `no keys fetched yet from ${this.source}`;
    const minutes = Math.round((this.#now() - this.#lastSuccess) / 60_000);
    return `keys from ${this.source} are ${minutes} min old (maxStale exceeded)`;
  }

  #background(): void {
    this.#refresh().catch((err: unknown) => this.#options.onError?.(err));
  }

  /** One fetch at a time: concurrent callers share the one in flight. */
  #refresh(): Promise<void> {
    this.#inflight ??= this.#load().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #load(): Promise<void> {
    this.#lastAttempt = this.#now();
    try {
      const set = buildKeySet(await this.#fetchJson(await this.#jwksUrl()));
      this.#set = set;
      this.#lastSuccess = this.#now();
      this.#lastError = undefined;
    } catch (err) {
      this.#lastError = err;
      throw err;
    }
  }

  /** OpenID Connect Discovery 1.0 §4: re-read on every refresh, so a moved `jwks_uri` is followed. */
  async #jwksUrl(): Promise<string> {
    const { jwksUri, discoveryUrl, issuers } = this.#options;
    if (jwksUri !== undefined) return jwksUri;
    const doc = await this.#fetchJson(discoveryUrl!);
    if (!isObject(doc)) throw new Error(`discovery document ${discoveryUrl} is not a JSON object`);
    // §4.3: the issuer must be exactly the one we trust, or the document speaks for someone else.
    if (typeof doc.issuer !== 'string' || !issuers.includes(doc.issuer)) {
      throw new Error(`discovery issuer ${JSON.stringify(doc.issuer)} is not one of ${issuers.join(', ')}`);
    }
    const url = httpUrl(doc.jwks_uri);
    // Keys found over TLS must not be fetched over plain HTTP (a downgrade anyone on the path could use).
    if (discoveryUrl!.startsWith('https:') && url.protocol !== 'https:') {
      throw new Error(`discovery jwks_uri ${url.href} downgrades to plain HTTP`);
    }
    return url.href;
  }
}

/** RFC 7517 §5: `{"keys": [...]}`. Only public signature keys are kept. */
function buildKeySet(doc: unknown): KeySet {
  if (!isObject(doc) || !Array.isArray(doc.keys)) throw new Error('JWKS document is not {"keys": [...]}');
  const keys: JWK[] = [];
  const kids = new Set<string>();
  for (const key of doc.keys) {
    if (!isObject(key)) throw new Error('JWKS member is not a JSON object');
    if (key.use !== undefined && key.use !== 'sig') continue; // RFC 7517 §4.2: e.g. encryption keys
    // A published symmetric or private key is an IdP mistake; whoever read it could sign tokens.
    if (key.kty === 'oct' || Object.hasOwn(key, 'd')) continue;
    keys.push(key as JWK);
    if (typeof key.kid === 'string') kids.add(key.kid);
  }
  // An empty set would refuse every token: treat it as a failed fetch so the old keys keep serving.
  if (keys.length === 0) throw new Error('JWKS document has no public signing keys');
  return { lookup: createLocalJWKSet({ keys }), kids };
}

export interface JsonFetcher {
  fetchJson(url: string): Promise<unknown>;
  close(): void;
}

/**
 * GETs a JSON document the way a key fetch must: bounded in time and size, no redirects (a 3xx
 * could point the fetch somewhere the operator never configured), 200 only, strict JSON.
 */
export function createJsonFetcher(options: {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly ca?: Buffer | undefined;
}): JsonFetcher {
  const { timeoutMs, maxBytes, ca } = options;
  let agent: Agent | undefined;
  return {
    async fetchJson(url: string): Promise<unknown> {
      if (ca) agent ??= new Agent({ connect: { ca, timeout: timeoutMs } });
      const res = await request(url, {
        method: 'GET',
        headers: { accept: 'application/json' },
        dispatcher: agent,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (res.statusCode !== 200) {
        discard(res.body);
        const hint = res.statusCode >= 300 && res.statusCode < 400 ? ' (redirects are not followed)' : '';
        throw new Error(`GET ${url} answered ${res.statusCode}${hint}`);
      }
      const declared = Number(res.headers['content-length']);
      if (declared > maxBytes) {
        discard(res.body);
        throw new Error(`GET ${url}: body of ${declared} bytes is over the ${maxBytes} byte limit`);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) break; // leaving the loop destroys the body
        chunks.push(chunk as Buffer);
      }
      if (size > maxBytes) throw new Error(`GET ${url}: body is over the ${maxBytes} byte limit`);
      const text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
      return parseStrictJson(text);
    },
    close(): void {
      agent?.close().catch(() => {});
      agent = undefined;
    },
  };
}

/** Drops a response body unread (the connection is closed rather than drained). */
function discard(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}

function httpUrl(value: unknown): URL {
  const url = typeof value === 'string' && URL.canParse(value) ? new URL(value) : undefined;
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new Error(`${JSON.stringify(value)} is not an http(s) URL`);
  }
  return url;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
