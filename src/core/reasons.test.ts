import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { REASONS } from './reasons.ts';

const SRC = resolve(import.meta.dirname, '..');

/** Every production source file under src/ (tests excluded). */
function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

interface Use {
  readonly reason: string;
  readonly status?: number;
  readonly at: string;
}

/**
 * Reason codes written as literals where a decision is made: `reply(404, 'route_not_found')`,
 * `{ status: 413, reason: 'body_too_large' }`, `ctx.reason ??= 'client_aborted'`, and the
 * literal unions of engines (`reason: 'path_rejected' | 'bad_request_target'`).
 */
function reasonUses(): Use[] {
  const uses: Use[] = [];
  const patterns = [
    /\breply\(\s*(?<status>[0-9]{3}|[\w.]+)\s*,\s*'(?<reason>[a-z_]+)'/g,
    /\bstatus:\s*(?<status>[0-9]{3})\s*,\s*reason:\s*'(?<reason>[a-z_]+)'/g,
    /\breason\s*(?::|=|\?\?=)\s*'(?<reason>[a-z_]+)'/g,
    /\breason\??:\s*'[a-z_]+'(?:\s*\|\s*'[a-z_]+')+/g,
  ];
  for (const file of sourceFiles()) {
    if (file.endsWith('reasons.ts')) continue;
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const at = `${relative(SRC, file)}:${i + 1}`;
        for (const pattern of patterns) {
          for (const m of line.matchAll(pattern)) {
            if (m.groups?.reason) {
              const status = /^[0-9]{3}$/.test(m.groups.status ?? '') ? Number(m.groups.status) : undefined;
              uses.push({ reason: m.groups.reason, status, at });
            } else {
              for (const [, reason] of m[0].matchAll(/'([a-z_]+)'/g)) uses.push({ reason: reason!, at });
            }
          }
        }
      });
  }
  return uses;
}

describe('reason codes', () => {
  const uses = reasonUses();

  it('finds the decisions in src/ (the scan itself works)', () => {
    const reasons = new Set(uses.map((u) => u.reason));
    for (const known of ['route_not_found', 'method_not_allowed', 'body_too_large', 'upstream_timeout']) {
      assert.ok(reasons.has(known), `the scan missed ${known}`);
    }
  });

  it('has every reason code used in src/ in REASONS', () => {
    const unknown = uses.filter((u) => !Object.hasOwn(REASONS, u.reason)).map((u) => `${u.at} ${u.reason}`);
    assert.deepEqual(unknown, [], 'reason codes used in src/ but absent from REASONS (src/core/reasons.ts)');
  });

  it('replies with the status REASONS gives the code', () => {
    const wrong = uses
      .filter((u) => u.status !== undefined && Object.hasOwn(REASONS, u.reason))
      .filter((u) => REASONS[u.reason as keyof typeof REASONS].status !== u.status)
      .map((u) => `${u.at} ${u.status} ${u.reason}`);
    assert.deepEqual(wrong, []);
  });

  it('are snake_case with a status and a sentence of documentation each', () => {
    for (const [code, { status, doc }] of Object.entries(REASONS)) {
      assert.match(code, /^[a-z]+(_[a-z]+)*$/);
      assert.ok(status === 0 || (status >= 400 && status <= 599), `${code}: ${status}`);
      assert.match(doc, /^[A-Z`].{10,}\.$/, `${code} needs a sentence of documentation`);
    }
  });
});
