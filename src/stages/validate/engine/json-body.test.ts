import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJsonBody } from './json-body.ts';

const parse = (text: string | Buffer, depth = 64) =>
  parseJsonBody(typeof text === 'string' ? Buffer.from(text) : text, depth);

describe('parseJsonBody', () => {
  it('parses JSON, keeping __proto__ as an own data property', () => {
    const r = parse('{"a":[1,{"b":"}"}],"__proto__":{"isAdmin":true}}');
    assert.equal(r.ok, true);
    const v = (r.ok ? r.value : null) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.deepEqual(Object.keys(v), ['a', '__proto__']);
    assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
  });

  it('bounds nesting depth without recursion (a deep bomb is a problem, not a stack overflow)', () => {
    assert.equal(parse('[[[1]]]', 3).ok, true);
    const deep = parse('[[[[1]]]]', 3);
    assert.deepEqual(deep, { ok: false, problem: 'nesting deeper than 3' });
    const bomb = parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
    assert.equal(bomb.ok, false);
    // Brackets inside strings are data, not nesting.
    assert.equal(parse(`{"s":"${'['.repeat(100)}"}`, 2).ok, true);
  });

  it('refuses duplicate member names, compared after escapes are decoded', () => {
    assert.equal(parse('{"role":"user","role":"admin"}').ok, false);
    assert.equal(parse('{"role":"user","\\u0072ole":"admin"}').ok, false);
    assert.equal(parse('{"a":{"role":1},"b":{"role":2}}').ok, true, 'same name in sibling objects is fine');
    assert.equal(parse('[{"a":1},{"a":2}]').ok, true);
    assert.equal(parse('{"k":"a","v":{"k":"b"}}').ok, true);
  });

  it('refuses bytes that are not UTF-8 instead of replacing them', () => {
    assert.deepEqual(parse(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])), {
      ok: false,
      problem: 'body is not valid UTF-8',
    });
  });

  it('a syntax error names a position, never the text around it', () => {
    const r = parse('{"secret":"hunter2" oops}');
    assert.equal(r.ok, false);
    assert.ok(!r.ok && !r.problem.includes('hunter2') && !r.problem.includes('oops'), !r.ok ? r.problem : '');
  });
});

describe('checkShape on escapes', () => {
  it('finds the real end of strings with escaped quotes and backslashes', () => {
    for (const text of [
      '{"a\\\\":1,"b":2}',
      '{"a\\"":1,"a":2}',
      '{"\\\\\\"":1,"x":[{"y":"\\\\"}]}',
      '{"k":"v\\"}\\"","k2":1}',
    ]) {
      assert.equal(parse(text).ok, true, text);
    }
    assert.equal(parse('{"a\\"b":1,"a\\"b":2}').ok, false, 'escaped duplicates are found');
    assert.equal(
      parse('{"s":"\\"{[[[","t":1}', 2).ok,
      true,
      'brackets after an escaped quote are still string content',
    );
  });
});
