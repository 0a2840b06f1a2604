/**
 * Body processors see attacker-controlled bytes: whatever arrives, they return (an error
 * message at worst) and never throw. Deterministic pseudo-random inputs, built from the
 * characters each format treats specially.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BodyState, processBody } from './index.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function noise(r: () => number, alphabet: string[], len: number): string {
  let out = '';
  for (let i = 0; i < len; i++) out += alphabet[Math.floor(r() * alphabet.length)];
  return out;
}

const sink: BodyState = { add: () => {}, set: () => {} };

const cases: [string, string, string[]][] = [
  [
    'JSON',
    '',
    ['{', '}', '[', ']', '"', ':', ',', '\\', 'u', '0', 'd', '8', 'a', ' ', 'true', 'null', '\xff'],
  ],
  [
    'XML',
    '',
    ['<', '>', '/', '!', '?', '[', ']', '"', "'", '=', '&', '#', ';', 'a', 'x', '-', 'CDATA', ' ', '\x00'],
  ],
  [
    'MULTIPART',
    'multipart/form-data; boundary=b',
    [
      '--b',
      '\r\n',
      '\n',
      'Content-Disposition: form-data; ',
      'name="',
      'filename=',
      '"',
      ';',
      '\\',
      ' ',
      '\t',
      'x',
      '--',
    ],
  ],
  ['URLENCODED', '', ['%', '2', 'G', '+', '&', '=', 'a', '\x00', '\xff']],
];

for (const [processor, ctype, alphabet] of cases) {
  test(`${processor}: random bodies never throw`, () => {
    const r = rng(processor.length * 7919);
    for (let i = 0; i < 3000; i++) {
      const body = noise(r, alphabet, Math.floor(r() * 80));
      const res = processBody(processor, body, ctype, sink);
      assert.ok(res === undefined || typeof res === 'string');
    }
  });
}

test('inputs built to be slow still parse: a long Content-Disposition, many XML attributes', () => {
  // (Parsers scan by index, never re-slicing what remains, so these stay linear; speed is
  // measured in bench/, not asserted here.)
  const names: string[] = [];
  let attrs = 0;
  const state: BodyState = {
    add: (c, k) => {
      if (c === 'ARGS_POST') names.push(k);
      if (c === 'XML') attrs++;
    },
    set: () => {},
  };
  const mp = `--b\r\nContent-Disposition: form-data${'; a=b'.repeat(50_000)}; name="x"\r\n\r\n1\r\n--b--\r\n`;
  assert.equal(processBody('MULTIPART', mp, 'multipart/form-data; boundary=b', state), undefined);
  assert.deepEqual(names, ['x']);
  const xml = `<a ${Array.from({ length: 20_000 }, (_, i) => `k${i}="v"`).join(' ')}/>`;
  assert.equal(processBody('XML', xml, '', state), undefined);
  assert.equal(attrs, 20_000);
  const spaces = `--b\r\nContent-Disposition: form-data;${' '.repeat(100_000)}x\r\n\r\n1\r\n--b--\r\n`;
  assert.equal(processBody('MULTIPART', spaces, 'multipart/form-data; boundary=b', state), undefined);
});
