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
