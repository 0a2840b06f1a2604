import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BodyState, processBody, selectBodyProcessor, toByteString } from './index.ts';

function collect(processor: string, body: string, ctype = '') {
  const entries: [string, string, string][] = [];
  const scalars = new Map<string, string>();
  const state: BodyState = { add: (c, k, v) => entries.push([c, k, v]), set: (n, v) => scalars.set(n, v) };
  const error = processBody(processor, body, ctype, state);
  const of = (c: string) => entries.filter((e) => e[0] === c).map((e) => [e[1], e[2]]);
  return { error, of, scalars };
}

test('the processor follows the Content-Type', () => {
  assert.equal(selectBodyProcessor('application/x-www-form-urlencoded; charset=utf-8'), 'URLENCODED');
  assert.equal(selectBodyProcessor('Multipart/Form-Data; boundary=x'), 'MULTIPART');
  assert.equal(selectBodyProcessor('application/json'), 'JSON');
  assert.equal(selectBodyProcessor('application/soap+xml'), 'XML');
  assert.equal(selectBodyProcessor('text/xml'), 'XML');
  assert.equal(selectBodyProcessor('text/plain'), undefined);
});

test('JSON is flattened as json.a.b and json.a.0, escapes become UTF-8 bytes', () => {
  const r = collect('JSON', '{"a":{"b":[1,true,null]},"s":"\\u00e9"}');
  assert.equal(r.error, undefined);
  assert.deepEqual(r.of('ARGS_POST'), [
    ['json.a.b', '3'],
    ['json.a.b.0', '1'],
    ['json.a.b.1', 'true'],
    ['json.a.b.2', ''],
    ['json.s', '\xc3\xa9'],
  ]);
  assert.match(collect('JSON', '{"a":').error ?? '', /JSON parse error/);
});

test('deeply nested JSON is an error, not a stack overflow', () => {
  const r = collect('JSON', `${'['.repeat(5000)}${']'.repeat(5000)}`);
  assert.match(r.error ?? '', /nesting/);
});

test('multipart: fields, files, part headers, and the strict-error flags', () => {
  const body =
    '--b\r\nContent-Disposition: form-data; name="f"; filename="..\\a.php"\r\nContent-Type: image/png\r\n\r\nDATA\r\n--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n--b--\r\n';
  const r = collect('MULTIPART', body, 'multipart/form-data; boundary=b');
  assert.equal(r.error, undefined);
  assert.deepEqual(r.of('FILES'), [['f', '..\\a.php']]);
  assert.deepEqual(r.of('FILES_SIZES'), [['f', '4']]);
  assert.deepEqual(r.of('ARGS_POST'), [['x', '1']]);
  assert.deepEqual(r.of('MULTIPART_PART_HEADERS'), [
    ['f', 'Content-Disposition: form-data; name="f"; filename="..\\a.php"'],
    ['f', 'Content-Type: image/png'],
    ['x', 'Content-Disposition: form-data; name="x"'],
  ]);
  assert.equal(r.scalars.get('MULTIPART_STRICT_ERROR'), '0');
  assert.equal(r.scalars.get('FILES_COMBINED_SIZE'), '4');
});

test('multipart evasion: data before the first boundary, missing final boundary', () => {
  const r = collect(
    'MULTIPART',
    'junk\r\n--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n',
    'multipart/form-data; boundary=b',
  );
  assert.equal(r.scalars.get('MULTIPART_DATA_BEFORE'), '1');
  assert.equal(r.scalars.get('MULTIPART_UNMATCHED_BOUNDARY'), '1');
  assert.equal(r.scalars.get('MULTIPART_STRICT_ERROR'), '1');
  assert.match(collect('MULTIPART', 'x', 'multipart/form-data').error ?? '', /no boundary/);
});

test('XML: text nodes as XML:/*, attribute values as XML://@*; no entity expansion', () => {
  const r = collect(
    'XML',
    '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a id="1"><b k=\'v &amp; w\'>t&lt;1</b>&x;<![CDATA[<c>]]></a>',
  );
  assert.equal(r.error, undefined);
  assert.deepEqual(r.of('XML'), [
    ['//@*', '1'],
    ['//@*', 'v & w'],
    ['/*', 't<1'],
    ['/*', '&x;'],
    ['/*', '<c>'],
  ]);
  assert.match(collect('XML', '<a><b></a>').error ?? '', /mismatched/);
});

test('toByteString keeps bytes and re-encodes wide characters as UTF-8', () => {
  assert.equal(toByteString('a\xff'), 'a\xff');
  assert.equal(toByteString('€'), '\xe2\x82\xac');
});
