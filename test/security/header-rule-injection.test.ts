import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { compileGateway } from '../../src/config/compile.ts';
import { RampartError } from '../../src/core/errors.ts';
import { SIMPLE_OPENAPI } from '../helpers/gateway.ts';

/**
 * Header injection through configured header rules: a CR, LF or NUL in a rule's value or name
 * would end the header line and let the rest become headers — or a whole second request
 * (response splitting, request smuggling; CWE-113). Rules may also not rewrite framing or
 * hop-by-hop headers, nor the headers the gateway computes from what it verified (client
 * address, identity), which would undo those defences. Every such rule stops the load with
 * file, line and field; none is skipped or sanitized silently.
 */

function load(rules: string): { err: RampartError | null; yaml: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-rule-injection-'));
  writeFileSync(join(dir, 'openapi.yaml'), SIMPLE_OPENAPI);
  const yaml = `version: 1
server: { listen: [{ host: 127.0.0.1, port: 0 }] }
log: { access: { enabled: false } }
upstreams: { backend: { url: 'http://127.0.0.1:9' } }
apis:
  t:
    openapi: openapi.yaml
    upstream: backend
${rules}
`;
  const file = join(dir, 'rampart.yaml');
  writeFileSync(file, yaml);
  try {
    compileGateway(file, { openLogs: false });
    return { err: null, yaml, file };
  } catch (err) {
    assert.ok(err instanceof RampartError, String(err));
    return { err, yaml, file };
  }
}

function assertRefused(rules: string, needle: string, field: string, message: RegExp): void {
  const { err, yaml, file } = load(rules);
  assert.ok(err, `the load should have been refused:\n${rules}`);
  const problem = err.problems[0]!;
  assert.equal(err.code, 'RAMPART_ERR_CONFIG_SCHEMA', err.format());
  assert.equal(problem.location.file, file);
  assert.equal(
    problem.location.line,
    yaml.split('\n').findIndex((l) => l.includes(needle)) + 1,
    err.format(),
  );
  assert.equal(problem.field, field);
  assert.match(problem.message, message, err.format());
}

const request = (body: string) => `    transform:\n      request:\n${body}`;
const response = (body: string) => `    response:\n      headers:\n${body}`;

describe('header rule injection', () => {
  const values = [
    ['CRLF', '\\r\\nX-Admin: 1'],
    ['LF', '\\nX-Admin: 1'],
    ['CR', '\\rX-Admin: 1'],
    ['NUL', 'a\\0b'],
    ['a CRLF that starts a second response', 'x\\r\\n\\r\\nHTTP/1.1 200 OK'],
  ] as const;

  for (const [what, escaped] of values) {
    it(`refuses ${what} in a request set value`, () => {
      assertRefused(
        request(`        set: { X-Tenant: "t${escaped}" }`),
        'X-Tenant',
        'apis.t.transform.request.set.X-Tenant',
        /control characters/,
      );
    });
    it(`refuses ${what} in a response add value`, () => {
      assertRefused(
        response(`        add: { Link: "</a>${escaped}" }`),
        'Link',
        'apis.t.response.headers.add.Link',
        /control characters/,
      );
    });
  }

  it('refuses CRLF in a per-operation rule too', () => {
    assertRefused(
      `    operations:\n      listItems:\n        transform: { request: { set: { X-Op: "a\\r\\nb" } } }`,
      'X-Op',
      'apis.t.operations.listItems.transform.request.set.X-Op',
      /control characters/,
    );
  });

  for (const [what, name] of [
    ['CRLF', '"X-A\\r\\nX-Admin"'],
    ['a colon', '"X-A: 1"'],
    ['a space', '"X A"'],
    ['an empty name', '""'],
  ] as const) {
    it(`refuses a header name with ${what}`, () => {
      const { err } = load(request(`        set: { ${name}: v }`));
      assert.ok(err, 'refused');
      assert.match(err.format(), /not a header name|must/);
      assert.match(err.problems[0]!.field ?? '', /^apis\.t\.transform\.request\.set/);
    });
  }

  for (const [name, reason] of [
    ['Transfer-Encoding', /frames the message.*smuggling/],
    ['Content-Length', /frames the message/],
    ['Connection', /hop-by-hop/],
    ['Keep-Alive', /hop-by-hop/],
    ['Upgrade', /hop-by-hop/],
    ['TE', /hop-by-hop/],
    ['Host', /upstream URL/],
    ['X-Forwarded-For', /spoof/],
    ['Forwarded', /spoof/],
    ['X_Forwarded_For', /spoof/],
    ['X-Request-Id', /request id/],
    ['X-HTTP-Method-Override', /another method/],
    ['X-Principal-Id', /identity header/],
    ['Content-Type', /parsed/],
    ['Content-Encoding', /decode/],
    ['x-user-id', /identity header/],
  ] as const) {
    it(`refuses a request rule setting ${name}`, () => {
      assertRefused(
        request(`        set: { ${name}: v }`),
        `${name}:`,
        `apis.t.transform.request.set.${name}`,
        reason,
      );
    });
  }

  it('refuses removing or renaming an identity header (the strip must stay)', () => {
    assertRefused(
      request('        remove: [X-Principal-Kind]'),
      'X-Principal-Kind',
      'apis.t.transform.request.remove[0]',
      /identity header/,
    );
    assertRefused(
      request('        rename: { X-Profile: X-Principal-Id }'),
      'X-Profile',
      'apis.t.transform.request.rename.X-Profile',
      /identity header/,
    );
  });

  for (const [name, reason] of [
    ['Transfer-Encoding', /frames the message/],
    ['Content-Length', /frames the message/],
    ['Connection', /hop-by-hop/],
    ['Access-Control-Allow-Origin', /CORS policy/],
    ['Strict-Transport-Security', /hsts/],
    ['X-Content-Type-Options', /nosniff/],
  ] as const) {
    it(`refuses a response rule setting ${name}`, () => {
      assertRefused(
        response(`        set: { ${name}: v }`),
        `${name}:`,
        `apis.t.response.headers.set.${name}`,
        reason,
      );
    });
  }

  it('refuses forwarding a consumed credential under another name', () => {
    assertRefused(
      request('        rename: { Authorization: X-Original-Auth }'),
      'Authorization',
      'apis.t.transform.request.rename.Authorization',
      /credential/,
    );
  });

  it('refuses a principal value appended to a client-sent one, and unknown placeholders', () => {
    assertRefused(
      request("        add: { X-Caller: '{principal.id}' }"),
      'X-Caller',
      'apis.t.transform.request.add.X-Caller',
      /only be used in `set`/,
    );
    assertRefused(
      request("        set: { X-Caller: '{env.HOME}' }"),
      'X-Caller',
      'apis.t.transform.request.set.X-Caller',
      /not a known placeholder/,
    );
  });

  it('loads safe rules (the control case)', () => {
    const { err } = load(
      request(
        "        set: { X-Tenant: 'acme\\tblue', X-Caller: '{principal.id}' }\n        remove: [X-Debug]",
      ),
    );
    assert.equal(err, null, err?.format());
  });
});
