/**
 * A lexer for SQL fragments as they arrive in a request value, in one pass over a byte string
 * and without allocating: the caller owns one `Lexer` record and reads each token from it.
 *
 * It is lenient where databases differ, because an attacker picks the dialect: `--` starts a
 * comment with or without the space MySQL wants, `#` is MySQL's line comment, `''` escapes a
 * quote in every dialect and `\'` in MySQL (the caller picks; see `backslash`), and every
 * byte up to 0x20 plus 0xA0 counts as whitespace (SQL Server accepts control bytes between
 * tokens; MySQL accepts `%0b` and `%a0`). MySQL's executable comments `/*! … *\/` and `/*!50000 … *\/` are not comments to
 * MySQL, so their body is lexed as code. A keyword split by an empty comment (`UN/**\/ION`),
 * a filter-evasion trick aimed at filters that strip comments, is read as the keyword.
 */

import { isDigit, isHex, isSpace, isWordChar, isWordStart, scanString, skipSpace } from './bytes.ts';
import { scanAcrossComments, scannedWordId, scanWord, wordEnd, wordNode } from './scan-word.ts';
import { T } from './token-types.ts';
import { GUARD_PAREN, WORD_TABLE, wordAt } from './words.ts';

export interface Lexer {
  input: string;
  pos: number;
  end: number;
  /** Inside a MySQL `/*! … *\/` comment, whose closing `*\/` is skipped. */
  inExec: boolean;
  /** The last token: class, start offset, whether `+ - ~ ! NOT` may be unary, block comment. */
  type: number;
  start: number;
  unary: boolean;
  block: boolean;
  /** The token is `||`, which joins strings outside MySQL. */
  concat: boolean;
  /** `\` escapes a quote inside a string (MySQL), or is a plain byte (standard SQL). */
  backslash: boolean;
  /** The token is a string the value ends inside: the application's quote would close it. */
  open: boolean;
}

export function createLexer(): Lexer {
  return {
    input: '',
    pos: 0,
    end: 0,
    inExec: false,
    type: 0,
    start: 0,
    unary: false,
    block: false,
    concat: false,
    backslash: true,
    open: false,
  };
}

export function resetLexer(lx: Lexer, input: string, pos: number, backslash: boolean): void {
  lx.backslash = backslash;
  lx.input = input;
  lx.pos = pos;
  lx.end = input.length;
  lx.inExec = false;
}

function lexWord(lx: Lexer, s: string, i: number): void {
  const end = lx.end;
  scanWord(s, i, end, 0);
  scanAcrossComments(s, end);
  let j = wordEnd;
  const c1 = s.charCodeAt(i) | 0x20;
  // N'national', X'hex', B'bits', E'escaped' (PostgreSQL) are string literals.
  if (j === i + 1 && s.charCodeAt(j) === 0x27 && (c1 === 0x6e || c1 === 0x78 || c1 === 0x62 || c1 === 0x65)) {
    const close = scanString(s, j + 1, 0x27, lx.backslash);
    lx.type = T.STR;
    lx.open = close < 0;
    lx.pos = close < 0 ? end : close;
    return;
  }
  const id = scannedWordId();
  let cls = id === 0 ? T.WORD : WORD_TABLE.wordClass[id]!;
  if (id !== 0 && WORD_TABLE.pairFirst[id] === 1) {
    const p = skipSpace(s, j, end);
    if (p < end && isWordStart(s.charCodeAt(p))) {
      scanWord(s, p, end, 0);
      const pair = WORD_TABLE.pairs.get(id * 4096 + wordAt(wordNode));
      if (pair !== undefined) {
        cls = pair;
        j = wordEnd;
      }
    }
  }
  if (id !== 0 && WORD_TABLE.callClass[id] !== 0) {
    const p = skipSpace(s, j, end);
    if (s.charCodeAt(p) === 0x28) {
      cls = WORD_TABLE.callClass[id]!;
      // MySQL wants its built-ins glued to `(`; `Benchmark (2024)` and `sleep (8 hours)` are
      // prose. Spaced out, an attack function still counts as a function (`' and sleep (5)`);
      // split by a comment (`sleep/**/(5)`) it is an evasion and stays one.
      if (cls === T.F && p > j && !hasSlash(s, j, p)) cls = T.FN;
    }
  }
  if (id !== 0 && WORD_TABLE.guard[id] !== 0 && !guardHolds(s, j, end, WORD_TABLE.guard[id]!)) cls = T.WORD;
  lx.type = cls;
  lx.unary = cls === T.NOT;
  lx.pos = j;
}

function hasSlash(s: string, i: number, end: number): boolean {
  const at = s.indexOf('/', i);
  return at >= 0 && at < end;
}

/** What must follow a guarded comparison word (words.ts) for it to be SQL. */
function guardHolds(s: string, j: number, end: number, guard: number): boolean {
  const p = skipSpace(s, j, end);
  if (guard === GUARD_PAREN) return s.charCodeAt(p) === 0x28;
  if (p >= end || !isWordStart(s.charCodeAt(p))) return false;
  scanWord(s, p, end, 0);
  const next = WORD_TABLE.wordClass[wordAt(wordNode)];
  return next === T.NUM || next === T.NOT;
}

function lexNumber(lx: Lexer, s: string, i: number): void {
  const end = lx.end;
  let j = i;
  const c1 = s.charCodeAt(i + 1) | 0x20;
  if (s.charCodeAt(i) === 0x30 && c1 === 0x78 && isHex(s.charCodeAt(i + 2))) {
    j = i + 2;
    while (j < end && isHex(s.charCodeAt(j))) j++;
  } else if (s.charCodeAt(i) === 0x30 && c1 === 0x62 && (s.charCodeAt(i + 2) | 1) === 0x31) {
    j = i + 2;
    while (j < end && (s.charCodeAt(j) | 1) === 0x31) j++;
  } else {
    let dot = false;
    while (j < end) {
      const c = s.charCodeAt(j);
      if (isDigit(c)) j++;
      else if (c === 0x2e && !dot) {
        dot = true;
        j++;
      } else break;
    }
    if ((s.charCodeAt(j) | 0x20) === 0x65) {
      let k = j + 1;
      const sign = s.charCodeAt(k);
      if (sign === 0x2b || sign === 0x2d) k++;
      if (isDigit(s.charCodeAt(k))) {
        j = k;
        while (j < end && isDigit(s.charCodeAt(j))) j++;
      }
    }
  }
  // `1st`, `2abc` are identifiers to MySQL, but `1union`, `1or` split into a number and a
  // keyword — the glued form is an evasion of filters that want a space before keywords.
  if (j < end && isWordStart(s.charCodeAt(j))) {
    scanWord(s, j, end, 0);
    const id = wordAt(wordNode);
    const keyword = id !== 0 && (WORD_TABLE.wordClass[id] !== T.WORD || WORD_TABLE.pairFirst[id] === 1);
    if (!keyword) {
      lx.type = T.WORD;
      lx.pos = wordEnd;
      return;
    }
  }
  lx.type = T.NUM;
  lx.pos = j;
}

function lineEnd(s: string, i: number, end: number): number {
  const nl = s.indexOf('\n', i);
  return nl < 0 ? end : nl + 1;
}

/** Reads the next token into `lx`; false at the end of the input. */
export function nextToken(lx: Lexer): boolean {
  const s = lx.input;
  const end = lx.end;
  let i = lx.pos;
  for (;;) {
    while (i < end && isSpace(s.charCodeAt(i))) i++;
    if (i >= end) {
      lx.pos = end;
      return false;
    }
    const c = s.charCodeAt(i);
    const n = s.charCodeAt(i + 1);
    if (c === 0x2f && n === 0x2a && s.charCodeAt(i + 2) === 0x21) {
      // MySQL executable comment: skip `/*!` and an optional version number, lex the body.
      i += 3;
      while (i < end && isDigit(s.charCodeAt(i))) i++;
      lx.inExec = true;
      continue;
    }
    if (c === 0x2a && n === 0x2f && lx.inExec) {
      i += 2;
      lx.inExec = false;
      continue;
    }
    lx.start = i;
    lx.unary = false;
    lx.block = false;
    lx.concat = false;
    lx.open = false;
    if (c === 0x27 || c === 0x22) {
      const close = scanString(s, i + 1, c, lx.backslash);
      lx.type = T.STR;
      lx.open = close < 0;
      lx.pos = close < 0 ? end : close;
    } else if (isDigit(c) || (c === 0x2e && isDigit(n))) lexNumber(lx, s, i);
    else if (isWordStart(c)) lexWord(lx, s, i);
    else if (c === 0x2f && n === 0x2a) {
      const close = s.indexOf('*/', i + 2);
      lx.type = T.COMMENT;
      lx.block = true;
      lx.pos = close < 0 ? end : close + 2;
    } else if ((c === 0x2d && n === 0x2d) || c === 0x23) {
      lx.type = T.COMMENT;
      lx.pos = lineEnd(s, i, end);
    } else if (c === 0x60) {
      const close = s.indexOf('`', i + 1);
      lx.type = T.WORD;
      lx.pos = close < 0 ? end : close + 1;
    } else if (c === 0x40) lexVariable(lx, s, i);
    else if (c === 0x5b && lexBracketName(lx, s, i)) {
      // SQL Server `[name]`, or a JSON array: a name either way, not operators.
    } else if (c === 0x25 && i > 0 && (s.charCodeAt(i - 1) === 0x27 || s.charCodeAt(i - 1) === 0x22)) {
      // `'%abc%'`: a LIKE pattern right after a quote is data, not a modulo.
      scanWord(s, i + 1, end, -1);
      lx.type = T.WORD;
      lx.pos = s.charCodeAt(wordEnd) === 0x25 ? wordEnd + 1 : wordEnd;
    } else lexPunctuation(lx, c, n, i);
    return true;
  }
}

function lexBracketName(lx: Lexer, s: string, i: number): boolean {
  const close = s.indexOf(']', i + 1);
  const nl = s.indexOf('\n', i + 1);
  if (close < 0 || (nl >= 0 && nl < close)) return false;
  lx.type = T.WORD;
  lx.pos = close + 1;
  return true;
}

function lexVariable(lx: Lexer, s: string, i: number): void {
  let j = i + 1;
  if (s.charCodeAt(j) === 0x40) j++;
  const c = s.charCodeAt(j);
  if (isWordChar(c)) {
    scanWord(s, j, lx.end, -1);
    lx.type = T.VAR;
    lx.pos = wordEnd;
  } else if (c === 0x27 || c === 0x22 || c === 0x60) {
    const close = c === 0x60 ? s.indexOf('`', j + 1) + 1 : scanString(s, j + 1, c, lx.backslash);
    lx.type = T.VAR;
    lx.pos = close <= 0 ? lx.end : close;
  } else {
    lx.type = T.OP;
    lx.pos = i + 1;
  }
}

function lexPunctuation(lx: Lexer, c: number, n: number, i: number): void {
  lx.pos = i + 1;
  switch (c) {
    case 0x28:
      lx.type = T.OPEN;
      return;
    case 0x29:
      lx.type = T.CLOSE;
      return;
    case 0x2c:
      lx.type = T.COMMA;
      return;
    case 0x3b:
      lx.type = T.SEMI;
      return;
    case 0x7c: // `||`: OR in MySQL, concatenation elsewhere — both join an injected operand.
    case 0x26: // `&&`
      if (n === c) {
        lx.type = T.LOGIC;
        lx.concat = c === 0x7c;
        lx.pos = i + 2;
        return;
      }
      lx.type = T.ADD;
      return;
    case 0x3d:
    case 0x3c:
    case 0x3e:
      lx.type = T.CMP;
      return;
    case 0x5e:
      lx.type = T.ADD;
      return;
    case 0x2b:
    case 0x2d:
      lx.type = T.ADD;
      lx.unary = true;
      return;
    case 0x7e:
    case 0x21:
      lx.type = T.OP;
      lx.unary = true;
      return;
    default:
      lx.type = T.OP;
  }
}
