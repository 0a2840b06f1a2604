import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../scripts/gen-reference.ts';
import { slug } from '../../scripts/reference/markdown.ts';
import { auditCommand } from '../../src/cli/audit.ts';
import { authzCommand } from '../../src/cli/authz.ts';
import { checkCommand } from '../../src/cli/check.ts';
import { explainCommand } from '../../src/cli/explain.ts';
import { startCommand } from '../../src/cli/start.ts';
import { STAGES } from '../../src/core/pipeline-order.ts';
import { CREDENTIAL_HEADERS, SECRET_QUERY_PARAMS } from '../../src/stages/log/redact.ts';

// The hand-written pages quote lists that live in code; these tests keep the quotes in step.

function page(file: string): string {
  return readFileSync(join(REPO_ROOT, file), 'utf8');
}

describe('hand-written docs', () => {
  it('docs/cli.md carries the usage text of every command', () => {
    const cli = page('docs/cli.md');
    for (const command of [startCommand, checkCommand, explainCommand, authzCommand, auditCommand]) {
      assert.ok(
        cli.includes(command.usage),
        `docs/cli.md: copy the usage of \`${command.name}\` from src/cli`,
      );
    }
  });

  it('docs/concepts/pipeline.md lists the stages in their fixed order', () => {
    const rows = tableRows(page('docs/concepts/pipeline.md')).filter((r) => /^[0-9]+$/.test(r[0]!));
    const expected = STAGES.map((stage, i) => [
      String(i),
      `\`${stage.name}\``,
      stage.does,
      stage.replies.length > 0 ? stage.replies.join(', ') : '—',
    ]);
    assert.deepEqual(
      rows,
      expected,
      'docs/concepts/pipeline.md: copy the table from src/core/pipeline-order.ts',
    );
  });

  it('docs/concepts/access-log.md names every built-in redacted header and query parameter', () => {
    const text = page('docs/concepts/access-log.md');
    for (const name of [...CREDENTIAL_HEADERS, ...SECRET_QUERY_PARAMS]) {
      assert.ok(text.includes(`\`${name}\``), `docs/concepts/access-log.md: add \`${name}\``);
    }
  });

  it('relative links point to files and headings that exist', () => {
    const files = ['README.md', ...markdownUnder('docs')];
    const broken: string[] = [];
    for (const file of files) {
      for (const [, target, anchor] of page(file).matchAll(/\]\(([^)#\s]+)(?:#([^)\s]*))?\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const path = resolve(dirname(join(REPO_ROOT, file)), target!);
        // docs/benchmarks.md comes with the benchmarks (bench/), which may land separately.
        if (path.endsWith('docs/benchmarks.md')) continue;
        if (!existsSync(path)) broken.push(`${file} → ${target}`);
        else if (anchor && !headingSlugs(path).has(anchor)) broken.push(`${file} → ${target}#${anchor}`);
      }
    }
    assert.deepEqual(broken, []);
  });
});

function headingSlugs(path: string): Set<string> {
  if (!path.endsWith('.md')) return new Set();
  const headings = readFileSync(path, 'utf8').match(/^#{1,6} .+$/gm) ?? [];
  return new Set(headings.map((h) => slug(h.replace(/^#+ /, ''))));
}

/** The cells of every Markdown table row, trimmed (Biome pads the columns). */
function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
}

function markdownUnder(dir: string): string[] {
  return readdirSync(join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => relative(REPO_ROOT, join(REPO_ROOT, dir, f)))
    .sort();
}
