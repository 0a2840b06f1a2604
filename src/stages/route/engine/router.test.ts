import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Router } from './router.ts';

/** Segments as path-normalize hands them over: `/a/b` → ['a', 'b']. */
const seg = (path: string) => path.slice(1).split('/');

function router(routes: [method: string, template: string][]): Router<string> {
  const r = new Router<string>();
  for (const [method, template] of routes) r.add(method, template, `${method} ${template}`);
  return r;
}

describe('Router', () => {
  const r = router([
    ['GET', '/items'],
    ['POST', '/items'],
    ['GET', '/items/{id}'],
    ['DELETE', '/items/{id}'],
    ['GET', '/items/{id}.json'],
    ['GET', '/items/new'],
    ['GET', '/items/{id}/parts/{part}'],
    ['GET', '/items/new/parts/static'],
    ['GET', '/files/{name}-{version}.tar.gz'],
    ['GET', '/admin/{id}'],
  ]);

  it('finds a static route', () => {
    assert.deepEqual(r.find('GET', seg('/items')), { kind: 'found', value: 'GET /items', params: {} });
  });

  it('prefers a static segment over a pattern and a parameter', () => {
    assert.deepEqual(r.find('GET', seg('/items/new')), {
      kind: 'found',
      value: 'GET /items/new',
      params: {},
    });
  });

  it('prefers a patterned segment (`{id}.json`) over a plain parameter', () => {
    assert.deepEqual(r.find('GET', seg('/items/7.json')), {
      kind: 'found',
      value: 'GET /items/{id}.json',
      params: { id: '7' },
    });
  });

  it('falls back to a parameter when no static or pattern matches', () => {
    assert.deepEqual(r.find('GET', seg('/items/7')), {
      kind: 'found',
      value: 'GET /items/{id}',
      params: { id: '7' },
    });
  });

  it('backtracks from a static branch that dead-ends to the parameter branch', () => {
    // /items/new/parts/9 matches nothing under the static `new`, so `new` fills {id}.
    assert.deepEqual(r.find('GET', seg('/items/new/parts/9')), {
      kind: 'found',
      value: 'GET /items/{id}/parts/{part}',
      params: { id: 'new', part: '9' },
    });
    assert.deepEqual(r.find('GET', seg('/items/new/parts/static')), {
      kind: 'found',
      value: 'GET /items/new/parts/static',
      params: {},
    });
  });

  it('matches several parameters inside one segment', () => {
    assert.deepEqual(r.find('GET', seg('/files/app-1.2.tar.gz')), {
      kind: 'found',
      value: 'GET /files/{name}-{version}.tar.gz',
      params: { name: 'app', version: '1.2' },
    });
  });

  it('passes parameter values through as decoded by the normalizer (never splitting on `/`)', () => {
    assert.deepEqual(r.find('GET', ['items', 'a/b']), {
      kind: 'found',
      value: 'GET /items/{id}',
      params: { id: 'a/b' },
    });
  });

  it('answers 405 with a sorted Allow list when the path exists but not the method', () => {
    assert.deepEqual(r.find('PUT', seg('/items')), { kind: 'method', allow: 'GET, POST' });
    assert.deepEqual(r.find('POST', seg('/items/7')), { kind: 'method', allow: 'DELETE, GET' });
  });

  it('is exact: case, trailing slashes, extra or empty segments do not match', () => {
    for (const path of [
      '/Items',
      '/ITEMS/1',
      '/items/',
      '/items//',
      '//items',
      '/items/7/extra',
      '/admin/',
      '/',
    ]) {
      assert.deepEqual(r.find('GET', seg(path)), { kind: 'none' }, path);
    }
  });

  it('never fills a parameter with an empty segment', () => {
    assert.deepEqual(r.find('GET', ['admin', '']), { kind: 'none' });
    assert.deepEqual(r.find('GET', ['items', '', 'parts', '1']), { kind: 'none' });
  });

  it('a method is case-sensitive (RFC 9110 §9.1)', () => {
    assert.deepEqual(r.find('get', seg('/items')), { kind: 'method', allow: 'GET, POST' });
  });

  it('refuses the same method on an equivalent template, naming both', () => {
    const clash = router([['GET', '/items/{id}']]);
    assert.throws(
      () => clash.add('GET', '/items/{name}', 'x'),
      /GET \/items\/\{name\} clashes with GET \/items\/\{id\}/,
    );
    const patterned = router([['GET', '/items/{id}.json']]);
    assert.throws(() => patterned.add('GET', '/items/{other}.json', 'x'), /clashes/);
    assert.throws(() => router([['GET', '/a']]).add('GET', '/a', 'x'), /clashes/);
  });

  it('accepts the same template with another method, and different shapes side by side', () => {
    const ok = router([['GET', '/items/{id}']]);
    assert.doesNotThrow(() => ok.add('PUT', '/items/{name}', 'x'));
    assert.doesNotThrow(() => ok.add('GET', '/items/{id}.xml', 'y'));
    assert.deepEqual(ok.find('PUT', seg('/items/3')), { kind: 'found', value: 'x', params: { name: '3' } });
  });
});
