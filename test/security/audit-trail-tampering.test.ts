import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  type AuditRecord,
  canonical,
  digest,
  ed25519Signer,
  hmacSigner,
  recordHash,
} from '../../src/observe/audit/record.ts';
import { type AuditReport, verifyAuditLog } from '../../src/observe/audit/verify.ts';
import { AuditLog } from '../../src/observe/audit/writer.ts';

/**
 * Tampering with the audit trail: someone with write access to the log edits a record, deletes
 * one, reorders, inserts, or cuts the tail, to hide a change. `verifyAuditLog` (what `rampart
 * audit verify` runs) must catch each, and say which record. A crash mid-append is not
 * tampering: the torn last line is reported, and the records before it still verify. With a
 * signing key, even a consistent rewrite of the chain is caught.
 */

const root = mkdtempSync(join(tmpdir(), 'rampart-audit-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function freshLog(records = 5, signer: ReturnType<typeof hmacSigner> | null = null): string {
  const file = join(root, `audit-${++n}.jsonl`);
  const { log } = AuditLog.open(file, { signer });
  for (let i = 1; i <= records; i++) {
    log.append({
      actor: 'cli:alice',
      action: 'keys.create',
      target: `apikey:k${i}`,
      before: null,
      after: digest(`key ${i}`),
      diff: { owner: `customer-${i}`, secret: '[REDACTED]' },
    });
  }
  return file;
}

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
const write = (file: string, ls: string[]) => writeFileSync(file, `${ls.join('\n')}\n`);
const kinds = (r: AuditReport) => r.problems.map((p) => `${p.kind}@${p.seq ?? '-'}`);

describe('audit trail tampering', () => {
  it('verifies an untouched log', () => {
    const report = verifyAuditLog(freshLog());
    assert.equal(report.ok, true);
    assert.deepEqual(report.problems, []);
    assert.equal(report.verified, 5);
  });

  it('detects a modified record, and names it', () => {
    const file = freshLog();
    const ls = lines(file);
    ls[2] = ls[2]!.replace('customer-3', 'customer-X');
    write(file, ls);
    const report = verifyAuditLog(file);
    assert.equal(report.ok, false);
    assert.deepEqual(kinds(report), ['modified@3']);
    assert.equal(report.problems[0]!.line, 3);
  });

  it('detects a modified record whose hash was recomputed, at the record after it', () => {
    const file = freshLog();
    const ls = lines(file);
    const rec = JSON.parse(ls[1]!) as AuditRecord;
    const forged = { ...rec, actor: 'cli:mallory' };
    ls[1] = canonical({ ...forged, hash: recordHash(forged) });
    write(file, ls);
    const report = verifyAuditLog(file);
    assert.deepEqual(kinds(report), ['modified@3']);
    assert.match(report.problems[0]!.message, /record 2 was modified or replaced/);
  });

  it('detects a deleted record', () => {
    const file = freshLog();
    const ls = lines(file);
    ls.splice(2, 1);
    write(file, ls);
    const report = verifyAuditLog(file);
    assert.deepEqual(kinds(report), ['deleted@4']);
    assert.match(report.problems[0]!.message, /record 3 is missing/);
  });

  it('detects reordered records', () => {
    const file = freshLog();
    const ls = lines(file);
    [ls[1], ls[2]] = [ls[2]!, ls[1]!];
    write(file, ls);
    const report = verifyAuditLog(file);
    assert.equal(report.ok, false);
    assert.ok(kinds(report).includes('reordered@2'), kinds(report).join());
  });

  it('detects an inserted record, even one that fits the chain where it was put', () => {
    const file = freshLog();
    const ls = lines(file);
    const r3 = JSON.parse(ls[2]!) as AuditRecord;
    const fake = { ...r3, seq: 4, action: 'keys.revoke', target: 'apikey:k9', prev: r3.hash };
    ls.splice(3, 0, canonical({ ...fake, hash: recordHash(fake) }));
    write(file, ls);
    const report = verifyAuditLog(file);
    assert.equal(report.ok, false);
    assert.ok(kinds(report).includes('inserted@4'), kinds(report).join());
  });

  it('detects a truncated tail through the head file', () => {
    const file = freshLog();
    write(file, lines(file).slice(0, 3));
    const report = verifyAuditLog(file);
    assert.deepEqual(kinds(report), ['truncated@5']);
    assert.match(report.problems[0]!.message, /records 4–5 were removed/);
  });

  it('reports a torn last line as a crash, while the records before it verify', () => {
    const file = freshLog();
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, `${text}{"seq":6,"time":"2026-12-04T00:00:00.000Z","act`);
    const report = verifyAuditLog(file);
    assert.equal(report.ok, true, 'not tampering');
    assert.equal(report.verified, 5);
    assert.deepEqual(kinds(report), ['torn@-']);
    assert.equal(report.problems[0]!.severity, 'crash');
  });

  it('moves a torn tail aside when reopened, and continues the chain', () => {
    const file = freshLog(2);
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"seq":3,"ti`);
    const { log, tornSavedTo } = AuditLog.open(file);
    assert.ok(tornSavedTo !== null && existsSync(tornSavedTo));
    assert.equal(readFileSync(tornSavedTo!, 'utf8'), '{"seq":3,"ti');
    log.append({
      actor: 'gateway',
      action: 'config.reload',
      target: 'config',
      before: null,
      after: null,
      diff: null,
    });
    const report = verifyAuditLog(file);
    assert.deepEqual(report.problems, []);
    assert.equal(report.lastSeq, 3);
  });

  it('with an HMAC key, catches a whole chain rewritten by someone without the key', () => {
    const key = randomBytes(32).toString('base64');
    const signer = hmacSigner(key);
    const file = freshLog(4, signer);
    // Rewrite record 2 onwards consistently (hashes and prev links recomputed), without the key.
    const ls = lines(file);
    let prev = (JSON.parse(ls[0]!) as AuditRecord).hash;
    for (let i = 1; i < ls.length; i++) {
      const r = JSON.parse(ls[i]!) as AuditRecord;
      const body = { ...r, actor: 'cli:mallory', prev };
      delete (body as { sig?: string }).sig;
      const hash = recordHash(body);
      ls[i] = canonical({ ...body, hash });
      prev = hash;
    }
    write(file, ls);
    writeFileSync(`${file}.head`, canonical({ seq: 4, hash: prev }));
    assert.equal(verifyAuditLog(file).ok, true, 'without the key, a consistent rewrite is invisible');
    const report = verifyAuditLog(file, { signer });
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.problems.map((p) => p.kind),
      ['signature', 'signature', 'signature', 'signature'],
    );
  });

  it('signs with Ed25519 and checks with the public key alone', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const file = join(root, `audit-${++n}.jsonl`);
    const { log } = AuditLog.open(file, {
      signer: ed25519Signer(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string),
    });
    log.append({
      actor: 'cli:alice',
      action: 'keys.revoke',
      target: 'apikey:k1',
      before: digest('a'),
      after: null,
      diff: null,
    });
    const checker = ed25519Signer(publicKey.export({ type: 'spki', format: 'pem' }) as string);
    assert.deepEqual(verifyAuditLog(file, { signer: checker }).problems, []);
    assert.throws(() => checker.sign('x'), /cannot sign/);
  });
});

describe('audit trail crash consistency', () => {
  it('keeps every record before a writer killed mid-append verifiable', { timeout: 60_000 }, async () => {
    for (let round = 0; round < 3; round++) {
      const file = join(root, `crash-${round}.jsonl`);
      // A writer appending large records as fast as it can, killed at a random moment.
      const child = spawn(
        process.execPath,
        [
          '--experimental-strip-types',
          '--disable-warning=ExperimentalWarning',
          '--input-type=module',
          '-e',
          `import { AuditLog } from ${JSON.stringify(new URL('../../src/observe/audit/writer.ts', import.meta.url).href)};
           const { log } = AuditLog.open(${JSON.stringify(file)});
           process.stdout.write('ready\\n');
           for (let i = 0; ; i++) log.append({ actor: 'cli:crash', action: 'keys.create', target: 'k' + i, before: null, after: null, diff: { pad: 'x'.repeat(200000) } });`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 300));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const report = verifyAuditLog(file);
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.ok(report.records > 0, 'the writer appended before it was killed');
      assert.equal(report.verified, report.records, 'every complete record verifies');
      for (const p of report.problems) assert.ok(p.kind === 'torn' || p.kind === 'head', p.message);
      // A new writer repairs the tail and continues.
      const { log } = AuditLog.open(file);
      log.append({
        actor: 'cli:after',
        action: 'keys.create',
        target: 'next',
        before: null,
        after: null,
        diff: null,
      });
      assert.deepEqual(
        verifyAuditLog(file).problems.filter((p) => p.severity !== 'warning'),
        [],
        'the chain continues after the crash',
      );
    }
    assert.ok(readdirSync(root).length > 0);
  });
});
