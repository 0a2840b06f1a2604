import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizePath } from './path-normalize.ts';

/** Vectors: raw path → the path sent upstream and the decoded segments routed on. */
const RESOLVED: [raw: string, path: string, segments: string[]][] = [
  ['/', '/', ['']],
  ['/items', '/items', ['items']],
  ['/items/1', '/items/1', ['items', '1']],
  ['/items/', '/items/', ['items', '']],
  ["/a-b._~!$&'()*+,;=:@", "/a-b._~!$&'()*+,;=:@", ["a-b._~!$&'()*+,;=:@"]],
  // RFC 3986 §5.2.4 dot segments, plain and percent-encoded (§2.3: %2E is `.`).
  ['/items/../items', '/items', ['items']],
  ['/items/./1', '/items/1', ['items', '1']],
  ['/items/1/..', '/items/', ['items', '']],
  ['/items/1/.', '/items/1/', ['items', '1', '']],
  ['/a/b/../../c', '/c', ['c']],
  ['/items/%2e%2e/admin/1', '/admin/1', ['admin', '1']],
  ['/items/%2E%2E/admin/1', '/admin/1', ['admin', '1']],
  ['/items/.%2e/admin/1', '/admin/1', ['admin', '1']],
  ['/items/%2e./admin/1', '/admin/1', ['admin', '1']],
  ['/items/%2e/1', '/items/1', ['items', '1']],
  // §6.2.2.2: unreserved characters decoded, other escapes kept with upper-case hex.
  ['/items/%41%62c', '/items/Abc', ['items', 'Abc']],
  ['/items/%7e%2D%5f', '/items/~-_', ['items', '~-_']],
  ['/items/a%20b', '/items/a%20b', ['items', 'a b']],
  ['/items/caf%c3%a9', '/items/caf%C3%A9', ['items', 'café']],
  ['/items/%3f%23', '/items/%3F%23', ['items', '?#']],
  ['/items/%ef%bc%8f', '/items/%EF%BC%8F', ['items', '／']],
  // Not dot segments: dots with other characters, or a path parameter after a name.
  ['/items/...', '/items/...', ['items', '...']],
  ['/items/..a', '/items/..a', ['items', '..a']],
  ['/items/a;b', '/items/a;b', ['items', 'a;b']],
  ['/items;/../admin', '/admin', ['admin']],
  // Empty segments are kept (they never fill a parameter: see router.test.ts).
  ['//admin', '//admin', ['', 'admin']],
];

const REJECTED: [raw: string, reason: 'path_rejected' | 'bad_request_target', detail: RegExp][] = [
  ['', 'bad_request_target', /origin-form/],
  ['items', 'bad_request_target', /origin-form/],
  ['*', 'bad_request_target', /origin-form/],
  ['http://host/items', 'bad_request_target', /origin-form/],
  ['/items%2fadmin', 'path_rejected', /encoded \//],
  ['/items%2Fadmin', 'path_rejected', /encoded \//],
  ['/items/..%2fadmin', 'path_rejected', /encoded \//],
  ['/items%5cadmin', 'path_rejected', /encoded \\/],
  ['/items%5Cadmin', 'path_rejected', /encoded \\/],
  ['/items\\admin', 'path_rejected', /backslash/],
  ['/items/%00', 'path_rejected', /NUL or control/],
  ['/items/%0d%0aX-Injected:%201', 'path_rejected', /NUL or control/],
  ['/items/%09', 'path_rejected', /NUL or control/],
  ['/items/%7f', 'path_rejected', /NUL or control/],
  ['/items/%', 'path_rejected', /malformed/],
  ['/items/%2', 'path_rejected', /malformed/],
  ['/items/%zz', 'path_rejected', /malformed/],
  ['/items/%u002e', 'path_rejected', /malformed/],
  ['/items/%252e%252e', 'path_rejected', /double/],
  ['/items/%252f', 'path_rejected', /double/],
  ['/items/%2525', 'path_rejected', /double/],
  ['/items/%c0%ae%c0%ae', 'path_rejected', /UTF-8/],
  ['/items/%c0%af', 'path_rejected', /UTF-8/],
  ['/items/%e0%80%ae', 'path_rejected', /UTF-8/],
  ['/items/%ed%a0%80', 'path_rejected', /UTF-8/], // a UTF-16 surrogate
  ['/items/%ff', 'path_rejected', /UTF-8/],
  ['/items/\u00e9', 'path_rejected', /non-ASCII/],
  ['/items/a b', 'path_rejected', /space/],
  ['/items/..;/admin', 'path_rejected', /\.\.;/],
  ['/items/.;/admin', 'path_rejected', /\.\.;/],
  ['/items/%2e%2e;/admin', 'path_rejected', /\.\.;/],
  ['/items/.%2e;x=1/admin', 'path_rejected', /\.\.;/],
  ['/..', 'path_rejected', /above the root/],
  ['/../admin', 'path_rejected', /above the root/],
  ['/items/../../admin', 'path_rejected', /above the root/],
  ['/%2e%2e/admin', 'path_rejected', /above the root/],
];

describe('normalizePath', () => {
  for (const [raw, path, segments] of RESOLVED) {
    it(`${raw} → ${path}`, () => {
      const result = normalizePath(raw);
      assert.deepEqual(result, { ok: true, path, segments });
    });
  }

  for (const [raw, reason, detail] of REJECTED) {
    it(`${JSON.stringify(raw)} is rejected (${reason})`, () => {
      const result = normalizePath(raw);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.reason, reason);
      assert.match(result.detail, detail);
    });
  }

  it('is idempotent: a normalized path normalizes to itself', () => {
    for (const [, path, segments] of RESOLVED) {
      assert.deepEqual(normalizePath(path), { ok: true, path, segments }, path);
    }
  });

  it('the upstream path and the routed segments name the same resource', () => {
    // Decoding the path sent upstream, segment by segment, gives exactly what was routed on.
    for (const [raw] of RESOLVED) {
      const result = normalizePath(raw);
      assert.ok(result.ok);
      const decoded = result.path
        .slice(1)
        .split('/')
        .map((s) => decodeURIComponent(s));
      assert.deepEqual(decoded, result.segments, raw);
    }
  });
});
