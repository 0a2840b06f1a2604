/**
 * Byte sets for the SecLang regex rewriter: every character class of a pattern (`[...]`,
 * `\d`, `\s`, `\w`, POSIX `[:alpha:]`, case folding) becomes a set of the 256 byte values,
 * emitted as an explicit JS class of `\xhh` ranges. Matching on byte strings (one JS char per
 * byte) means JS's own notion of `\s` (which includes U+00A0, i.e. the byte 0xA0 that is the
 * second byte of "à" in UTF-8) or of case folding (which folds "à"/"À", bytes 0xE0/0xC0) would
 * match bytes RE2 and PCRE in byte mode do not; explicit sets make the semantics RE2's.
 */

export type ByteSet = boolean[];

export function emptySet(): ByteSet {
  return new Array<boolean>(256).fill(false);
}

export function addRange(set: ByteSet, lo: number, hi: number): void {
  for (let b = lo; b <= hi; b++) set[b] = true;
}

export function addSet(set: ByteSet, other: ByteSet): void {
  for (let b = 0; b < 256; b++) if (other[b] === true) set[b] = true;
}

export function negate(set: ByteSet): ByteSet {
  return set.map((v) => !v);
}

/** ASCII-only case folding, as PCRE in the C locale and RE2 on ASCII do. */
export function foldCase(set: ByteSet): ByteSet {
  const out = set.slice();
  for (let b = 0x41; b <= 0x5a; b++) {
    if (set[b] === true || set[b + 0x20] === true) {
      out[b] = true;
      out[b + 0x20] = true;
    }
  }
  return out;
}

function rangesOf(...spans: Array<[number, number]>): ByteSet {
  const set = emptySet();
  for (const [lo, hi] of spans) addRange(set, lo, hi);
  return set;
}

const DIGIT = rangesOf([0x30, 0x39]);
const WORD = rangesOf([0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]);
/** RE2's `\s` is `[\t\n\f\r ]`: no vertical tab (CRS writes `[\s\x0b]` where it wants it). */
const SPACE = rangesOf([0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]);

/** The Perl classes `\d \D \s \S \w \W`, or undefined for another letter. */
export function perlClass(letter: string): ByteSet | undefined {
  switch (letter) {
    case 'd':
      return DIGIT;
    case 'D':
      return negate(DIGIT);
    case 's':
      return SPACE;
    case 'S':
      return negate(SPACE);
    case 'w':
      return WORD;
    case 'W':
      return negate(WORD);
    default:
      return undefined;
  }
}

const POSIX: Record<string, Array<[number, number]>> = {
  alnum: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  alpha: [
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  ascii: [[0x00, 0x7f]],
  blank: [
    [0x09, 0x09],
    [0x20, 0x20],
  ],
  cntrl: [
    [0x00, 0x1f],
    [0x7f, 0x7f],
  ],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [
    [0x21, 0x2f],
    [0x3a, 0x40],
    [0x5b, 0x60],
    [0x7b, 0x7e],
  ],
  space: [
    [0x09, 0x0d],
    [0x20, 0x20],
  ],
  upper: [[0x41, 0x5a]],
  word: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x5f, 0x5f],
    [0x61, 0x7a],
  ],
  xdigit: [
    [0x30, 0x39],
    [0x41, 0x46],
    [0x61, 0x66],
  ],
};

/** A POSIX class name (`alpha` of `[:alpha:]`), or undefined when RE2 does not know it. */
export function posixClass(name: string): ByteSet | undefined {
  const spans = POSIX[name];
  return spans === undefined ? undefined : rangesOf(...spans);
}

function hex(b: number): string {
  return `\\x${b.toString(16).padStart(2, '0')}`;
}

/** One byte as a JS regex atom that means exactly that byte, outside or inside a class. */
export function byteAtom(b: number): string {
  const isAlnum = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
  return isAlnum ? String.fromCharCode(b) : hex(b);
}

/** The set as a JS class; a full set is `[\s\S]`-like `[\x00-\xff]`, an empty one never matches. */
export function emitSet(set: ByteSet): string {
  let count = 0;
  let single = -1;
  for (let b = 0; b < 256; b++) {
    if (set[b] === true) {
      count++;
      single = b;
    }
  }
  if (count === 1) return byteAtom(single);
  // Bytes above 0xFF never occur in a byte string, so a full set needs no wider range.
  if (count === 0) return '[^\\x00-\\uffff]';
  let out = '[';
  let b = 0;
  while (b < 256) {
    if (set[b] !== true) {
      b++;
      continue;
    }
    let end = b;
    while (end + 1 < 256 && set[end + 1] === true) end++;
    if (end === b) out += byteAtom(b);
    else if (end === b + 1) out += byteAtom(b) + byteAtom(end);
    else out += `${byteAtom(b)}-${byteAtom(end)}`;
    b = end + 1;
  }
  return `${out}]`;
}
