import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateApiKey } from '../../src/stages/authn/apikey/format.ts';
import { isoTime, KeyStore, type NewKey } from '../../src/stages/authn/apikey/store.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

/**
 * API keys (`rk_<id>_<secret>`) over real sockets, checked against a key store file written
 * with the KeyStore API (as `rampart keys` does) and watched by the gateway: the principal is
 * the key's owner; wrong, unknown, malformed, revoked, expired and rotated keys are refused
 * with their reason; a key is read only where its OpenAPI scheme says (header or query);
 * scopes are enforced; a corrupted store refuses every key until it is fixed (fail closed).
 */

const PEPPER = randomBytes(32).toString('base64');

const OPENAPI = `openapi: 3.1.0
info: { title: t, version: '1' }
components:
  securitySchemes:
    key: { type: apiKey, in: header, name: X-API-Key }
    qkey: { type: apiKey, in: query, name: api_key }
paths:
  /items:
    get:
      operationId: listItems
      security: [{ key: [] }]
      responses: { '200': { description: ok } }
  /orders:
    post:
      operationId: createOrder
      security: [{ key: [orders:write] }]
      responses: { '200': { description: ok } }
  /feed:
    get:
      operationId: getFeed
      security: [{ qkey: [] }]
      responses: { '200': { description: ok } }
`;

function config(upstreamUrl: string): string {
  return `version: 1
server: { listen: [{ host: 127.0.0.1, port: 0 }] }
log: { access: { destination: \${dir}/access.log } }
upstreams: { backend: { url: ${upstreamUrl} } }
authn:
  bruteForce: { enabled: false }
  keyStore: { file: keys.json, pepper: env:RAMPART_TEST_PEPPER }
  schemes:
    key: { apiKey: {} }
    qkey: { apiKey: {} }
apis: { t: { openapi: openapi.yaml, upstream: backend } }
`;
}

interface Answer {
  status: number;
  body: string;
  headers: Headers;
  requestId: string;
}

async function logLine(gw: TestGateway, requestId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 50; i++) {
    const line = (await gw.readAccessLog()).find((l) => l.reqId === requestId);
    if (line) return line;
    await sleep(20);
  }
  throw new Error(`no access log line for ${requestId}`);
}

/** Repeats `probe` until it returns true or `ms` pass; returns the time it took. */
async function until(ms: number, probe: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await probe()) return Date.now() - start;
    await sleep(50);
  }
  throw new Error(`condition not met within ${ms} ms`);
}

/** A well-formed token that no store holds. */
const strangerToken = () => generateApiKey().token;

/** The id of `token` with another (well-formed) secret. */
const wrongSecret = (token: string) => `${token.slice(0, 20)}${randomBytes(32).toString('base64url')}`;

describe('API keys over real sockets', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  let store: KeyStore;
  let storeFile: string;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};

  function issue(name: string, key: Omit<NewKey, 'kind'>) {
    const issued = store.create({ kind: 'apiKey', ...key }, PEPPER, Date.now());
    store = issued.store;
    assert.equal(issued.secret.kind, 'apiKey');
    if (issued.secret.kind === 'apiKey') tokens[name] = issued.secret.token;
    ids[name] = issued.record.id;
  }

  before(async () => {
    process.env.RAMPART_TEST_PEPPER = PEPPER;
    store = KeyStore.load('/nonexistent/keys.json', { allowMissing: true });
    issue('alice', { owner: 'cust-alice', scopes: ['orders:read'], plan: 'free' });
    issue('writer', { owner: 'cust-writer', scopes: ['orders:read', 'orders:write'] });
    issue('revokee', { owner: 'cust-revoked' });
    issue('expired', { owner: 'cust-expired', expiresAt: isoTime(Date.now() - 60_000) });
    issue('rotator', { owner: 'cust-rotating' });
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: config(upstream.url),
      files: { 'openapi.yaml': OPENAPI, 'keys.json': JSON.stringify(store.toJSON()) },
    });
    storeFile = join(gw.dir, 'keys.json');
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  async function call(
    path: string,
    headers: Record<string, string> | [string, string][] = {},
    method = 'GET',
  ): Promise<Answer> {
    const res = await fetch(`${gw.url}${path}`, { method, headers });
    const body = await res.text();
    return {
      status: res.status,
      body,
      headers: res.headers,
      requestId: res.headers.get('x-request-id') ?? '',
    };
  }

  const withKey = (token: string, path = '/items', method = 'GET') =>
    call(path, { 'x-api-key': token }, method);

  /** Asserts `status` with `reason` in the access log, and that the upstream was not called. */
  async function assertRefused(res: Promise<Answer>, reason: string, status = 401): Promise<Answer> {
    const before = upstream.seen.length;
    const answer = await res;
    const line = await logLine(gw, answer.requestId);
    assert.equal(
      answer.status,
      status,
      `want ${status} ${reason}, got ${answer.status} (${String(line.reason)})`,
    );
    assert.equal(line.reason, reason);
    assert.equal(upstream.seen.length, before, 'the upstream never sees a refused request');
    return answer;
  }

  it('serves a valid key; the upstream sees the owner as principal', async () => {
    const before = upstream.seen.length;
    const res = await withKey(tokens.alice!);
    assert.equal(res.status, 200);
    assert.equal(upstream.seen.length, before + 1);
    const seen = upstream.seen.at(-1)!;
    assert.equal(seen.headers['x-principal-id'], 'cust-alice');
    assert.equal(seen.headers['x-principal-kind'], 'apiKey');
    assert.equal((await logLine(gw, res.requestId)).principal, 'cust-alice');
  });

  it('does not pass the API key on to the upstream (header or query parameter)', async () => {
    assert.equal((await withKey(tokens.alice!)).status, 200);
    const viaHeader = upstream.seen.at(-1)!;
    assert.equal(viaHeader.headers['x-api-key'], undefined);
    assert.ok(!viaHeader.rawHeaders.some((v) => v.includes(tokens.alice!)));

    const res = await call(`/feed?page=2&api_key=${encodeURIComponent(tokens.alice!)}&sort=a%20b`);
    assert.equal(res.status, 200);
    assert.equal(
      upstream.seen.at(-1)!.url,
      '/feed?page=2&sort=a%20b',
      'the other parameters are kept as sent',
    );
  });

  it('refuses a wrong secret for a known id (api_key_invalid)', async () => {
    const res = await assertRefused(withKey(wrongSecret(tokens.alice!)), 'api_key_invalid');
    assert.ok(!res.body.includes(ids.alice!), 'the refusal does not echo the key id');
  });

  it('refuses an unknown id (api_key_invalid, indistinguishable from a wrong secret)', async () => {
    await assertRefused(withKey(strangerToken()), 'api_key_invalid');
  });

  for (const [what, token] of [
    ['a truncated key', () => tokens.alice!.slice(0, -1)],
    ['a key with a trailing character', () => `${tokens.alice!}x`],
    ['an upper-case prefix', () => `RK_${tokens.alice!.slice(3)}`],
    ['a Bearer prefix', () => `Bearer ${tokens.alice!}`],
    ['an id with characters outside base32', () => `rk_${'0'.repeat(16)}${tokens.alice!.slice(19)}`],
    ['random text', () => 'letmein'],
  ] as const) {
    it(`refuses a malformed key: ${what} (api_key_invalid)`, async () => {
      await assertRefused(withKey(token()), 'api_key_invalid');
    });
  }

  it('refuses a key header sent twice, even when both copies are valid (api_key_invalid)', async () => {
    await assertRefused(
      call('/items', [
        ['x-api-key', tokens.alice!],
        ['x-api-key', tokens.alice!],
      ]),
      'api_key_invalid',
    );
  });

  it('answers a request without a key 401 unauthenticated', async () => {
    await assertRefused(call('/items'), 'unauthenticated');
  });

  it('refuses an expired key (api_key_expired), but a wrong secret for it is api_key_invalid', async () => {
    await assertRefused(withKey(tokens.expired!), 'api_key_expired');
    await assertRefused(withKey(wrongSecret(tokens.expired!)), 'api_key_invalid');
  });

  describe('where the key is read', () => {
    it('does not take a key from the query string for a header scheme', async () => {
      const token = encodeURIComponent(tokens.alice!);
      await assertRefused(call(`/items?api_key=${token}`), 'unauthenticated');
      await assertRefused(call(`/items?X-API-Key=${token}`), 'unauthenticated');
    });

    it('accepts the key in the query for the query scheme', async () => {
      const before = upstream.seen.length;
      const res = await call(`/feed?api_key=${encodeURIComponent(tokens.alice!)}`);
      assert.equal(res.status, 200);
      assert.equal(upstream.seen.length, before + 1);
      assert.equal(upstream.seen.at(-1)!.headers['x-principal-id'], 'cust-alice');
    });

    it('does not take a key from a header for the query scheme', async () => {
      await assertRefused(
        call('/feed', { 'x-api-key': tokens.alice!, api_key: tokens.alice! }),
        'unauthenticated',
      );
    });

    it('refuses a query key given twice (api_key_invalid)', async () => {
      const token = encodeURIComponent(tokens.alice!);
      await assertRefused(call(`/feed?api_key=${token}&api_key=${token}`), 'api_key_invalid');
    });
  });

  describe('scopes', () => {
    it('refuses a key without the required scope (403 insufficient_scope)', async () => {
      await assertRefused(withKey(tokens.alice!, '/orders', 'POST'), 'insufficient_scope', 403);
    });

    it('serves a key with it', async () => {
      const res = await withKey(tokens.writer!, '/orders', 'POST');
      assert.equal(res.status, 200);
      assert.equal(upstream.seen.at(-1)!.headers['x-principal-id'], 'cust-writer');
    });
  });

  describe('changes to the key store, picked up without a reload', () => {
    it('refuses a revoked key (api_key_revoked); a wrong secret for it stays api_key_invalid', async () => {
      assert.equal((await withKey(tokens.revokee!)).status, 200);
      store = store.revoke(ids.revokee!, Date.now());
      store.save(storeFile);
      const took = await until(3000, async () => (await withKey(tokens.revokee!)).status === 401);
      assert.ok(took < 2500, `revocation took ${took} ms`);
      await assertRefused(withKey(tokens.revokee!), 'api_key_revoked');
      await assertRefused(withKey(wrongSecret(tokens.revokee!)), 'api_key_invalid');
      assert.equal((await withKey(tokens.alice!)).status, 200, 'other keys are unaffected');
    });

    it('rotation: old and new keys both work during the overlap, the old one is refused after it', async () => {
      const overlapMs = 2000;
      const rotatedAt = Date.now();
      const rotated = store.rotate(ids.rotator!, overlapMs, rotatedAt, PEPPER);
      store = rotated.store;
      assert.equal(rotated.secret.kind, 'apiKey');
      const fresh = rotated.secret.kind === 'apiKey' ? rotated.secret.token : '';
      store.save(storeFile);

      await until(1800, async () => (await withKey(fresh)).status === 200);
      assert.ok(Date.now() < rotatedAt + overlapMs - 100, 'the overlap is still running');
      const old = await withKey(tokens.rotator!);
      assert.equal(old.status, 200, 'the old key still works during the overlap');
      assert.equal(upstream.seen.at(-1)!.headers['x-principal-id'], 'cust-rotating');

      await sleep(rotatedAt + overlapMs + 50 - Date.now());
      await assertRefused(withKey(tokens.rotator!), 'api_key_expired');
      const res = await withKey(fresh);
      assert.equal(res.status, 200, 'the new key keeps working');
      assert.equal(upstream.seen.at(-1)!.headers['x-principal-id'], 'cust-rotating');
    });

    it('fails closed while the store file is corrupted (key_store_unavailable), recovers when fixed', async () => {
      writeFileSync(storeFile, '{"version": 1, "keys": [ {"id": ');
      await until(3000, async () => (await withKey(tokens.alice!)).status === 401);
      await assertRefused(withKey(tokens.alice!), 'key_store_unavailable');
      await assertRefused(
        call(`/feed?api_key=${encodeURIComponent(tokens.alice!)}`),
        'key_store_unavailable',
      );

      // Valid JSON that does not validate is just as unavailable.
      writeFileSync(storeFile, JSON.stringify({ version: 2, keys: [] }));
      await sleep(1200);
      await assertRefused(withKey(tokens.writer!), 'key_store_unavailable');

      store.save(storeFile);
      await until(3000, async () => (await withKey(tokens.alice!)).status === 200);
      assert.equal(upstream.seen.at(-1)!.headers['x-principal-id'], 'cust-alice');
      await assertRefused(withKey(tokens.revokee!), 'api_key_revoked');
    });
  });
});
