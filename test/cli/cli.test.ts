import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { STAGE_NAMES } from '../../src/core/pipeline-order.ts';
import { SIMPLE_OPENAPI } from '../helpers/gateway.ts';
import { CLI } from '../integration/support/gateway-process.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const PACKAGE_VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `rampart <args>` from the repo root, as a user would. */
function rampart(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...CLI, ...args], { cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

const QUICKSTART = 'examples/quickstart/rampart.yaml';

describe('rampart CLI', () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rampart-cli-'));
    writeFileSync(join(dir, 'openapi.yaml'), SIMPLE_OPENAPI);
    // The same API without any security declaration: every operation is a finding.
    writeFileSync(join(dir, 'open.yaml'), SIMPLE_OPENAPI.replace('security: [{}]\n', ''));
    writeFileSync(
      join(dir, 'findings.yaml'),
      'version: 1\napis:\n  open:\n    openapi: open.yaml\n    mock: true\n',
    );
    writeFileSync(
      join(dir, 'proxied.yaml'),
      `version: 1
upstreams:
  orders:
    url: http://127.0.0.1:9/api
apis:
  shop:
    openapi: openapi.yaml
    basePath: /v1
    upstream: orders
    operations:
      createItem: { mock: true }
`,
    );
    // Line 4, column 3: `upstrams` is not a field.
    writeFileSync(
      join(dir, 'invalid.yaml'),
      'version: 1\napis:\n  shop: { openapi: openapi.yaml, mock: true }\nupstrams:\n  a: { url: http://127.0.0.1:1 }\n',
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('usage', () => {
    it('--version prints the package version', async () => {
      const run = await rampart('--version');
      assert.equal(run.code, 0);
      assert.equal(run.stdout, `${PACKAGE_VERSION}\n`);
    });

    it('--help prints the commands and exits 0', async () => {
      const run = await rampart('--help');
      assert.equal(run.code, 0);
      assert.match(run.stdout, /Usage: rampart <command>/);
      for (const name of ['start', 'check', 'explain'])
        assert.match(run.stdout, new RegExp(`^  ${name} `, 'm'));
    });

    for (const command of ['start', 'check', 'explain']) {
      it(`${command} --help prints its usage and exits 0 without doing anything`, async () => {
        const run = await rampart(command, '--help');
        assert.equal(run.code, 0);
        assert.match(run.stdout, new RegExp(`^Usage: rampart ${command}`));
        assert.equal(run.stderr, '');
      });
    }

    it('no command prints usage and exits 64', async () => {
      const run = await rampart();
      assert.equal(run.code, 64);
      assert.match(run.stdout, /Usage: rampart <command>/);
    });

    it('an unknown command exits 64 with RAMPART_ERR_CLI_USAGE', async () => {
      const run = await rampart('serve');
      assert.equal(run.code, 64);
      assert.match(run.stderr, /RAMPART_ERR_CLI_USAGE: unknown command "serve"/);
    });

    it('an unknown option exits 64 with RAMPART_ERR_CLI_USAGE', async () => {
      const run = await rampart('check', QUICKSTART, '--strict-mode');
      assert.equal(run.code, 64);
      assert.match(run.stderr, /RAMPART_ERR_CLI_USAGE/);
      assert.match(run.stderr, /--strict-mode/);
    });

    it('an unknown --format value exits 64 instead of falling back to text', async () => {
      const run = await rampart('check', QUICKSTART, '--format', 'xml');
      assert.equal(run.code, 64);
      assert.match(run.stderr, /RAMPART_ERR_CLI_USAGE/);
      assert.equal(run.stdout, '');
    });
  });

  describe('check', () => {
    it('exits 0 on the quick start', async () => {
      const run = await rampart('check', QUICKSTART);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /valid .*3 operation\(s\)/);
      assert.doesNotMatch(run.stdout, /finding/);
    });

    it('exits 1 and lists each finding with its location when an operation declares no security', async () => {
      const run = await rampart('check', join(dir, 'findings.yaml'));
      assert.equal(run.code, 1, run.stderr);
      const findings = run.stdout.split('\n').filter((l) => l.includes('[operation-without-security]'));
      assert.equal(findings.length, 4);
      for (const line of findings) assert.match(line, /open\.yaml:\d+:\d+: high /);
      assert.match(run.stdout, /4 finding\(s\)/);
    });

    it('exits 2 on an invalid config and names file:line:col', async () => {
      const run = await rampart('check', join(dir, 'invalid.yaml'));
      assert.equal(run.code, 2);
      assert.match(run.stderr, /RAMPART_ERR_CONFIG_SCHEMA/);
      assert.match(run.stderr, /invalid\.yaml:4:1: upstrams: unknown field \(did you mean "upstreams"\?\)/);
      assert.equal(run.stdout, '');
    });

    it('exits 2 when the config file does not exist', async () => {
      const run = await rampart('check', join(dir, 'missing.yaml'));
      assert.equal(run.code, 2);
      assert.match(run.stderr, /RAMPART_ERR_CONFIG_FILE/);
    });

    it('--format json prints parseable JSON with the findings', async () => {
      const clean = await rampart('check', QUICKSTART, '--format', 'json');
      assert.equal(clean.code, 0);
      const ok = JSON.parse(clean.stdout) as { valid: boolean; findings: unknown[] };
      assert.equal(ok.valid, true);
      assert.deepEqual(ok.findings, []);

      const dirty = await rampart('check', join(dir, 'findings.yaml'), '--format', 'json');
      assert.equal(dirty.code, 1);
      const report = JSON.parse(dirty.stdout) as {
        valid: boolean;
        findings: { id: string; severity: string; location: { file: string; line: number } }[];
      };
      assert.equal(report.valid, true);
      assert.equal(report.findings.length, 4);
      for (const f of report.findings) {
        assert.equal(f.id, 'operation-without-security');
        assert.equal(f.severity, 'high');
        assert.match(f.location.file, /open\.yaml$/);
        assert.equal(typeof f.location.line, 'number');
      }
    });
  });

  describe('explain', () => {
    /** Split explain's output into one block per operation: header line + stage lines. */
    function blocks(stdout: string): { header: string; stages: string[] }[] {
      return stdout
        .trim()
        .split(/\n\s*\n/)
        .map((b) => b.split('\n'))
        .map(([header, ...stages]) => ({ header: header!, stages }));
    }

    function assertFixedOrder(stages: string[]): void {
      assert.equal(stages.length, 15);
      stages.forEach((line, i) => {
        const m = /^\s*(\d+) (\S+)\s+(.+)$/.exec(line);
        assert.ok(m, `stage line: ${line}`);
        assert.equal(Number(m[1]), i);
        assert.equal(m[2], STAGE_NAMES[i]);
      });
    }

    it('prints the 15 stages in the fixed order for every operation, with the mock line', async () => {
      const run = await rampart('explain', QUICKSTART);
      assert.equal(run.code, 0, run.stderr);
      const ops = blocks(run.stdout);
      assert.deepEqual(ops.map((o) => o.header).sort(), [
        'bookshop GET /v1/books (listBooks)',
        'bookshop GET /v1/books/{bookId} (getBook)',
        'bookshop POST /v1/books (createBook)',
      ]);
      assert.deepEqual(STAGE_NAMES, [
        'listener',
        'client',
        'ip-policy',
        'route',
        'cors',
        'edge-limit',
        'waf',
        'authn',
        'authz',
        'quota',
        'validate',
        'transform',
        'upstream',
        'response',
        'log',
      ]);
      for (const op of ops) {
        assertFixedOrder(op.stages);
        assert.match(op.stages[12]!, /upstream\s+mock: \d{3} from the OpenAPI example/);
      }
      const create = ops.find((o) => o.header.includes('createBook'))!;
      assert.match(create.stages[12]!, /mock: 201 /);
    });

    it('prints the proxy line with the upstream, and honours --operation', async () => {
      const run = await rampart('explain', join(dir, 'proxied.yaml'));
      assert.equal(run.code, 0, run.stderr);
      const ops = blocks(run.stdout);
      assert.equal(ops.length, 4);
      for (const op of ops) assertFixedOrder(op.stages);
      const get = ops.find((o) => o.header === 'shop GET /v1/items/{id} (getItem)')!;
      assert.match(get.stages[12]!, /proxy to orders \(http:\/\/127\.0\.0\.1:9\/api\)/);
      const create = ops.find((o) => o.header.includes('(createItem)'))!;
      assert.match(create.stages[12]!, /mock: 201/);

      const one = await rampart('explain', join(dir, 'proxied.yaml'), '--operation', 'getItem');
      assert.equal(one.code, 0);
      assert.deepEqual(
        blocks(one.stdout).map((o) => o.header),
        ['shop GET /v1/items/{id} (getItem)'],
      );
    });
  });

  describe('start', () => {
    it('exits 2 on an invalid config before listening', async () => {
      const run = await rampart('start', join(dir, 'invalid.yaml'));
      assert.equal(run.code, 2);
      assert.match(run.stderr, /invalid\.yaml:4:1:/);
      assert.doesNotMatch(run.stderr, /listening|serving/);
    });

    it('exits non-zero with RAMPART_ERR_LISTEN when the port is in use', async () => {
      const blocker = createServer();
      await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
      const { port } = blocker.address() as AddressInfo;
      try {
        const file = join(dir, 'busy.yaml');
        writeFileSync(
          file,
          `version: 1\nserver:\n  listen: [{ host: 127.0.0.1, port: ${port} }]\nlog:\n  access:\n    enabled: false\napis:\n  shop: { openapi: openapi.yaml, mock: true }\n`,
        );
        const run = await rampart('start', file);
        assert.notEqual(run.code, 0);
        assert.notEqual(run.code, null, 'the process must exit, not hang');
        assert.match(run.stderr, /RAMPART_ERR_LISTEN/);
        assert.match(run.stderr, /EADDRINUSE/);
        assert.doesNotMatch(run.stderr, /Rampart is serving/);
      } finally {
        blocker.close();
      }
    });
  });
});
