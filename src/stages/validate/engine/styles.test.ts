import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePairs } from './pairs.ts';
import {
  type ParamIn,
  type ParamSpec,
  parseCookies,
  readCookie,
  readHeader,
  readPath,
  readQuery,
  type Shape,
} from './styles.ts';

/** The vectors of OpenAPI 3.1 §4.8.12.4 "Style Examples": color = "blue" / [blue,black,brown] / {R:100,G:200,B:150}. */
const SCHEMAS: Record<Shape, unknown> = {
  primitive: { type: 'string' },
  array: { type: 'array', items: { type: 'string' } },
  object: {
    type: 'object',
    properties: { R: { type: 'integer' }, G: { type: 'integer' }, B: { type: 'integer' } },
  },
};
const VALUES = { primitive: 'blue', array: ['blue', 'black', 'brown'], object: { R: 100, G: 200, B: 150 } };

function spec(where: ParamIn, style: string, explode: boolean, shape: Shape, name = 'color'): ParamSpec {
  return {
    name,
    in: where,
    style,
    explode,
    shape,
    schema: SCHEMAS[shape],
    properties: shape === 'object' ? ['R', 'G', 'B'] : [],
  };
}

function value(read: ReturnType<typeof readPath>): unknown {
  assert.equal(read.ok, true, JSON.stringify(read));
  return read.ok ? read.value : undefined;
}

describe('path styles (simple, label, matrix)', () => {
  const vectors: [string, boolean, Shape, string][] = [
    ['simple', false, 'primitive', 'blue'],
    ['simple', false, 'array', 'blue,black,brown'],
    ['simple', false, 'object', 'R,100,G,200,B,150'],
    ['simple', true, 'array', 'blue,black,brown'],
    ['simple', true, 'object', 'R=100,G=200,B=150'],
    ['label', false, 'primitive', '.blue'],
    ['label', false, 'array', '.blue,black,brown'],
    ['label', false, 'object', '.R,100,G,200,B,150'],
    ['label', true, 'array', '.blue.black.brown'],
    ['label', true, 'object', '.R=100.G=200.B=150'],
    ['matrix', false, 'primitive', ';color=blue'],
    ['matrix', false, 'array', ';color=blue,black,brown'],
    ['matrix', false, 'object', ';color=R,100,G,200,B,150'],
    ['matrix', true, 'array', ';color=blue;color=black;color=brown'],
    ['matrix', true, 'object', ';R=100;G=200;B=150'],
  ];
  for (const [style, explode, shape, raw] of vectors) {
    it(`${style} explode=${explode} ${shape}: ${raw}`, () => {
      assert.deepEqual(value(readPath(spec('path', style, explode, shape), raw)), VALUES[shape]);
    });
  }

  it('a label value without its "." and a matrix value without ";name=" are style errors', () => {
    const label = readPath(spec('path', 'label', false, 'primitive'), 'blue');
    assert.deepEqual(label.ok ? null : [label.rule, label.path], ['style', 'path/color']);
    const matrix = readPath(spec('path', 'matrix', false, 'primitive'), ';colour=blue');
    assert.equal(matrix.ok ? null : matrix.rule, 'style');
  });

  it('an object with an odd name,value list is a style error', () => {
    const read = readPath(spec('path', 'simple', false, 'object'), 'R,100,G');
    assert.equal(read.ok ? null : read.rule, 'style');
  });
});

describe('query styles (form, spaceDelimited, pipeDelimited, deepObject)', () => {
  const vectors: [string, boolean, Shape, string][] = [
    ['form', true, 'primitive', 'color=blue'],
    ['form', true, 'array', 'color=blue&color=black&color=brown'],
    ['form', true, 'object', 'R=100&G=200&B=150'],
    ['form', false, 'primitive', 'color=blue'],
    ['form', false, 'array', 'color=blue,black,brown'],
    ['form', false, 'object', 'color=R,100,G,200,B,150'],
    ['spaceDelimited', false, 'array', 'color=blue%20black%20brown'],
    ['spaceDelimited', true, 'array', 'color=blue&color=black&color=brown'],
    ['pipeDelimited', false, 'array', 'color=blue%7Cblack%7Cbrown'],
    ['pipeDelimited', false, 'array', 'color=blue|black|brown'],
    ['deepObject', true, 'object', 'color%5BR%5D=100&color[G]=200&color[B]=150'],
  ];
  for (const [style, explode, shape, raw] of vectors) {
    it(`${style} explode=${explode} ${shape}: ${raw}`, () => {
      assert.deepEqual(
        value(readQuery(spec('query', style, explode, shape), parsePairs(raw, false))),
        VALUES[shape],
      );
    });
  }

  it('an absent parameter reads as undefined (required is checked by the stage)', () => {
    assert.equal(
      value(readQuery(spec('query', 'form', true, 'primitive'), parsePairs('other=1', false))),
      undefined,
    );
  });

  it('percent-decodes values; `+` stays a literal plus in a query', () => {
    assert.equal(
      value(readQuery(spec('query', 'form', true, 'primitive'), parsePairs('color=a%20b+c', false))),
      'a b+c',
    );
  });

  it('form splits on a literal comma only: an encoded %2C is part of one value', () => {
    assert.deepEqual(
      value(readQuery(spec('query', 'form', false, 'array'), parsePairs('color=a%2Cb,c', false))),
      ['a,b', 'c'],
    );
  });

  it('a repeated non-array parameter is refused (parameter pollution), whichever style', () => {
    for (const s of [spec('query', 'form', true, 'primitive'), spec('query', 'form', false, 'array')]) {
      const read = readQuery(s, parsePairs('color=blue&color=red', false));
      assert.deepEqual(read.ok ? null : [read.rule, read.path], ['repeated', 'query/color']);
    }
    const obj = readQuery(spec('query', 'form', true, 'object'), parsePairs('R=1&R=2', false));
    assert.deepEqual(obj.ok ? null : [obj.rule, obj.path], ['repeated', 'query/color/R']);
    const deep = readQuery(
      spec('query', 'deepObject', true, 'object'),
      parsePairs('color[R]=1&color[R]=2', false),
    );
    assert.deepEqual(deep.ok ? null : [deep.rule, deep.path], ['repeated', 'query/color/R']);
  });

  it('malformed percent-encoding and non-UTF-8 escapes are encoding errors, not half-decoded values', () => {
    for (const raw of ['color=%E0%A4', 'color=%zz', 'color=%']) {
      const read = readQuery(spec('query', 'form', true, 'primitive'), parsePairs(raw, false));
      assert.equal(read.ok ? null : read.rule, 'encoding', raw);
    }
  });

  it('nested deepObject keys are refused rather than guessed', () => {
    const read = readQuery(spec('query', 'deepObject', true, 'object'), parsePairs('color[R][x]=1', false));
    assert.equal(read.ok ? null : read.rule, 'style');
  });

  it('coerces array items and object members to their schema types', () => {
    const ids: ParamSpec = {
      ...spec('query', 'form', false, 'array', 'ids'),
      schema: { type: 'array', items: { type: 'integer' } },
    };
    assert.deepEqual(value(readQuery(ids, parsePairs('ids=1,2,3', false))), [1, 2, 3]);
    assert.deepEqual(value(readQuery(ids, parsePairs('ids=1,2x', false))), [1, '2x']);
  });

  it('a __proto__ member of an object parameter is an own property, not a prototype', () => {
    const s: ParamSpec = { ...spec('query', 'deepObject', true, 'object'), schema: { type: 'object' } };
    const v = value(readQuery(s, parsePairs('color[__proto__]=x&color[isAdmin]=1', false))) as Record<
      string,
      unknown
    >;
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.equal(Object.hasOwn(v, '__proto__'), true);
    assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
  });
});

describe('header and cookie parameters', () => {
  it('simple-style header lists are comma-separated with whitespace trimmed', () => {
    assert.deepEqual(
      value(readHeader(spec('header', 'simple', false, 'array'), ['blue, black', 'brown'])),
      VALUES.array,
    );
    assert.deepEqual(
      value(readHeader(spec('header', 'simple', true, 'object'), ['R=100,G=200,B=150'])),
      VALUES.object,
    );
  });

  it('a non-array header sent on two lines is repeated', () => {
    const read = readHeader(spec('header', 'simple', false, 'primitive', 'x-color'), ['blue', 'red']);
    assert.deepEqual(read.ok ? null : [read.rule, read.path], ['repeated', 'header/x-color']);
  });

  it('cookies: form style, values taken as sent, a repeated cookie refused', () => {
    const cookies = parseCookies('color=blue,black,brown; other=1');
    assert.deepEqual(value(readCookie(spec('cookie', 'form', false, 'array'), cookies)), VALUES.array);
    assert.equal(
      value(readCookie(spec('cookie', 'form', true, 'primitive'), parseCookies('color=a%20b'))),
      'a%20b',
    );
    const twice = readCookie(
      spec('cookie', 'form', true, 'primitive'),
      parseCookies('color=blue; color=red'),
    );
    assert.equal(twice.ok ? null : twice.rule, 'repeated');
  });
});
