import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../scripts/gen-reference.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startIdp, type TestIdp } from '../helpers/idp.ts';

/**
 * The authz example (examples/authz) served over real sockets, with a test identity provider in
 * place of the one its config names: an allow and a deny for each worked case of
 * docs/concepts/authorization.md (owner checks, admin-only operations, tenant isolation, an
 * IP-restricted operation), the problem+json of a refusal, the access log's authz decisions
 * with the policy ids, and the example's own policy test file through `rampart authz test`.
 */

const EXAMPLE = join(REPO_ROOT, 'examples/authz');
/** The example's audience, kept so the test IdP's tokens are for the example's API. */
const AUDIENCE = 'https://api.example.com/orders';

/** `text` with `from` replaced by `to`; fails when the example no longer contains `from`. */
function rewrite(text: string, from: string | RegExp, to: string): string {
  const found = typeof from === 'string' ? text.includes(from) : from.test(text);
  assert.ok(found, `examples/authz/rampart.yaml no longer contains ${from}: update this test`);
  return text.replace(from, to);
}

/** The example's config pointed at `idp`, on a free port, with the access log in the temp folder. */
function exampleConfig(idp: TestIdp, edit: (text: string) => string = (t) => t): string {
  let text = readFileSync(join(EXAMPLE, 'rampart.yaml'), 'utf8');
  text = rewrite(text, 'port: 8081', 'port: 0');
  text = rewrite(text, 'issuers: [https://idp.example.com/]', `issuers: [${idp.issuer}]`);
  text = rewrite(text, /jwksUri: \S+/, `jwksUri: ${idp.jwksUri}`);
  assert.ok(!/^log:/m.test(text), 'the example sets no log section of its own');
  return `${edit(text)}\nlog:\n  access:\n    destination: \${dir}/access.log\n`;
}

/** Every file of the example folder but the config, to be written beside the rewritten config. */
function exampleFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(EXAMPLE)) {
    if (name !== 'rampart.yaml') files[name] = readFileSync(join(EXAMPLE, name), 'utf8');
  }
  return files;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  requestId: string;
}

interface CallOptions {
  readonly method?: string;
  readonly token?: string;
  /** The client socket's source address (any 127/8 address is loopback on Linux). */
  readonly localAddress?: string;
}

/** One request on a fresh connection, so `localAddress` is the client IP the gateway sees. */
function call(gw: TestGateway, path: string, options: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: gw.port,
        path,
        method: options.method ?? 'GET',
        headers,
        agent: false,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            requestId: String(res.headers['x-request-id'] ?? ''),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The access log line of a request (written once the exchange ended, so polled briefly). */
async function logLine(gw: TestGateway, requestId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 50; i++) {
    const line = (await gw.readAccessLog()).find((l) => l.reqId === requestId);
    if (line) return line;
    await sleep(20);
  }
  throw new Error(`no access log line for ${requestId}`);
}

interface LoggedDecision {
  stage: string;
  reason: string;
  status: number;
  mode: string;
  detail?: string;
  policies?: string[];
}

/** The authz decision of a request's log line (there is exactly one when authz decided). */
async function authzDecision(gw: TestGateway, answer: Answer): Promise<LoggedDecision> {
  const line = await logLine(gw, answer.requestId);
  const decisions = ((line.decisions ?? []) as LoggedDecision[]).filter((d) => d.stage === 'authz');
  assert.equal(decisions.length, 1, `one authz decision in ${JSON.stringify(line)}`);
  return decisions[0]!;
}

/**
 * Asserts a 403 refused by authz: a bare problem+json body (no reason, no policy id), and the
 * log line's `reason` and enforced authz decision with `reason` and, when given, `policies`.
 */
async function assertDenied(
  gw: TestGateway,
  answer: Answer,
  reason: string,
  policies?: readonly string[],
): Promise<LoggedDecision> {
  assert.equal(answer.status, 403, `want 403 ${reason}, got ${answer.status} ${answer.body}`);
  assert.equal(answer.headers['content-type'], 'application/problem+json');
  const body = JSON.parse(answer.body) as Record<string, unknown>;
  assert.deepEqual(body, {
    type: 'about:blank',
    title: 'Forbidden',
    status: 403,
    requestId: answer.requestId,
  });
  const line = await logLine(gw, answer.requestId);
  assert.equal(line.status, 403);
  assert.equal(line.reason, reason);
  const decision = await authzDecision(gw, answer);
  assert.equal(decision.reason, reason);
  assert.equal(decision.status, 403);
  assert.equal(decision.mode, 'enforce');
  if (policies !== undefined) assert.deepEqual(decision.policies, policies);
  return decision;
}

/** Asserts an answer from the mock (the request went through authz). */
function assertServed(answer: Answer, status: number): void {
  assert.equal(answer.status, status, `want ${status}, got ${answer.status} ${answer.body}`);
}

describe('the authz example (examples/authz)', () => {
  let idp: TestIdp;
  let gw: TestGateway;
  /** Tokens of the example's callers (issued by the test IdP). */
  let alice: string; // tenant acme, group staff
  let bob: string; // tenant globex, group staff
  let mallory: string; // tenant acme, group staff, holds the `admin` scope all the same
  let root: string; // group admin
  let carol: string; // no tenant claim

  before(async () => {
    idp = await startIdp({ audience: AUDIENCE });
    gw = await startTestGateway({ config: exampleConfig(idp), files: exampleFiles() });
    const user = 'orders:read orders:write projects:read';
    alice = idp.sign({ sub: 'alice', scope: user, tenant: 'acme', groups: ['staff'] });
    bob = idp.sign({ sub: 'bob', scope: user, tenant: 'globex', groups: ['staff'] });
    mallory = idp.sign({ sub: 'mallory', scope: `${user} admin`, tenant: 'acme', groups: ['staff'] });
    root = idp.sign({ sub: 'root', scope: 'admin', tenant: 'acme', groups: ['staff', 'admin'] });
    carol = idp.sign({ sub: 'carol', scope: user, groups: ['staff'] });
  });
  after(async () => {
    await gw?.stop();
    await idp?.close();
  });

  describe('owner checks (BOLA): only the user in the path reads or cancels its orders', () => {
    it('alice reads her own order: 200, allowed by the policy orders-owner', async () => {
      const res = await call(gw, '/v1/users/alice/orders/o-1', { token: alice });
      assertServed(res, 200);
      assert.equal((JSON.parse(res.body) as { id: string }).id, 'o-1');
      const decision = await authzDecision(gw, res);
      assert.equal(decision.reason, 'policy_allowed');
      assert.equal(decision.status, 0);
      assert.deepEqual(decision.policies, ['orders-owner']);
      assert.equal((await logLine(gw, res.requestId)).reason, undefined, 'an allow sets no reason');
    });

    it("alice reads bob's order: 403 policy_denied, no permit matches (default deny)", async () => {
      const res = await call(gw, '/v1/users/bob/orders/o-7', { token: alice });
      await assertDenied(gw, res, 'policy_denied', []);
      // ... while bob reads it.
      assertServed(await call(gw, '/v1/users/bob/orders/o-7', { token: bob }), 200);
    });

    it("alice cancels her own order, but neither cancels nor lists bob's", async () => {
      assertServed(
        await call(gw, '/v1/users/alice/orders/o-1/cancel', { method: 'POST', token: alice }),
        200,
      );
      const cancel = await call(gw, '/v1/users/bob/orders/o-7/cancel', { method: 'POST', token: alice });
      await assertDenied(gw, cancel, 'policy_denied', []);
      await assertDenied(gw, await call(gw, '/v1/users/bob/orders', { token: alice }), 'policy_denied', []);
    });
  });

  describe('admin-only operations (BFLA): operations tagged admin need the group admin', () => {
    it('a user outside the group, though holding the admin scope, cannot delete an account: 403 group_required', async () => {
      const res = await call(gw, '/v1/users/bob', { method: 'DELETE', token: mallory });
      const decision = await assertDenied(gw, res, 'group_required', []);
      assert.match(decision.detail ?? '', /tag admin/, 'the detail names the level whose rule refused');
    });

    it('an admin deletes an account: 204, allowed by the policy admin-operations', async () => {
      const res = await call(gw, '/v1/users/bob', { method: 'DELETE', token: root });
      assertServed(res, 204);
      assert.deepEqual((await authzDecision(gw, res)).policies, ['admin-operations']);
    });

    it('groups may be one string instead of an array', async () => {
      const single = idp.sign({ sub: 'root2', scope: 'admin', tenant: 'acme', groups: 'admin' });
      assertServed(await call(gw, '/v1/users/bob', { method: 'DELETE', token: single }), 204);
    });
  });

  describe('tenant isolation: the tenant claim must name the tenant in the path', () => {
    it('an acme token reads an acme project: 200', async () => {
      const res = await call(gw, '/v1/tenants/acme/projects/p-1', { token: alice });
      assertServed(res, 200);
      assert.deepEqual((await authzDecision(gw, res)).policies, ['projects-readers']);
      assertServed(await call(gw, '/v1/tenants/acme/projects', { token: alice }), 200);
    });

    it('an acme token reads a globex project: 403 policy_denied, forbidden by tenant-isolation', async () => {
      const res = await call(gw, '/v1/tenants/globex/projects/p-9', { token: alice });
      await assertDenied(gw, res, 'policy_denied', ['tenant-isolation']);
      const list = await call(gw, '/v1/tenants/globex/projects', { token: alice });
      await assertDenied(gw, list, 'policy_denied', ['tenant-isolation']);
      // ... while a globex token reads it.
      assertServed(await call(gw, '/v1/tenants/globex/projects/p-9', { token: bob }), 200);
    });

    it('a token without the tenant claim: 403 policy_error, the erroring forbid does not let the permit through', async () => {
      const res = await call(gw, '/v1/tenants/acme/projects/p-1', { token: carol });
      await assertDenied(gw, res, 'policy_error', ['tenant-isolation']);
    });

    it('a token without the tenant claim still reads its own orders: only policies that read the claim fail', async () => {
      assertServed(await call(gw, '/v1/users/carol/orders/o-3', { token: carol }), 200);
    });
  });

  describe('an IP-restricted operation: POST /v1/admin/reindex from 127.0.0.0/24 only', () => {
    it('an admin starts a reindex from 127.0.0.1: 202', async () => {
      const res = await call(gw, '/v1/admin/reindex', {
        method: 'POST',
        token: root,
        localAddress: '127.0.0.1',
      });
      assertServed(res, 202);
      assert.equal((await logLine(gw, res.requestId)).client, '127.0.0.1');
    });

    it('an admin starts a reindex from 127.0.1.1 (outside the allow list): 403 source_not_allowed', async () => {
      const res = await call(gw, '/v1/admin/reindex', {
        method: 'POST',
        token: root,
        localAddress: '127.0.1.1',
      });
      const decision = await assertDenied(gw, res, 'source_not_allowed', []);
      assert.match(decision.detail ?? '', /127\.0\.1\.1/);
      assert.equal((await logLine(gw, res.requestId)).client, '127.0.1.1');
    });

    it('the other operations are not restricted by network', async () => {
      const res = await call(gw, '/v1/users/alice/orders/o-1', { token: alice, localAddress: '127.0.1.1' });
      assertServed(res, 200);
    });

    it('the group rule still holds from the allowed network: 403 group_required', async () => {
      const res = await call(gw, '/v1/admin/reindex', {
        method: 'POST',
        token: mallory,
        localAddress: '127.0.0.1',
      });
      await assertDenied(gw, res, 'group_required');
    });
  });

  it('an anonymous caller reads the health check, allowed by health-public', async () => {
    const res = await call(gw, '/v1/health');
    assertServed(res, 200);
    assert.deepEqual((await authzDecision(gw, res)).policies, ['health-public']);
  });
});

describe('the authz example without its network rule', () => {
  let idp: TestIdp;
  let gw: TestGateway;
  let root: string;

  before(async () => {
    idp = await startIdp({ audience: AUDIENCE });
    // Drop `operations:` (the reindex network rule): the Cedar policy is the only fence left.
    const withoutNetworkRule = (text: string) => rewrite(text, /\n {4}operations:\n[\s\S]*$/, '\n');
    gw = await startTestGateway({ config: exampleConfig(idp, withoutNetworkRule), files: exampleFiles() });
    root = idp.sign({ sub: 'root', scope: 'admin', tenant: 'acme', groups: ['admin'] });
  });
  after(async () => {
    await gw?.stop();
    await idp?.close();
  });

  it('the Cedar policy reindex-from-ops-network still refuses 127.0.1.1 (policy_denied) and admits 127.0.0.1', async () => {
    const outside = await call(gw, '/v1/admin/reindex', {
      method: 'POST',
      token: root,
      localAddress: '127.0.1.1',
    });
    await assertDenied(gw, outside, 'policy_denied', ['reindex-from-ops-network']);
    const inside = await call(gw, '/v1/admin/reindex', {
      method: 'POST',
      token: root,
      localAddress: '127.0.0.1',
    });
    assertServed(inside, 202);
  });
});

describe('the authz example policy tests (examples/authz/policies.authz.yaml)', () => {
  it('pass with `rampart authz test --file`', async () => {
    const run = promisify(execFile);
    const args = [
      '--experimental-strip-types',
      '--disable-warning=ExperimentalWarning',
      join(REPO_ROOT, 'src/cli/main.ts'),
      'authz',
      'test',
      join(EXAMPLE, 'rampart.yaml'),
      '--file',
      join(EXAMPLE, 'policies.authz.yaml'),
    ];
    const result = await run(process.execPath, args, { cwd: REPO_ROOT }).catch(
      (err: { code?: number; stdout?: string; stderr?: string }) => err,
    );
    const code = 'code' in result ? result.code : 0;
    assert.equal(code, 0, `rampart authz test failed:\n${result.stdout}${result.stderr}`);
    assert.match(String(result.stdout), /tenant-isolation|pass/i);
  });
});
