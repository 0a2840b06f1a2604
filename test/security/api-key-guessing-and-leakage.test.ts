import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateApiKey, parseApiKey } from '../../src/stages/authn/apikey/format.ts';
import { KeyStore, type NewKey } from '../../src/stages/authn/apikey/store.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

/**
 * Attacks on API keys:
 * - Guessing: many secrets tried for one key id, spread over client addresses so no per-IP
 *   limit trips. Failures are counted per key id too: the id is locked out (429, Retry-After)
 *   even for the right secret, other keys keep working, and the lock lifts after `lockout`.
 * - Enumeration: an unknown id and a wrong secret are answered alike.
 * - Leakage: the key secret never appears in the access log (header, query, the scheme's own
 *   parameter names, refused and malformed keys) nor in a refusal body.
 */

const PEPPER = randomBytes(48).toString('base64');
const LOCKOUT_AFTER = 5;

const OPENAPI = `openapi: 3.1.0
info: { title: t, version: '1' }
components:
  securitySchemes:
    key: { type: apiKey, in: header, name: X-API-Key }
    qkey: { type: apiKey, in: query, name: api_key }
    partner: { type: apiKey, in: header, name: X-Partner-Credential }
    feed: { type: apiKey, in: query, name: ft }
paths:
  /items:
    get:
      operationId: listItems
      security: [{ key: [] }]
      responses: { '200': { description: ok } }
  /feed:
    get:
      operationId: getFeed
      security: [{ qkey: [] }, { feed: [] }]
      responses: { '200': { description: ok } }
  /partner:
    get:
      operationId: getPartner
      security: [{ partner: [] }]
      responses: { '200': { description: ok } }
`;

function config(upstreamUrl: string): string {
  return `version: 1
server: { listen: [{ host: 127.0.0.1, port: 0 }], trustedProxies: [127.0.0.1] }
log:
  access:
    destination: \${dir}/access.log
    requestHeaders: [x-api-key, x-partner-credential, user-agent]
upstreams: { backend: { url: ${upstreamUrl} } }
authn:
  bruteForce:
    window: 1m
    delayAfter: 100
    delay: 10ms
    maxDelay: 10ms
    lockoutAfter: ${LOCKOUT_AFTER}
    lockout: 2s
  keyStore: { file: keys.json, pepper: env:RAMPART_TEST_PEPPER }
  schemes:
    key: { apiKey: {} }
    qkey: { apiKey: {} }
    partner: { apiKey: {} }
    feed: { apiKey: {} }
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

const wrongSecret = (token: string) => `${token.slice(0, 20)}${randomBytes(32).toString('base64url')}`;
const secretOf = (token: string) => parseApiKey(token)!.secret;

/** A fresh client address per call (through the trusted proxy at 127.0.0.1). */
let address = 0;
const nextAddress = () => `198.51.100.${++address}`;

describe('attack: API key guessing and leakage', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  const tokens: Record<string, string> = {};

  before(async () => {
    process.env.RAMPART_TEST_PEPPER = PEPPER;
    let store = KeyStore.load('/nonexistent/keys.json', { allowMissing: true });
    const issue = (name: string, key: Omit<NewKey, 'kind'>) => {
      const issued = store.create({ kind: 'apiKey', ...key }, PEPPER, Date.now());
      store = issued.store;
      if (issued.secret.kind === 'apiKey') tokens[name] = issued.secret.token;
    };
    issue('victim', { owner: 'cust-victim' });
    issue('bystander', { owner: 'cust-bystander' });
    issue('leaky', { owner: 'cust-leaky' });
    issue('revoked', { owner: 'cust-revoked' });
    store = store.revoke(parseApiKey(tokens.revoked!)!.id, Date.now());
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: config(upstream.url),
      files: { 'openapi.yaml': OPENAPI, 'keys.json': JSON.stringify(store.toJSON()) },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  async function call(
    path: string,
    headers: Record<string, string> = {},
    from = nextAddress(),
  ): Promise<Answer> {
    const res = await fetch(`${gw.url}${path}`, { headers: { 'x-forwarded-for': from, ...headers } });
    const body = await res.text();
    return {
      status: res.status,
      body,
      headers: res.headers,
      requestId: res.headers.get('x-request-id') ?? '',
    };
  }
  const withKey = (token: string, from?: string) => call('/items', { 'x-api-key': token }, from);

  describe('guessing the secret of one key id from many addresses', () => {
    it('locks the key id out after the threshold: 429 with Retry-After, even for the right secret', async () => {
      const victim = tokens.victim!;
      for (let i = 1; i <= LOCKOUT_AFTER; i++) {
        const res = await withKey(wrongSecret(victim));
        assert.equal(res.status, 401, `guess ${i}`);
        assert.equal((await logLine(gw, res.requestId)).reason, 'api_key_invalid');
      }
      const before = upstream.seen.length;
      const right = await withKey(victim);
      assert.equal(right.status, 429, 'the right secret is refused while the key id is locked out');
      const retryAfter = Number(right.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 2, `Retry-After ${retryAfter}`);
      assert.equal((await logLine(gw, right.requestId)).reason, 'auth_locked_out');
      assert.equal(upstream.seen.length, before, 'nothing reaches the upstream');
    });

    it('keeps other keys working, from the same addresses the guesses came from', async () => {
      for (let i = 1; i <= LOCKOUT_AFTER; i++) {
        const res = await withKey(tokens.bystander!, `198.51.100.${i}`);
        assert.equal(res.status, 200, `from 198.51.100.${i}`);
        assert.equal(upstream.seen.at(-1)!.headers['x-principal-id'], 'cust-bystander');
      }
    });

    it('answers further guesses during the lockout like the right secret (no oracle)', async () => {
      const guess = await withKey(wrongSecret(tokens.victim!));
      assert.equal(guess.status, 429);
    });

    it('lets the right secret in again once the lockout has expired', async () => {
      await sleep(2100);
      const res = await withKey(tokens.victim!);
      assert.equal(res.status, 200);
      assert.equal(upstream.seen.at(-1)!.headers['x-principal-id'], 'cust-victim');
    });

    it('locks the key id out again when guessing resumes after the lockout', async () => {
      for (let i = 1; i <= LOCKOUT_AFTER; i++) {
        assert.equal((await withKey(wrongSecret(tokens.victim!))).status, 401, `guess ${i}`);
      }
      assert.equal((await withKey(tokens.victim!)).status, 429);
    });

    it('locks out one address guessing across many key ids (stuffing), not the others', async () => {
      const attacker = '203.0.113.66';
      for (let i = 0; i < LOCKOUT_AFTER; i++) {
        assert.equal((await withKey(generateApiKey().token, attacker)).status, 401);
      }
      const locked = await withKey(tokens.bystander!, attacker);
      assert.equal(locked.status, 429);
      assert.ok(Number(locked.headers.get('retry-after')) >= 1);
      assert.equal((await withKey(tokens.bystander!)).status, 200, 'another address is not locked');
    });
  });

  it('answers an unknown id and a wrong secret alike (no enumeration of key ids)', async () => {
    const unknown = await withKey(generateApiKey().token);
    const wrong = await withKey(wrongSecret(tokens.leaky!));
    const revokedWrong = await withKey(wrongSecret(tokens.revoked!));
    const shape = (a: Answer) => ({
      status: a.status,
      body: a.body.replaceAll(a.requestId, '<id>'),
      challenge: a.headers.get('www-authenticate'),
      type: a.headers.get('content-type'),
    });
    assert.equal(unknown.status, 401);
    assert.deepEqual(shape(wrong), shape(unknown));
    assert.deepEqual(shape(revokedWrong), shape(unknown));
    for (const a of [unknown, wrong, revokedWrong]) {
      assert.equal((await logLine(gw, a.requestId)).reason, 'api_key_invalid');
    }
  });

  describe('leakage', () => {
    it('never writes a key secret to the access log, wherever the key was sent', async () => {
      const leaky = tokens.leaky!;
      const enc = encodeURIComponent(leaky);
      const sent: Answer[] = [];
      // Accepted: in its header, in the query for the query schemes (both parameter names).
      sent.push(await withKey(leaky));
      sent.push(await call(`/feed?api_key=${enc}&page=2`));
      sent.push(await call(`/feed?ft=${enc}`));
      sent.push(await call('/partner', { 'x-partner-credential': leaky }));
      // Refused: in the query of a header scheme, given twice, malformed around the secret.
      sent.push(await call(`/items?api_key=${enc}`));
      sent.push(await call('/items', { 'x-api-key': `${leaky}, ${leaky}` }));
      sent.push(await call('/items', { 'x-api-key': `Bearer ${leaky}` }));
      sent.push(await call('/items', { 'x-api-key': `${leaky}=` }));
      sent.push(await call('/partner', { 'x-partner-credential': `${leaky}.` }));
      sent.push(await call(`/feed?ft=${enc}%0A`));
      // Refused for its state: a revoked key, with its right secret.
      sent.push(await withKey(tokens.revoked!));
      assert.deepEqual(
        sent.map((a) => a.status),
        [200, 200, 200, 200, 401, 401, 401, 401, 401, 401, 401],
      );
      await logLine(gw, sent.at(-1)!.requestId);

      const raw = readFileSync(gw.accessLogFile, 'utf8');
      for (const token of [leaky, tokens.revoked!]) {
        const secret = secretOf(token);
        assert.ok(!raw.includes(secret), 'a key secret is in access.log');
        assert.ok(!raw.includes(encodeURIComponent(secret)), 'a URL-encoded key secret is in access.log');
      }
      // The lines are still useful: they name the key's public id, and mark what was redacted.
      const lines = (await gw.readAccessLog()).filter((l) => sent.some((a) => a.requestId === l.reqId));
      assert.equal(lines.length, sent.length);
      assert.equal(lines[0]!.principal, 'cust-leaky');
      const logged = (i: number, name: string) => (lines[i]!.headers as Record<string, unknown>)[name];
      assert.equal(logged(0, 'x-api-key'), '[REDACTED]');
      // An accepted query key is dropped from the query (as the upstream gets it), or redacted.
      assert.match(String(lines[1]!.query), /^(api_key=\[REDACTED\]&)?page=2$/);
      assert.match(String(lines[2]!.query ?? ''), /^(ft=\[REDACTED\])?$/);
      assert.equal(lines[4]!.query, 'api_key=[REDACTED]', 'a refused one is redacted');
      assert.match(String(lines[9]!.query), /^ft=\[REDACTED\]$/);
      assert.equal(logged(3, 'x-partner-credential'), '[REDACTED]');
      assert.ok(raw.includes(parseApiKey(leaky)!.id), 'the public key id is logged');
    });

    it('never echoes the key (or its secret) in a refusal', async () => {
      for (const res of [
        await withKey(wrongSecret(tokens.leaky!)),
        await withKey(tokens.revoked!),
        await withKey(`Bearer ${tokens.leaky!}`),
      ]) {
        assert.equal(res.status, 401);
        assert.ok(!res.body.includes(secretOf(tokens.leaky!)));
        assert.ok(!res.body.includes(secretOf(tokens.revoked!)));
        assert.ok(!res.body.includes('rk_'), res.body);
        for (const [name, value] of res.headers) assert.ok(!value.includes('rk_'), name);
      }
    });
  });
});
