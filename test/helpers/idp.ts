import { constants, createHmac, sign as cryptoSign, KeyObject, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

/**
 * A test identity provider on 127.0.0.1: a JWKS at `/jwks.json` and an OpenID Connect
 * discovery document at `/.well-known/openid-configuration` whose `issuer` is its own URL.
 * Keys are generated at test time (nothing is committed). Tokens are assembled by hand from
 * exact header and payload texts, so a test can produce anything an attacker could: duplicate
 * members, odd headers, non-canonical base64url, a signature by any key.
 */

export type SigningAlg = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'ES256' | 'ES384' | 'EdDSA';

export interface IdpKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public key as published (with `kid`, `alg` and `use: sig`). */
  readonly jwk: JWK;
  /** The public key as SPKI PEM. */
  readonly publicPem: string;
}

/** A fresh key pair for `alg` (RSA 2048 for RS and PS, P-256 or P-384 for ES). */
export async function generateKey(alg: SigningAlg, kid?: string): Promise<IdpKey> {
  const pair = await generateKeyPair(alg, { extractable: true });
  const id = kid ?? `${alg.toLowerCase()}-${randomBytes(4).toString('hex')}`;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: id, alg, use: 'sig' };
  const publicKey = KeyObject.from(pair.publicKey);
  return {
    kid: id,
    alg,
    privateKey: KeyObject.from(pair.privateKey),
    publicKey,
    jwk,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export function b64url(data: string | Uint8Array): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * The JWS signature of `input` (the ASCII `header.payload`) with `alg`: a private key for
 * public-key algorithms, any bytes for HS*.
 */
export function signature(alg: string, key: KeyObject | string | Uint8Array, input: string): Buffer {
  const bits = alg === 'EdDSA' ? '' : alg.slice(2);
  const hash = `sha${bits}`;
  const data = Buffer.from(input, 'ascii');
  if (alg.startsWith('HS')) {
    const secret = key instanceof KeyObject ? key.export() : Buffer.from(key);
    return createHmac(hash, secret).update(data).digest();
  }
  if (!(key instanceof KeyObject)) throw new TypeError(`${alg} signs with a KeyObject`);
  if (alg === 'EdDSA') return cryptoSign(null, data, key);
  if (alg.startsWith('RS')) return cryptoSign(hash, data, key);
  if (alg.startsWith('PS')) {
    return cryptoSign(hash, data, {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: Number(bits) / 8,
    });
  }
  if (alg.startsWith('ES')) return cryptoSign(hash, data, { key, dsaEncoding: 'ieee-p1363' });
  throw new TypeError(`cannot sign ${alg}`);
}

export interface TokenOptions {
  /** The signing key (default: the IdP's RS256 key). */
  readonly key?: IdpKey;
  /**
   * Header members over the default `{alg: key.alg, typ: 'JWT', kid: key.kid}`; a member set
   * to `undefined` is removed.
   */
  readonly header?: Record<string, unknown>;
  /** The exact header JSON text (replaces `header`). */
  readonly headerText?: string;
  /** The exact payload JSON text (replaces the claims). */
  readonly payloadText?: string;
  /** Sign with this algorithm and key material instead of `key` (e.g. HS256 with a public key's bytes). */
  readonly signWith?: { readonly alg: string; readonly key: KeyObject | string | Uint8Array };
  /** Replace the encoded signature (e.g. `''` for an unsigned token). */
  readonly signatureText?: string;
}

export interface TestIdp {
  /** `http://127.0.0.1:PORT`, also the `issuer`. */
  readonly url: string;
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUri: string;
  readonly discoveryUrl: string;
  /** The initial keys (published). */
  readonly rs256: IdpKey;
  readonly es256: IdpKey;
  /** Keys currently published in the JWKS. */
  readonly published: IdpKey[];
  /** GETs of /jwks.json answered (while up). */
  readonly jwksFetches: number;
  /** GETs of the discovery document answered (while up). */
  readonly discoveryFetches: number;
  /** Every request that reached the server, whatever its state or path. */
  readonly requests: { method: string; url: string; headers: IncomingMessage['headers'] }[];
  /** Overrides the discovery document's `issuer` (default: the IdP's URL). */
  discoveryIssuer: string | undefined;
  /** Default claims (`iss`, `aud`, `sub: alice`, `iat`, `exp` in 5 min) with `overrides` (`undefined` removes). */
  claims(overrides?: Record<string, unknown>): Record<string, unknown>;
  /** A compact JWS over `claims(overrides)` (or `options.payloadText`). */
  sign(overrides?: Record<string, unknown>, options?: TokenOptions): string;
  /** Generates a key for `alg` and publishes it beside the others (a key rollover). */
  rotate(alg?: SigningAlg, kid?: string): Promise<IdpKey>;
  publish(key: IdpKey): void;
  /** Stops publishing `key`. */
  retire(key: IdpKey): void;
  /**
   * Stops serving: `503` answers 503 to everything, `reset` destroys each connection without
   * an answer, `close` closes the listening socket (connection refused).
   */
  down(mode?: 'close' | 'reset' | '503'): Promise<void>;
  /** Serves again (on the same port after `close`). */
  up(): Promise<void>;
  close(): Promise<void>;
}

export interface IdpOptions {
  readonly audience?: string;
}

/** Start a test identity provider with an RS256 and an ES256 key published. */
export async function startIdp(options: IdpOptions = {}): Promise<TestIdp> {
  const rs256 = await generateKey('RS256');
  const es256 = await generateKey('ES256');
  const published: IdpKey[] = [rs256, es256];
  const requests: TestIdp['requests'] = [];
  const sockets = new Set<Socket>();
  let state: 'up' | 'close' | 'reset' | '503' = 'up';
  let jwksFetches = 0;
  let discoveryFetches = 0;
  let url = '';

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method!, url: req.url!, headers: req.headers });
    if (state === 'reset') {
      req.socket.destroy();
      return;
    }
    if (state === '503') return send(res, 503, { error: 'unavailable' });
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/jwks.json') {
      jwksFetches++;
      return send(res, 200, { keys: published.map((k) => k.jwk) });
    }
    if (req.method === 'GET' && path === '/.well-known/openid-configuration') {
      discoveryFetches++;
      return send(res, 200, {
        issuer: idp.discoveryIssuer ?? url,
        jwks_uri: `${url}/jwks.json`,
        authorization_endpoint: `${url}/authorize`,
        token_endpoint: `${url}/token`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      });
    }
    send(res, 404, { error: 'not found' });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}`;
  const audience = options.audience ?? 'rampart-test';

  const claims = (overrides: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const all: Record<string, unknown> = {
      iss: url,
      aud: audience,
      sub: 'alice',
      iat: now,
      exp: now + 300,
      ...overrides,
    };
    for (const [k, v] of Object.entries(all)) if (v === undefined) delete all[k];
    return all;
  };

  const idp: TestIdp = {
    url,
    issuer: url,
    audience,
    jwksUri: `${url}/jwks.json`,
    discoveryUrl: `${url}/.well-known/openid-configuration`,
    rs256,
    es256,
    published,
    get jwksFetches() {
      return jwksFetches;
    },
    get discoveryFetches() {
      return discoveryFetches;
    },
    requests,
    discoveryIssuer: undefined,
    claims,
    sign(overrides = {}, o: TokenOptions = {}) {
      const key = o.key ?? rs256;
      let headerText = o.headerText;
      if (headerText === undefined) {
        const header: Record<string, unknown> = { alg: key.alg, typ: 'JWT', kid: key.kid, ...o.header };
        for (const [k, v] of Object.entries(header)) if (v === undefined) delete header[k];
        headerText = JSON.stringify(header);
      }
      const payloadText = o.payloadText ?? JSON.stringify(claims(overrides));
      const input = `${b64url(headerText)}.${b64url(payloadText)}`;
      if (o.signatureText !== undefined) return `${input}.${o.signatureText}`;
      const sig = o.signWith
        ? signature(o.signWith.alg, o.signWith.key, input)
        : signature(key.alg, key.privateKey, input);
      return `${input}.${b64url(sig)}`;
    },
    async rotate(alg: SigningAlg = 'RS256', kid?: string) {
      const key = await generateKey(alg, kid);
      published.push(key);
      return key;
    },
    publish(key) {
      if (!published.includes(key)) published.push(key);
    },
    retire(key) {
      const i = published.indexOf(key);
      if (i >= 0) published.splice(i, 1);
    },
    async down(mode = '503') {
      state = mode;
      for (const s of sockets) s.destroy(); // kept-alive connections must not outlive the state
      if (mode === 'close') await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async up() {
      if (state === 'close') await listen(port);
      state = 'up';
    },
    async close() {
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return idp;
}
