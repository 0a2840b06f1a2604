import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_DEPTH, parseStrictJson, StrictJsonError } from './strict-json.ts';

const rejects = (text: string, message: RegExp) =>
  assert.throws(
    () => parseStrictJson(text),
    (err: unknown) => err instanceof StrictJsonError && message.test(err.message),
  );

describe('parseStrictJson', () => {
  it('parses what JSON.parse parses, to the same value', () => {
    for (const text of [
      '{"sub":"alice","aud":["a","b"],"exp":1700000000,"n":-1.5e3,"ok":true,"no":false,"x":null}',
      ' [ 1 , 2.25 , -0 , 1E+2 , "\\u00e9\\n\\t\\"\\\\\\/" ] ',
      '"\\ud83d\\ude00 and a lone \\ud800"',
      '{}',
      '[]',
      '0',
      '{"constructor":{"prototype":1}}',
    ]) {
      assert.deepEqual(parseStrictJson(text), JSON.parse(text), text);
    }
  });

  it('refuses a duplicate member name', () => {
    rejects('{"sub":"a","sub":"b"}', /duplicate member "sub" at offset 11/);
  });

  it('refuses a duplicate that is only spelled differently (compared after unescaping)', () => {
    rejects('{"a":1,"\\u0061":2}', /duplicate member "a"/);
    rejects('{"sub":"a","s\\u0075b":"b"}', /duplicate member "sub"/);
  });

  it('allows the same name in different objects', () => {
    assert.deepEqual(parseStrictJson('{"a":{"a":1},"b":[{"a":2},{"a":3}]}'), {
      a: { a: 1 },
      b: [{ a: 2 }, { a: 3 }],
    });
  });

  it('refuses a __proto__ member, escaped or not', () => {
    rejects('{"__proto__":{"admin":true}}', /__proto__/);
    rejects('{"x":{"\\u005f_proto__":{}}}', /__proto__/);
  });

  it(`accepts nesting of ${MAX_DEPTH} and refuses deeper`, () => {
    const nest = (n: number) => '['.repeat(n) + ']'.repeat(n);
    assert.doesNotThrow(() => parseStrictJson(nest(MAX_DEPTH)));
    rejects(nest(MAX_DEPTH + 1), /nesting deeper than 32/);
    rejects(`${'{"a":'.repeat(MAX_DEPTH + 1)}1${'}'.repeat(MAX_DEPTH + 1)}`, /nesting/);
  });

  it('refuses text that is not RFC 8259 JSON', () => {
    for (const text of [
      '',
      ' ',
      '{',
      '{"a":1,}',
      '[1,]',
      "{'a':1}",
      '{a:1}',
      '01',
      '1.',
      '.5',
      '+1',
      'NaN',
      'tru',
      '"\\x41"',
      '"\\u12"',
      '"tab\there"',
      '"unterminated',
      '{"a":1} x',
      '{"a":1}{"b":2}',
      '\ufeff{}',
      '\u00a0{}',
      '{"a" 1}',
    ]) {
      assert.throws(() => parseStrictJson(text), StrictJsonError, JSON.stringify(text));
    }
  });

  it('stays linear on large inputs', () => {
    const big = JSON.stringify({
      keys: Array.from({ length: 5000 }, (_, i) => ({ kid: `k${i}`, n: 'x'.repeat(80) })),
    });
    const started = performance.now();
    const parsed = parseStrictJson(big) as { keys: unknown[] };
    assert.equal(parsed.keys.length, 5000);
    assert.ok(performance.now() - started < 1000);
  });
});
