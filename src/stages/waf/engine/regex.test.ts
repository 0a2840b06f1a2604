import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compileByteRegex, compileRegex, LINEAR_ABOVE } from './regex.ts';
import { rewriteRegex } from './regex-rewrite.ts';

const CRS_RULES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../../shared/crs/v4.28.0/rules');

/** Every `@rx` parameter in the CRS rule files (continuation lines joined, `\"` unescaped). */
function crsPatterns(): Array<{ file: string; pattern: string }> {
  const out: Array<{ file: string; pattern: string }> = [];
  for (const file of readdirSync(CRS_RULES).filter((f) => f.endsWith('.conf'))) {
    const text = readFileSync(join(CRS_RULES, file), 'latin1').replace(/\\\r?\n/g, '');
    for (const m of text.matchAll(/"!?@rx ((?:[^"\\]|\\.)*)"/g)) {
      out.push({ file, pattern: (m[1] as string).replace(/\\"/g, '"') });
    }
  }
  return out;
}

test('every @rx pattern of CRS v4.28.0 compiles', () => {
  const patterns = crsPatterns();
  assert.ok(patterns.length >= 318, `found ${patterns.length} @rx patterns`);
  const failed: string[] = [];
  for (const { file, pattern } of patterns) {
    try {
      compileRegex(pattern);
    } catch (err) {
      failed.push(`${file}: ${(err as Error).message}: ${pattern.slice(0, 80)}`);
    }
  }
  assert.deepEqual(failed, []);
});

const m = (pattern: string, input: string): boolean => compileRegex(pattern).test(input);

test('leading (?i), (?is) and (?s) are flags', () => {
  assert.equal(m('(?i)select', 'SeLeCt'), true);
  assert.equal(m('(?is)a.b', 'A\nB'), true);
  assert.equal(m('(?s)a.b', 'a\nb'), true);
  assert.equal(m('select', 'SELECT'), false);
});

test('case folding is ASCII-only, as on bytes', () => {
  assert.equal(m('(?i)\xe0', '\xc0'), false, 'Latin-1 à/À are different bytes');
  assert.equal(m('(?i)[a-c]', 'B'), true);
  assert.equal(m('(?i)[^a]', 'A'), false, 'a negated class excludes both cases');
});

test('(?i:...) groups and mid-pattern (?i) scope to their group, as RE2 scopes them', () => {
  assert.equal(m('^(?i:file|ftp)x', 'FTPx'), true);
  assert.equal(m('^(?i:file|ftp)x', 'FTPX'), false);
  assert.equal(m('^(?i)up', 'UP'), true);
  assert.equal(m('a(?i)b|c', 'aB'), true);
  assert.equal(m('a(?i)b|c', 'C'), true, 'the flag runs on across |');
  assert.equal(m('(x(?i)y)z', 'xYz'), true);
  assert.equal(m('(x(?i)y)z', 'xYZ'), false, 'and ends with the group');
  assert.equal(m('(?i)a(?-i)b', 'Ab'), true);
  assert.equal(m('(?i)a(?-i)b', 'AB'), false);
});

test('dot matches every byte, newlines included, always', () => {
  assert.equal(m('^a.c$', 'a\nc'), true);
  assert.equal(m('^.$', '\xff'), true);
  assert.equal(m('^...$', '\xe2\x82\xac'), true, 'a 3-byte UTF-8 character is three bytes');
});

test('bytes ≥ 0x80 match as single characters', () => {
  assert.equal(m('^[\\x80-\\xff]+$', '\xc3\xa9'), true);
  assert.equal(m('\\xc3\\xa9', 'caf\xc3\xa9'), true);
  assert.equal(m('^[^a-z]$', '\xe9'), true);
});

test('\\x{hh} is a byte; \\x{hhhh} is its UTF-8 bytes', () => {
  assert.equal(m('\\x{41}', 'A'), true);
  assert.equal(m('[\\x{0}-\\x{1f}]', '\x01'), true);
  assert.equal(m('^\\x{2028}$', '\xe2\x80\xa8'), true);
  assert.equal(m('^\\x{2028}+$', '\xe2\x80\xa8\xe2\x80\xa8'), true, 'a repeat covers the whole sequence');
  assert.throws(() => compileRegex('[\\x{2028}]'), /inside a class/);
});

test('anchors: \\A, \\z, \\Z, ^, $', () => {
  assert.equal(m('\\Aab', 'abc'), true);
  assert.equal(m('\\Aab', 'cab'), false);
  assert.equal(m('ab\\z', 'cab'), true);
  assert.equal(m('ab\\z', 'ab\n'), false, '\\z is the very end');
  assert.equal(m('ab\\Z', 'ab\n'), true, '\\Z allows one final newline');
  assert.equal(m('ab$', 'ab\n'), false, '$ without (?m) is the end of text, as in RE2');
  assert.equal(m('(?m)^b$', 'a\nb\nc'), true);
});

test('\\s is RE2\'s [\\t\\n\\f\\r ]: not \\v, not 0xA0 (the second byte of "à")', () => {
  assert.equal(m('a\\sb', 'a\tb'), true);
  assert.equal(m('a\\sb', 'a\x0bb'), false);
  assert.equal(m('\\s', '\xc3\xa0'), false);
  assert.equal(m('[\\s\\x0b]', '\x0b'), true);
  assert.equal(m('^\\S+$', 'a\xa0b'), true);
  assert.equal(m('^[^\\S]$', ' '), true);
});

test('\\w, \\d, \\b are ASCII', () => {
  assert.equal(m('^\\w+$', 'a_Z9'), true);
  assert.equal(m('\\w', '\xe9'), false);
  assert.equal(m('\\bor\\b', 'x or y'), true);
  assert.equal(m('\\bor\\b', 'xory'), false);
  assert.equal(m('[\\W\\d]', '5'), true);
});

test('POSIX classes, literal ] first in a class, literal braces', () => {
  assert.equal(m('^[[:alpha:]]+$', 'abcXYZ'), true);
  assert.equal(m('[[:digit:]]', 'abc'), false);
  assert.equal(m('^[[:^space:]]+$', 'ab'), true);
  assert.equal(m('[]a]', ']'), true);
  assert.equal(m('[^]a]', ']'), false);
  assert.equal(m('a{,2}', 'a{,2}'), true, 'not a repeat in RE2: literal');
  assert.equal(m('^a{2}$', 'aa'), true);
  assert.equal(m('x{', 'x{'), true);
});

test('octal, \\Q...\\E and named groups', () => {
  assert.equal(m('\\101', 'A'), true);
  assert.equal(m('\\0', '\x00'), true);
  assert.equal(m('\\Qa.b\\E', 'a.b'), true);
  assert.equal(m('\\Qa.b\\E', 'axb'), false);
  assert.equal(m('(?P<n>a)b', 'ab'), true);
});

test('what RE2 refuses fails the load with a message', () => {
  assert.throws(() => compileRegex('(a)\\1'), /backreference/);
  assert.throws(() => compileRegex('\\p{L}'), /unsupported escape/);
  assert.throws(() => compileRegex('a{1001}'), /repeat count/);
  assert.throws(() => compileRegex('(a'), /missing closing \)/);
  assert.throws(() => compileRegex('a)'), /unexpected \)/);
  assert.throws(() => compileRegex('[a'), /missing closing \]/);
  assert.throws(() => compileRegex('[z-a]'), /bad class range/);
  assert.throws(() => compileRegex('*a'), /invalid regex/);
  assert.throws(() => compileRegex('a(?U)b'), /unsupported flag/);
  assert.throws(() => compileRegex('a(?m)b'), /only at the start/);
  assert.throws(() => compileRegex('\u0100'), /above 0xFF/);
});

test('CRS patterns that blow up on backtracking run in linear time on long inputs', () => {
  // Measured in bench/waf-regex.ts: 16 s, and over 2 s on 1 KiB, on V8's backtracking engine.
  for (const p of ['(\\d+)-(\\d+)', '[\\n\\r]+(?:[\\s\\x0b]|location|re(?:fresh|mote-(?:ip|addr)))']) {
    assert.equal(compileByteRegex(p).linear, true, p);
  }
  const linear = crsPatterns().filter(({ pattern }) => compileByteRegex(pattern).linear).length;
  assert.ok(linear >= 296, `${linear} of the CRS patterns have the linear-time guard`);
});

test('patterns the linear engine refuses match exactly, through the relaxed pre-filter on long inputs', () => {
  const re = compileByteRegex('(?:^|[/\\x5c])sess_[,\\-0-9a-z]{20,256}$');
  assert.equal(re.linear, false);
  const pad = '/'.repeat(LINEAR_ABOVE);
  assert.equal(re.test(`/tmp/sess_${'a'.repeat(26)}`), true);
  assert.equal(re.test(`${pad}sess_${'a'.repeat(26)}`), true);
  assert.equal(re.test(`${pad}sess_${'a'.repeat(19)}`), false, 'below the repeat minimum');
  assert.equal(
    re.test(`${pad}sess_${'a'.repeat(257)}`),
    false,
    'over the repeat maximum: the pre-filter passes, the pattern decides',
  );
  assert.deepEqual(re.exec(`${pad}sess_${'b'.repeat(20)}`)?.[0], `/sess_${'b'.repeat(20)}`);
  assert.equal(re.exec(`${pad}nothing`), null);
});

test('relaxed repeats are a superset: x{n,m} → x+ or x*', () => {
  assert.equal(rewriteRegex('a{2,5}b{0,3}c{1}d{3,}', { relaxRepeats: true }).source, 'a+b*c{1}d+');
  assert.equal(rewriteRegex('a{2,5}?', { relaxRepeats: true }).source, 'a+?');
});

test('both engines give the same answers and captures on either side of LINEAR_ABOVE', () => {
  const re = compileByteRegex('(?i)(\\w+)=(\\d+)\\s*$');
  const pad = ' '.repeat(LINEAR_ABOVE);
  for (const [input, expected] of [
    ['ID=42', ['ID=42', 'ID', '42']],
    [`${pad}Id=7 `, ['Id=7 ', 'Id', '7']],
    ['id=x', null],
    [`${pad}id=x`, null],
  ] as const) {
    const m = re.exec(input);
    assert.deepEqual(m === null ? null : [...m], expected, JSON.stringify(input.slice(-12)));
    assert.equal(re.test(input), expected !== null);
  }
  const bytes = compileByteRegex('^[\\x80-\\xff]+$');
  assert.equal(bytes.test('\xe9'.repeat(LINEAR_ABOVE + 1)), true);
  assert.equal(bytes.test(`${'\xe9'.repeat(LINEAR_ABOVE)}a`), false);
});
