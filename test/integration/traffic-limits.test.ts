import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { KeyStore, type NewKey } from '../../src/stages/authn/apikey/store.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

/**
 * Rate limits, quotas and usage plans over real sockets, on the embedded memory store: the
 * edge limit refuses before authentication, a 429 carries `Retry-After` and the RateLimit
 * fields, a request refused by one limit is not counted by the others, plans bound to API keys
 * get their own limits and quotas, a key naming an undefined plan is refused, shadow limits only
 * record, and each decision names its limit in the access log.
 */

const PEPPER = randomBytes(32).toString('base64');

const OPENAPI = `openapi: 3.1.0
info: { title: t, version: '1' }
components:
  securitySchemes:
    key: { type: apiKey, in: header, name: X-API-Key }
paths:
  /public:
    get:
      operationId: getPublic
      security: [{}]
      responses: { '200': { description: ok } }
  /strict:
    get:
      operationId: getStrict
      security: [{}]
      responses: { '200': { description: ok } }
  /shadowed:
    get:
      operationId: getShadowed
      security: [{}]
      responses: { '200': { description: ok } }
  /tenant:
    get:
      operationId: getTenant
      security: [{}]
      responses: { '200': { description: ok } }
  /items:
    get:
      operationId: listItems
      security: [{ key: [] }]
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
traffic:
  plans:
    free:
      rateLimits: [{ name: free-rate, rate: 5, per: 1h }]
      quotas: [{ name: free-daily, limit: 3, per: day }]
    gold:
      rateLimits: [{ name: gold-rate, rate: 50, per: 1h }]
      quotas: [{ name: gold-monthly, limit: 1000, per: month }]
apis:
  t:
    openapi: openapi.yaml
    upstream: backend
    operations:
      getPublic:
        traffic:
          rateLimits: [{ name: per-ip, key: ip, rate: 3, per: 1h }]
      getStrict:
        traffic:
          rateLimits:
            - { name: wide, key: ip, rate: 10, per: 1h }
            - { name: narrow, key: global, rate: 2, per: 1h }
      getShadowed:
        traffic:
          rateLimits: [{ name: rehearsal, key: ip, rate: 1, per: 1h, mode: shadow }]
      getTenant:
        traffic:
          rateLimits: [{ name: per-tenant, key: 'header:X-Tenant', rate: 2, per: 1h }]
      listItems:
        traffic:
          rateLimits: [{ name: items-ip, key: ip, rate: 100, per: 1h }]
`;
}

interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

describe('rate limits, quotas and plans over real sockets (memory store)', () => {
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
    issue('free', { owner: 'cust-free', plan: 'free' });
    issue('gold', { owner: 'cust-gold', plan: 'gold' });
    issue('typo', { owner: 'cust-typo', plan: 'platinum' });
    issue('none', { owner: 'cust-none' });
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

  async function get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
    const res = await fetch(`${gw.url}${path}`, { headers });
    return { status: res.status, headers: res.headers, body: await res.text() };
  }

  it('admits the burst, then answers 429 with Retry-After, the RateLimit fields and a generic body', async () => {
    const statuses: number[] = [];
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const a = await get('/public');
      statuses.push(a.status);
      remaining.push(a.headers.get('ratelimit') ?? '');
      assert.equal(a.headers.get('ratelimit-policy'), '"per-ip";q=3;w=3600');
    }
    assert.deepEqual(statuses, [200, 200, 200]);
    assert.match(remaining[0]!, /^"per-ip";r=2;t=\d+$/);
    assert.match(remaining[2]!, /^"per-ip";r=0;t=\d+$/);
    const refused = await get('/public');
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('content-type'), 'application/problem+json');
    const retryAfter = Number(refused.headers.get('retry-after'));
    // One request every 1200 s comes back: the wait is that long, not the whole hour.
    assert.ok(retryAfter > 1100 && retryAfter <= 1200, `Retry-After ${retryAfter}`);
    assert.match(refused.headers.get('ratelimit') ?? '', /^"per-ip";r=0;t=\d+$/);
    const body = JSON.parse(refused.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['requestId', 'status', 'title', 'type']);
    assert.doesNotMatch(refused.body, /per-ip|rate/i, 'the limit is not named to the client');
    const line = await gw.logLine(String(body.requestId));
    assert.equal(line.reason, 'rate_limited');
    const decisions = line.decisions as { stage: string; policies: string[]; detail: string }[];
    assert.equal(decisions[0]!.stage, 'edge-limit');
    assert.deepEqual(decisions[0]!.policies, ['op:t.getPublic/per-ip']);
    assert.match(decisions[0]!.detail, /3 per 1h \(burst 3\) by ip/);
  });

  it('counts a request refused by one limit against none of the others', async () => {
    const first = await get('/strict');
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('ratelimit'), '"wide";r=9;t=360, "narrow";r=1;t=1800');
    assert.equal((await get('/strict')).status, 200);
    for (let i = 0; i < 3; i++) {
      const refused = await get('/strict');
      assert.equal(refused.status, 429);
      // `wide` still has 8 left: the refused requests were not charged to it.
      assert.match(refused.headers.get('ratelimit') ?? '', /^"wide";r=8;t=\d+, "narrow";r=0;t=\d+$/);
    }
  });

  it('lets a shadow limit record its refusal and serves the request', async () => {
    assert.equal((await get('/shadowed')).status, 200);
    const over = await get('/shadowed');
    assert.equal(over.status, 200);
    const line = await gw.logLine(over.headers.get('x-request-id')!);
    assert.equal(line.status, 200);
    const decisions = line.decisions as { stage: string; mode: string; reason: string; policies: string[] }[];
    assert.deepEqual(
      decisions.map((d) => [d.stage, d.mode, d.reason, d.policies]),
      [['edge-limit', 'shadow', 'rate_limited', ['op:t.getShadowed/rehearsal']]],
    );
  });

  it('keys a limit by a header, and counts requests without it by client IP', async () => {
    assert.equal((await get('/tenant', { 'x-tenant': 'acme' })).status, 200);
    assert.equal((await get('/tenant', { 'x-tenant': 'acme' })).status, 200);
    assert.equal((await get('/tenant', { 'x-tenant': 'acme' })).status, 429);
    assert.equal(
      (await get('/tenant', { 'x-tenant': 'globex' })).status,
      200,
      'another tenant has its own bucket',
    );
    assert.equal((await get('/tenant')).status, 200);
    assert.equal((await get('/tenant')).status, 200);
    assert.equal((await get('/tenant')).status, 429);
  });

  it('gives each API key the limits and quotas of its plan', async () => {
    const free = { 'x-api-key': tokens.free! };
    const a = await get('/items', free);
    assert.equal(a.status, 200);
    assert.equal(
      a.headers.get('ratelimit-policy'),
      '"items-ip";q=100;w=3600, "free-rate";q=5;w=3600, "free-daily";q=3;w=86400',
    );
    assert.match(a.headers.get('ratelimit') ?? '', /"free-rate";r=4;t=\d+, "free-daily";r=2;t=\d+$/);
    assert.equal((await get('/items', free)).status, 200);
    assert.equal((await get('/items', free)).status, 200);
    const refused = await get('/items', free);
    assert.equal(refused.status, 429);
    const line = await gw.logLine(refused.headers.get('x-request-id')!);
    assert.equal(line.reason, 'quota_exceeded');
    assert.deepEqual((line.decisions as { policies: string[] }[])[0]!.policies, ['plan:free/free-daily']);
    // The daily quota comes back at 00:00 UTC, not 24 h after the first request.
    const midnight = Math.ceil((86_400_000 - (Date.now() % 86_400_000)) / 1000);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(Math.abs(retryAfter - midnight) <= 2, `Retry-After ${retryAfter}, midnight in ${midnight}`);

    const gold = { 'x-api-key': tokens.gold! };
    for (let i = 0; i < 5; i++) assert.equal((await get('/items', gold)).status, 200);
    const g = await get('/items', gold);
    assert.match(
      g.headers.get('ratelimit-policy') ?? '',
      /"gold-monthly";q=1000;w=(2419200|2505600|2592000|2678400)$/,
    );
  });

  it('refuses a key bound to a plan the config does not define, and serves a key on no plan', async () => {
    const typo = await get('/items', { 'x-api-key': tokens.typo! });
    assert.equal(typo.status, 403);
    const line = await gw.logLine(typo.headers.get('x-request-id')!);
    assert.equal(line.reason, 'plan_unknown');
    const none = await get('/items', { 'x-api-key': tokens.none! });
    assert.equal(none.status, 200);
    assert.equal(none.headers.get('ratelimit-policy'), '"items-ip";q=100;w=3600');
  });

  it('counts a request at the edge limit before authentication refuses it', async () => {
    const noKey = await get('/items');
    assert.equal(noKey.status, 401);
    assert.match(
      noKey.headers.get('ratelimit') ?? '',
      /^"items-ip";r=\d+;t=\d+$/,
      'the edge limit counted it',
    );
  });
});
