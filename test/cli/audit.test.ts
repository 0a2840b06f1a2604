import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { AuditRecord } from '../../src/observe/audit/record.ts';
import { startGateway } from '../../src/server/lifecycle.ts';
import { SIMPLE_OPENAPI } from '../helpers/gateway.ts';
import { CLI } from '../integration/support/gateway-process.ts';

/**
 * The audit trail as an operator meets it: `rampart keys` changes and gateway starts and reloads
 * append signed, chained records to `audit.file` (before the change is acknowledged), and
 * `rampart audit verify` checks them, exits 1 on tampering naming the line, and 0 on a clean log.
 */

const ROOT = new URL('../../', import.meta.url).pathname;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe('rampart audit', () => {
  let dir: string;
  let configFile: string;
  let auditFile: string;
  const env = {
    RAMPART_TEST_PEPPER: randomBytes(32).toString('base64url'),
    RAMPART_TEST_AUDIT_KEY: randomBytes(32).toString('base64url'),
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rampart-audit-cli-'));
    configFile = join(dir, 'rampart.yaml');
    auditFile = join(dir, 'audit.jsonl');
    writeFileSync(join(dir, 'openapi.yaml'), SIMPLE_OPENAPI);
    writeFileSync(
      configFile,
      `version: 1
server: { listen: [{ host: 127.0.0.1, port: 0 }] }
log: { access: { enabled: false } }
audit: { file: audit.jsonl, hmacKey: env:RAMPART_TEST_AUDIT_KEY }
authn:
  keyStore: { file: keys.json, pepper: env:RAMPART_TEST_PEPPER }
apis: { shop: { openapi: openapi.yaml, mock: true } }
`,
    );
    Object.assign(process.env, env);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function rampart(...args: string[]): Promise<Run> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [...CLI, ...args],
        { cwd: ROOT, timeout: 30_000, env: { ...process.env, ...env } },
        (err, stdout, stderr) => {
          const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
          resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
        },
      );
    });
  }
  const records = () =>
    readFileSync(auditFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as AuditRecord);

  it('records key creation, rotation and revocation, signed, without secrets', async () => {
    const created = await rampart(
      'keys',
      'create',
      '--owner',
      'acme',
      '--plan',
      'gold',
      '--config',
      configFile,
    );
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    const id = token.split('_')[1]!;
    assert.equal((await rampart('keys', 'rotate', id, '--config', configFile)).code, 0);
    assert.equal((await rampart('keys', 'revoke', id, '--config', configFile)).code, 0);
    const all = records();
    assert.deepEqual(
      all.map((r) => [r.seq, r.action, r.target]),
      [
        [1, 'keys.create', `apiKey:${id}`],
        [2, 'keys.rotate', `apiKey:${id}`],
        [3, 'keys.revoke', `apiKey:${id}`],
      ],
    );
    assert.match(all[0]!.actor, /^cli:/);
    assert.deepEqual((all[0]!.diff as { owner: string; plan: string }).owner, 'acme');
    assert.ok(all.every((r) => r.sig?.startsWith('hmac-sha256:')));
    const text = readFileSync(auditFile, 'utf8');
    assert.ok(!text.includes(token.split('_').slice(2).join('_')), 'the key secret is not in the trail');
  });

  it('records gateway starts and reloads, and verifies clean with exit 0', async () => {
    const running = await startGateway(configFile, pino({ level: 'silent' }), { actor: 'cli:tester' });
    try {
      writeFileSync(configFile, `${readFileSync(configFile, 'utf8')}# touched\n`);
      assert.equal((await running.reload('signal:SIGHUP')).ok, true);
    } finally {
      await running.shutdown();
    }
    const tail = records().slice(-2);
    assert.deepEqual(
      tail.map((r) => [r.action, r.actor]),
      [
        ['config.start', 'cli:tester'],
        ['config.reload', 'signal:SIGHUP'],
      ],
    );
    assert.match(tail[1]!.before!, /^version:[0-9a-f]{12}$/);
    const run = await rampart('audit', 'verify', '--config', configFile);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /5 of 5 records verified, hmac-sha256 signatures checked: no tampering found/);
  });

  it('exits 1 and names the line of a tampered record', async () => {
    const lines = readFileSync(auditFile, 'utf8').split('\n');
    lines[1] = lines[1]!.replace('"keys.rotate"', '"keys.create"');
    writeFileSync(auditFile, lines.join('\n'));
    const run = await rampart('audit', 'verify', auditFile, '--hmac-key', 'env:RAMPART_TEST_AUDIT_KEY');
    assert.equal(run.code, 1);
    assert.match(run.stdout, /audit\.jsonl:2: TAMPERED: record 2 does not match its hash/);
    assert.match(run.stdout, /TAMPERING FOUND/);
    const json = await rampart('audit', 'verify', auditFile, '--json');
    assert.equal(json.code, 1);
    assert.equal((JSON.parse(json.stdout) as { ok: boolean }).ok, false);
  });

  it('is a usage error without a subcommand, and exit 2 for a log that does not exist', async () => {
    assert.equal((await rampart('audit')).code, 64);
    assert.equal((await rampart('audit', 'verify', join(dir, 'nope.jsonl'))).code, 2);
  });
});
