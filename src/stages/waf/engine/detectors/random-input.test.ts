import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectSQLi } from './sqli/index.ts';
import { detectXSS } from './xss/index.ts';

/**
 * The detectors run on every argument of every request, on bytes an attacker chooses: they
 * must return a verdict for any input, never throw, and answer the same way twice (they keep
 * scratch state between calls). Inputs are drawn from the bytes that drive their state
 * machines, with a fixed seed so a failure reproduces.
 */

const ALPHABET = [
  "'",
  '"',
  '`',
  '\\',
  '/*',
  '*/',
  '/*!',
  '--',
  '#',
  '(',
  ')',
  ';',
  ',',
  '=',
  '<',
  '>',
  '</',
  '<!--',
  '-->',
  '&#',
  '&#x',
  ';',
  'x',
  '1',
  '0x',
  ' ',
  '\t',
  '\0',
  '\xa0',
  'or',
  'union',
  'select',
  'sleep',
  'script',
  'onerror',
  'javascript:',
  '@',
  '||',
  '[',
  ']',
  '%',
  '\xff',
];

/** xorshift32: small, deterministic. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

function inputs(count: number, seed: number): string[] {
  const next = rng(seed);
  const out: string[] = [];
  for (let n = 0; n < count; n++) {
    let s = '';
    const parts = Math.floor(next() * 40);
    for (let i = 0; i < parts; i++) s += ALPHABET[Math.floor(next() * ALPHABET.length)];
    out.push(s);
  }
  return out;
}

describe('detectors on random inputs', () => {
  const values = inputs(20_000, 0x5eed);

  it('detectSQLi returns a stable verdict for every input', () => {
    for (const v of values) {
      const first = detectSQLi(v);
      assert.equal(typeof first.match, 'boolean');
      if (first.match) assert.match(first.fingerprint ?? '', /^[snvbo&UETkfF(),;c=a]+$/);
      assert.deepEqual(detectSQLi(v), first, JSON.stringify(v));
    }
  });

  it('detectXSS returns a stable verdict for every input', () => {
    for (const v of values) {
      const first = detectXSS(v);
      assert.equal(typeof first, 'boolean');
      assert.equal(detectXSS(v), first, JSON.stringify(v));
    }
  });

  it('flags a sample of the random inputs, so the generator reaches the detectors', () => {
    assert.ok(values.some((v) => detectSQLi(v).match));
    assert.ok(values.some((v) => detectXSS(v)));
    assert.ok(values.some((v) => !detectSQLi(v).match && !detectXSS(v)));
  });
});
