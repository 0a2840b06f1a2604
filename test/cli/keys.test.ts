import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KeyStore } from '../../src/stages/authn/apikey/store.ts';
import { unsealSigV4Secret, verifyApiKey } from '../../src/stages/authn/apikey/verify.ts';
import { SIMPLE_OPENAPI } from '../helpers/gateway.ts';
import { CLI } from '../integration/support/gateway-process.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const HOUR = 3_600_000;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const config = (keyStore: string) => `version: 1
apis:
  shop:
    openapi: openapi.yaml
    mock: true
authn:
  keyStore:
${keyStore}
`;

describe('rampart keys', () => {
  let dir: string;
  let configFile: string;
  let storeFile: string;
  const pepper = randomBytes(32).toString('base64url');

  function rampart(args: string[], env: Record<string, string> = {}): Promise<Run> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [...CLI, ...args],
        { cwd: ROOT, timeout: 30_000, env: { ...process.env, RAMPART_TEST_PEPPER: pepper, ...env } },
        (err, stdout, stderr) => {
          const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
          resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
        },
      );
    });
  }

  /** `rampart keys <args> --config <the test config>`. */
  const keys = (...args: string[]) => rampart(['keys', ...args, '--config', configFile]);
  const store = () => KeyStore.load(storeFile);

  async function create(...args: string[]): Promise<string> {
    const run = await keys('create', ...args);
    assert.equal(run.code, 0, run.stderr);
    return run.stdout.trim();
  }

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rampart-keys-'));
    configFile = join(dir, 'rampart.yaml');
    storeFile = join(dir, 'keys.json');
    writeFileSync(join(dir, 'openapi.yaml'), SIMPLE_OPENAPI);
    writeFileSync(
      configFile,
      config('    file: keys.json\n    pepper: env:RAMPART_TEST_PEPPER\n    rotationOverlap: 1h'),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is listed by rampart --help and has its own --help', async () => {
    const help = await rampart(['--help']);
    assert.match(help.stdout, /^ {2}keys /m);
    const own = await rampart(['keys', '--help']);
    assert.equal(own.code, 0);
    assert.match(own.stdout, /^Usage: rampart keys <create\|list\|revoke\|rotate>/);
  });

  it('create prints the key once; the store keeps a hash that verifies it, in a 0600 file', async () => {
    const run = await keys('create', '--owner', 'alice', '--scopes', 'read,write', '--plan', 'pro');
    assert.equal(run.code, 0, run.stderr);
    const token = run.stdout.trim();
    assert.match(token, /^rk_[a-z2-7]{16}_[A-Za-z0-9_-]{43}$/);
    assert.equal(run.stdout, `${token}\n`, 'stdout is the key alone, for scripts');
    assert.match(run.stderr, /shown only now/);

    const verdict = verifyApiKey(token, store(), pepper, Date.now());
    assert.ok(verdict.ok, JSON.stringify(verdict));
    assert.equal(verdict.record.owner, 'alice');
    assert.deepEqual(verdict.record.scopes, ['read', 'write']);
    assert.equal(verdict.record.plan, 'pro');
    assert.equal(verdict.record.expiresAt, undefined);

    const secret = token.split('_').slice(2).join('_');
    assert.ok(!readFileSync(storeFile, 'utf8').includes(secret), 'the secret is not stored');
    assert.ok(!readFileSync(storeFile, 'utf8').includes(pepper), 'nor the pepper');
    assert.equal(statSync(storeFile).mode & 0o777, 0o600);
  });

  it('create --sigv4 prints an access key id and secret; the store keeps the secret sealed', async () => {
    const run = await keys('create', '--owner', 'ci-bot', '--sigv4', '--scopes', 'deploy');
    assert.equal(run.code, 0, run.stderr);
    const m = /^access key id: (RK[A-Z2-7]{18})\nsecret access key: ([A-Za-z0-9+/]{40})\n$/.exec(run.stdout);
    assert.ok(m, run.stdout);
    const record = store().get(m[1]!)!;
    assert.equal(record.kind, 'sigv4');
    assert.equal(unsealSigV4Secret(record, pepper), m[2]);
    assert.ok(!readFileSync(storeFile, 'utf8').includes(m[2]!));
  });

  it('create --expires sets the expiry from now', async () => {
    const before = Date.now();
    const token = await create('--owner', 'temp', '--expires', '12h', '--description', 'short-lived');
    const v = verifyApiKey(token, store(), pepper, Date.now());
    assert.ok(v.ok);
    const expires = Date.parse(v.record.expiresAt!);
    assert.ok(expires >= before + 12 * HOUR && expires <= Date.now() + 12 * HOUR, v.record.expiresAt);
    assert.equal(v.record.description, 'short-lived');
    const late = verifyApiKey(token, store(), pepper, expires);
    assert.equal(!late.ok && late.reason, 'api_key_expired');
  });

  it('list shows every key and its status, never a hash or sealed secret', async () => {
    await create('--owner', 'listed');
    const secrets = store()
      .list()
      .map((r) => r.hash ?? r.sealed!);
    const text = await keys('list');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^ID\s+KIND\s+OWNER\s+SCOPES\s+PLAN\s+CREATED\s+EXPIRES\s+STATUS$/m);
    for (const r of store().list())
      assert.match(text.stdout, new RegExp(`^${r.id}\\s+${r.kind}\\s+${r.owner}\\s`, 'm'));
    const json = await keys('list', '--format', 'json');
    assert.equal(json.code, 0, json.stderr);
    const entries = JSON.parse(json.stdout) as Record<string, unknown>[];
    assert.equal(entries.length, store().list().length);
    for (const e of entries) {
      assert.ok(!('hash' in e) && !('sealed' in e));
      assert.ok(['active', 'rotating', 'expired', 'revoked'].includes(e.status as string));
    }
    for (const s of secrets) {
      assert.ok(!text.stdout.includes(s) && !json.stdout.includes(s), 'no hash or sealed value printed');
      assert.ok(!text.stdout.includes(s.slice(0, 16)) && !json.stdout.includes(s.slice(0, 16)));
    }
  });

  it('revoke makes the key answer api_key_revoked', async () => {
    const token = await create('--owner', 'bob');
    const id = token.split('_')[1]!;
    const run = await keys('revoke', id);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`revoked ${id}`));
    const v = verifyApiKey(token, store(), pepper, Date.now());
    assert.equal(!v.ok && v.reason, 'api_key_revoked');
    const list = JSON.parse((await keys('list', '--format', 'json')).stdout) as {
      id: string;
      status: string;
    }[];
    assert.equal(list.find((e) => e.id === id)?.status, 'revoked');
    const again = await keys('revoke', id);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /already revoked/);
  });

  it('rotate prints a new key; both verify during the overlap (config default), then only the new one', async () => {
    const old = await create('--owner', 'carol', '--scopes', 'read');
    const oldId = old.split('_')[1]!;
    const start = Date.now();
    const run = await keys('rotate', oldId);
    assert.equal(run.code, 0, run.stderr);
    const fresh = run.stdout.trim();
    assert.match(fresh, /^rk_[a-z2-7]{16}_[A-Za-z0-9_-]{43}$/);
    assert.notEqual(fresh, old);
    assert.match(run.stderr, new RegExp(`replaces ${oldId}`));

    const s = store();
    const cutoff = Date.parse(s.get(oldId)!.expiresAt!);
    assert.ok(cutoff >= start + HOUR && cutoff <= Date.now() + HOUR, 'rotationOverlap: 1h from the config');
    const now = Date.now();
    for (const token of [old, fresh]) assert.ok(verifyApiKey(token, s, pepper, now).ok);
    const newRecord = verifyApiKey(fresh, s, pepper, now);
    assert.ok(newRecord.ok && newRecord.record.owner === 'carol');
    assert.deepEqual(newRecord.ok && newRecord.record.scopes, ['read']);
    const after = verifyApiKey(old, s, pepper, cutoff);
    assert.equal(!after.ok && after.reason, 'api_key_expired');
    assert.ok(verifyApiKey(fresh, s, pepper, cutoff).ok);

    const status = JSON.parse((await keys('list', '--format', 'json')).stdout) as {
      id: string;
      status: string;
    }[];
    assert.equal(status.find((e) => e.id === oldId)?.status, 'rotating');

    const twice = await keys('rotate', oldId);
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /already rotated/);
  });

  it('rotate --overlap overrides the configured overlap', async () => {
    const old = await create('--owner', 'dave');
    const oldId = old.split('_')[1]!;
    const start = Date.now();
    const run = await keys('rotate', oldId, '--overlap', '10m');
    assert.equal(run.code, 0, run.stderr);
    const cutoff = Date.parse(store().get(oldId)!.expiresAt!);
    assert.ok(cutoff >= start + 10 * 60_000 && cutoff <= Date.now() + 10 * 60_000);
  });

  describe('errors', () => {
    it('an unknown or missing subcommand, or a missing argument, exits 64', async () => {
      const cases = [['frobnicate'], [], ['create'], ['revoke'], ['rotate', 'a', 'b'], ['list', 'x']];
      const runs = await Promise.all(cases.map((args) => keys(...args)));
      for (const [i, run] of runs.entries()) {
        assert.equal(run.code, 64, `${cases[i]!.join(' ')}: ${run.stderr}`);
        assert.match(run.stderr, /^RAMPART_ERR_CLI_USAGE: /);
        assert.equal(run.stdout, '');
      }
      assert.match((await keys('frobnicate')).stderr, /unknown subcommand "frobnicate"/);
      assert.match((await keys('create')).stderr, /needs --owner/);
    });

    it('an option that does not apply, or a bad value, exits 64 before anything is written', async () => {
      const before = readFileSync(storeFile, 'utf8');
      const cases: [string[], RegExp][] = [
        [['list', '--owner', 'x'], /--owner does not apply to "keys list"/],
        [['create', '--owner', 'x', '--expires', '5y'], /--expires must be a duration/],
        [['create', '--owner', 'x', '--expires', '0d'], /--expires must be a duration/],
        [['create', '--owner', 'x', '--scopes', 'a,,b'], /--scopes: "" is not a scope/],
        [['create', '--owner', 'x\ny'], /--owner must be/],
        [['create', '--owner', 'x', '--plan', 'a b'], /--plan must be/],
        [['rotate', 'abcdefghijklmnop', '--overlap', 'soon'], /--overlap must be a duration/],
        [['list', '--format', 'xml'], /--format must be text or json/],
        [['create', '--owner', 'x', '--bogus'], /--bogus/],
      ];
      const runs = await Promise.all(cases.map(([args]) => keys(...args)));
      for (const [i, run] of runs.entries()) {
        assert.equal(run.code, 64, `${cases[i]![0].join(' ')}: ${run.stderr}`);
        assert.match(run.stderr, cases[i]![1]);
      }
      assert.equal(readFileSync(storeFile, 'utf8'), before);
    });

    it('an unknown key id exits 2 with RAMPART_ERR_CONFIG_REFERENCE naming the id', async () => {
      for (const sub of ['revoke', 'rotate']) {
        const run = await keys(sub, 'zzzzzzzzzzzzzzzz');
        assert.equal(run.code, 2, run.stderr);
        assert.match(run.stderr, /^RAMPART_ERR_CONFIG_REFERENCE: no key with id zzzzzzzzzzzzzzzz/);
      }
    });

    it('a pepper shorter than 32 bytes exits 2 naming the field', async () => {
      const run = await rampart(['keys', 'list', '--config', configFile], {
        RAMPART_TEST_PEPPER: 'x'.repeat(31),
      });
      assert.equal(run.code, 2);
      assert.match(run.stderr, /RAMPART_ERR_CONFIG_SECRET/);
      assert.match(
        run.stderr,
        /rampart\.yaml:\d+:\d+: authn\.keyStore\.pepper: the pepper must be at least 32 bytes/,
      );
      assert.ok(!run.stderr.includes('x'.repeat(31)), 'the value is not printed');
    });

    it('an unset pepper variable exits 2 naming it', async () => {
      const run = await rampart(['keys', 'list', '--config', configFile], { RAMPART_TEST_PEPPER: '' });
      assert.equal(run.code, 2);
      assert.match(run.stderr, /RAMPART_ERR_CONFIG_SECRET.*RAMPART_TEST_PEPPER/);
    });

    it('a config without authn.keyStore, or with a bad field, exits 2 with file:line and field', async () => {
      const none = join(dir, 'no-store.yaml');
      writeFileSync(none, 'version: 1\napis:\n  shop: { openapi: openapi.yaml, mock: true }\n');
      const run = await rampart(['keys', 'list', '--config', none]);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /RAMPART_ERR_CONFIG_SCHEMA/);
      assert.match(run.stderr, /authn\.keyStore: not set/);

      const typo = join(dir, 'typo.yaml');
      writeFileSync(
        typo,
        config('    file: keys.json\n    peper: env:RAMPART_TEST_PEPPER\n    rotationOverlap: 1d'),
      );
      const bad = await rampart(['keys', 'list', '--config', typo]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /typo\.yaml:9:5: authn\.keyStore\.peper: unknown field/);
      assert.match(bad.stderr, /authn\.keyStore\.pepper: must be a secret reference/);
      assert.match(bad.stderr, /typo\.yaml:10:\d+: authn\.keyStore\.rotationOverlap: must be a duration/);
    });

    it('a missing config file exits 2', async () => {
      const run = await rampart(['keys', 'list', '--config', join(dir, 'nope.yaml')]);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /RAMPART_ERR_CONFIG_FILE/);
    });

    it('a corrupt key store exits 2 naming the record and field, and is not overwritten', async () => {
      const corruptDir = mkdtempSync(join(dir, 'corrupt-'));
      const file = join(corruptDir, 'rampart.yaml');
      writeFileSync(join(corruptDir, 'openapi.yaml'), SIMPLE_OPENAPI);
      writeFileSync(file, config('    file: keys.json\n    pepper: env:RAMPART_TEST_PEPPER'));
      const content = '{"version":1,"keys":[{"id":"abcdefghijklmnop","kind":"apiKey"}]}';
      writeFileSync(join(corruptDir, 'keys.json'), content);
      for (const args of [['list'], ['create', '--owner', 'x']]) {
        const run = await rampart(['keys', ...args, '--config', file]);
        assert.equal(run.code, 2, run.stderr);
        assert.match(run.stderr, /RAMPART_ERR_CONFIG_FILE: key store .*keys\.json: keys\[0\]\.hash/);
        assert.equal(run.stdout, '', 'no key printed that was not stored');
      }
      assert.equal(readFileSync(join(corruptDir, 'keys.json'), 'utf8'), content);
    });
  });
});
