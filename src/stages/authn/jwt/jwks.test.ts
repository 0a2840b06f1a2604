import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, type FlattenedJWSInput, generateKeyPair, type JWK } from 'jose';
import {
  createJsonFetcher,
  JwksCache,
  type JwksCacheOptions,
  JwksKeyUnknownError,
  JwksUnavailableError,
} from './jwks.ts';

const TOKEN: FlattenedJWSInput = { payload: '', signature: '' };
const header = (kid?: string) => (kid === undefined ? { alg: 'RS256' } : { alg: 'RS256', kid });

async function publicJwk(kid: string): Promise<JWK> {
  const { publicKey } = await generateKeyPair('RS256');
  return { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
}

/** A scripted identity provider: what it publishes, whether it is up, and every URL asked for. */
function fakeIdp(keys: JWK[]) {
  const idp = {
    keys,
    down: false,
    calls: [] as string[],
    fetchJson: async (url: string): Promise<unknown> => {
      idp.calls.push(url);
      if (idp.down) throw new Error('connect ECONNREFUSED');
      return { keys: idp.keys };
    },
  };
  return idp;
}

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

const TIMES = { refreshIntervalMs: 300_000, cooldownMs: 30_000, maxStaleMs: 3_600_000, timeoutMs: 5_000 };

function cache(
  idp: ReturnType<typeof fakeIdp>,
  c: ReturnType<typeof clock>,
  extra: Partial<JwksCacheOptions> = {},
) {
  return new JwksCache({
    jwksUri: 'https://idp.example/jwks',
    issuers: ['https://idp.example'],
    ...TIMES,
    now: c.now,
    fetchJson: idp.fetchJson,
    ...extra,
  });
}

describe('JwksCache', () => {
  let k1: JWK;
  let k2: JWK;
  before(async () => {
    k1 = await publicJwk('k1');
    k2 = await publicJwk('k2');
  });

  it('fetches on first use, then serves from the cache', async () => {
    const idp = fakeIdp([k1]);
    const c = clock();
    const jwks = cache(idp, c);
    assert.equal(jwks.hasKid('k1'), false);
    const key = await jwks.getKey(header('k1'), TOKEN);
    assert.equal(key.type, 'public');
    c.t += 60_000;
    await jwks.getKey(header('k1'), TOKEN);
    await jwks.getKey(header(), TOKEN); // no kid: selected by alg among the keys
    assert.equal(idp.calls.length, 1);
    assert.equal(jwks.hasKid('k1'), true);
  });

  it('re-fetches once for an unknown kid, then waits out the cooldown', async () => {
    const idp = fakeIdp([k1]);
    const c = clock();
    const jwks = cache(idp, c);
    await jwks.getKey(header('k1'), TOKEN);
    // Right after a fetch, an unknown kid causes no new one.
    await assert.rejects(jwks.getKey(header('k2'), TOKEN), JwksKeyUnknownError);
    assert.equal(idp.calls.length, 1);

    c.t += TIMES.cooldownMs;
    await assert.rejects(jwks.getKey(header('forged'), TOKEN), JwksKeyUnknownError);
    assert.equal(idp.calls.length, 2);
    // A flood of forged kids within the cooldown costs the IdP nothing.
    for (let i = 0; i < 20; i++)
      await assert.rejects(jwks.getKey(header(`forged-${i}`), TOKEN), JwksKeyUnknownError);
    assert.equal(idp.calls.length, 2);

    // The IdP rotates in k2: found on the first fetch after the cooldown.
    idp.keys = [k1, k2];
    c.t += TIMES.cooldownMs - 1;
    await assert.rejects(jwks.getKey(header('k2'), TOKEN), JwksKeyUnknownError);
    c.t += 1;
    const key = await jwks.getKey(header('k2'), TOKEN);
    assert.equal(key.type, 'public');
    assert.equal(idp.calls.length, 3);
  });

  it('serves stale keys while the IdP is down, for at most maxStale, then fails closed until it is back', async () => {
    const idp = fakeIdp([k1]);
    const c = clock();
    const errors: unknown[] = [];
    const jwks = cache(idp, c, { onError: (err) => errors.push(err) });
    const fetchedAt = c.t;
    await jwks.getKey(header('k1'), TOKEN);

    idp.down = true;
    c.t = fetchedAt + TIMES.refreshIntervalMs; // due for refresh: tried in the background, fails
    await jwks.getKey(header('k1'), TOKEN);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(idp.calls.length, 2);
    assert.equal(errors.length, 1);
    c.t = fetchedAt + TIMES.maxStaleMs;
    await jwks.getKey(header('k1'), TOKEN);

    c.t = fetchedAt + TIMES.maxStaleMs + 1;
    await assert.rejects(jwks.getKey(header('k1'), TOKEN), (err: unknown) => {
      assert.ok(err instanceof JwksUnavailableError);
      assert.match(err.message, /maxStale exceeded\); (last )?fetch failed: connect ECONNREFUSED/);
      return true;
    });
    const attempts = idp.calls.length;
    // Within the cooldown, refused without asking the IdP again.
    await assert.rejects(jwks.getKey(header('k1'), TOKEN), JwksUnavailableError);
    assert.equal(idp.calls.length, attempts);

    idp.down = false;
    c.t += TIMES.cooldownMs;
    const key = await jwks.getKey(header('k1'), TOKEN);
    assert.equal(key.type, 'public');
    assert.equal(idp.calls.length, attempts + 1);
  });

  it('refuses tokens when no key set was ever fetched', async () => {
    const idp = fakeIdp([k1]);
    idp.down = true;
    const c = clock();
    const jwks = cache(idp, c);
    await assert.rejects(
      jwks.getKey(header('k1'), TOKEN),
      /no keys fetched yet from https:\/\/idp.example\/jwks/,
    );
    await assert.rejects(jwks.getKey(header('k1'), TOKEN), JwksUnavailableError);
    assert.equal(idp.calls.length, 1);
    idp.down = false;
    c.t += TIMES.cooldownMs;
    await jwks.getKey(header('k1'), TOKEN);
  });

  it('coalesces concurrent fetches into one', async () => {
    const idp = fakeIdp([k1]);
    let resolve!: () => void;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    const jwks = cache(idp, clock(), {
      fetchJson: async (url) => {
        await promise;
        return idp.fetchJson(url);
      },
    });
    const pending = Array.from({ length: 10 }, () => jwks.getKey(header('k1'), TOKEN));
    resolve();
    const keys = await Promise.all(pending);
    assert.equal(keys.length, 10);
    assert.equal(idp.calls.length, 1);
  });

  it('keeps only public signature keys', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const idp = fakeIdp([
      k1,
      { ...k2, use: 'enc' },
      { ...(await exportJWK(privateKey)), kid: 'private' },
      { kty: 'oct', k: 'c2VjcmV0', kid: 'secret' },
    ]);
    const jwks = cache(idp, clock());
    await jwks.getKey(header('k1'), TOKEN);
    assert.deepEqual(
      ['k1', 'k2', 'private', 'secret'].map((kid) => jwks.hasKid(kid)),
      [true, false, false, false],
    );
  });

  it('treats a document that is not a usable key set as a failed fetch', async () => {
    for (const doc of [[], { keys: {} }, { keys: [1] }, { keys: [] }, { keys: [{ kty: 'oct', k: 'AA' }] }]) {
      const jwks = cache(fakeIdp([]), clock(), { fetchJson: async () => doc });
      await assert.rejects(jwks.getKey(header('k1'), TOKEN), JwksUnavailableError, JSON.stringify(doc));
    }
  });

  describe('discovery', () => {
    const discovery = (doc: unknown, keys: JWK[]) => {
      const calls: string[] = [];
      const fetchJson = async (url: string) => {
        calls.push(url);
        return url.endsWith('/.well-known/openid-configuration') ? doc : { keys };
      };
      return { calls, fetchJson };
    };
    const options = (fetchJson: (url: string) => Promise<unknown>, c = clock()) => ({
      discoveryUrl: 'https://idp.example/.well-known/openid-configuration',
      issuers: ['https://idp.example'],
      ...TIMES,
      now: c.now,
      fetchJson,
    });

    it('follows jwks_uri, and re-discovers on every refresh', async () => {
      const d = discovery({ issuer: 'https://idp.example', jwks_uri: 'https://keys.idp.example/jwks' }, [k1]);
      const c = clock();
      const jwks = new JwksCache(options(d.fetchJson, c));
      await jwks.getKey(header('k1'), TOKEN);
      c.t += TIMES.cooldownMs;
      await assert.rejects(jwks.getKey(header('k2'), TOKEN), JwksKeyUnknownError);
      assert.deepEqual(d.calls, [
        'https://idp.example/.well-known/openid-configuration',
        'https://keys.idp.example/jwks',
        'https://idp.example/.well-known/openid-configuration',
        'https://keys.idp.example/jwks',
      ]);
    });

    it('refuses a document whose issuer is not one of the configured issuers', async () => {
      const d = discovery({ issuer: 'https://evil.example', jwks_uri: 'https://evil.example/jwks' }, [k1]);
      const jwks = new JwksCache(options(d.fetchJson));
      await assert.rejects(jwks.getKey(header('k1'), TOKEN), (err: unknown) => {
        assert.ok(err instanceof JwksUnavailableError);
        assert.match(
          err.message,
          /discovery issuer "https:\/\/evil.example" is not one of https:\/\/idp.example/,
        );
        return true;
      });
      assert.equal(d.calls.length, 1, 'the evil jwks_uri is never fetched');
    });

    it('refuses a jwks_uri that is not http(s), or that downgrades https to http', async () => {
      for (const [uri, message] of [
        ['file:///etc/passwd', /not an http\(s\) URL/],
        [undefined, /not an http\(s\) URL/],
        ['http://idp.example/jwks', /downgrades to plain HTTP/],
      ] as const) {
        const d = discovery({ issuer: 'https://idp.example', jwks_uri: uri }, [k1]);
        await assert.rejects(new JwksCache(options(d.fetchJson)).getKey(header('k1'), TOKEN), message);
      }
    });
  });

  it('start() fetches now and every refreshInterval; close() stops', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const idp = fakeIdp([k1]);
    const jwks = cache(idp, clock());
    jwks.start();
    jwks.start(); // idempotent
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(idp.calls.length, 1);
    assert.equal(jwks.hasKid('k1'), true);
    for (let i = 0; i < 2; i++) {
      t.mock.timers.tick(TIMES.refreshIntervalMs);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(idp.calls.length, 3);
    jwks.close();
    jwks.close();
    t.mock.timers.tick(TIMES.refreshIntervalMs * 5);
    assert.equal(idp.calls.length, 3);
  });

  it('reports background failures through onError and keeps the old keys', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const idp = fakeIdp([k1]);
    const errors: unknown[] = [];
    const jwks = cache(idp, clock(), { onError: (err) => errors.push(err) });
    jwks.start();
    await new Promise((resolve) => setImmediate(resolve));
    idp.down = true;
    t.mock.timers.tick(TIMES.refreshIntervalMs);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(errors.length, 1);
    assert.equal(jwks.hasKid('k1'), true);
    jwks.close();
  });

  it('refuses bad options', () => {
    const base = { issuers: ['https://idp.example'], ...TIMES };
    assert.throws(() => new JwksCache(base), /exactly one of jwksUri and discoveryUrl/);
    assert.throws(
      () => new JwksCache({ ...base, jwksUri: 'https://a/jwks', discoveryUrl: 'https://a/.well-known/x' }),
      /exactly one/,
    );
    assert.throws(() => new JwksCache({ ...base, jwksUri: 'ftp://a/jwks' }), /not an http\(s\) URL/);
    assert.throws(() => new JwksCache({ ...base, jwksUri: 'https://a/jwks', cooldownMs: 0 }), /cooldownMs/);
  });
});

describe('createJsonFetcher against a real HTTP server', () => {
  let server: Server;
  let base: string;
  const fetcher = createJsonFetcher({ timeoutMs: 2_000, maxBytes: 1024 });
  before(async () => {
    server = createServer((req, res) => {
      switch (req.url) {
        case '/jwks':
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}');
          break;
        case '/redirect':
          res.writeHead(302, { location: '/jwks' }).end();
          break;
        case '/big':
          res.writeHead(200, { 'content-length': '4096' }).end('x'.repeat(4096));
          break;
        case '/big-chunked':
          res.writeHead(200);
          for (let i = 0; i < 8; i++) res.write('x'.repeat(512));
          res.end();
          break;
        case '/duplicate':
          res.writeHead(200).end('{"keys":[],"keys":[{}]}');
          break;
        case '/slow':
          res.writeHead(200); // and never finish
          res.write('{');
          break;
        default:
          res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    fetcher.close();
    server.closeAllConnections();
    server.close();
  });

  it('returns the parsed document of a 200', async () => {
    assert.deepEqual(await fetcher.fetchJson(`${base}/jwks`), { keys: [] });
  });

  it('refuses to follow a redirect', async () => {
    await assert.rejects(
      fetcher.fetchJson(`${base}/redirect`),
      /answered 302 \(redirects are not followed\)/,
    );
  });

  it('refuses any other status', async () => {
    await assert.rejects(fetcher.fetchJson(`${base}/missing`), /answered 404/);
  });

  it('refuses a body over the limit, declared or streamed', async () => {
    await assert.rejects(fetcher.fetchJson(`${base}/big`), /4096 bytes is over the 1024 byte limit/);
    await assert.rejects(fetcher.fetchJson(`${base}/big-chunked`), /over the 1024 byte limit/);
  });

  it('parses strictly (duplicate members refused)', async () => {
    await assert.rejects(fetcher.fetchJson(`${base}/duplicate`), /duplicate member "keys"/);
  });

  it('gives up after the timeout', async () => {
    const quick = createJsonFetcher({ timeoutMs: 100, maxBytes: 1024 });
    await assert.rejects(quick.fetchJson(`${base}/slow`));
    quick.close();
  });

  it('is what JwksCache uses by default', async () => {
    const jwks = new JwksCache({ jwksUri: `${base}/redirect`, issuers: ['x'], ...TIMES });
    await assert.rejects(jwks.getKey(header('k1'), TOKEN), /answered 302/);
    jwks.close();
  });
});
