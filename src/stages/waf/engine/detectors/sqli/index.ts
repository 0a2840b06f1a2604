/**
 * `@detectSQLi`: does this value, placed in an SQL statement, change the statement?
 *
 * A value can land in three places — as-is (a number or raw SQL position), inside a
 * single-quoted string, inside a double-quoted string — so the value is read three times:
 * as-is, and as if preceded by `'` and by `"` (the application's opening quote; the string
 * context is skipped when the value holds no such quote, since it then cannot close it).
 * Each reading is lexed (lexer.ts), folded, and its first tokens walked through the
 * fingerprint automaton (fingerprints.ts); the first reading that matches is the verdict.
 *
 * Folding makes equivalent spellings one fingerprint: a comment between tokens is whitespace
 * (only a trailing comment counts, as `c`); unary `+ - ~ ! NOT` disappear; runs of
 * operators, of `(` and of `)` collapse to one; `'ad'||'min'` is one string. Apart from the fingerprint, one rule reads up
 * to MAX_TOKENS tokens: a UNION after a block comment (`/**\/union/**\/select`,
 * `/*…*\/2 union all`) — comments as token separators are an evasion, not prose.
 *
 * Cost: linear in the input (each reading stops as soon as no pattern can match any more,
 * which for prose is after a token or two), no regular expressions, and no allocation except
 * the fingerprint string of a match.
 */

import { scanString } from './bytes.ts';
import { AUTOMATON, CTX_AS_IS, CTX_QUOTED } from './fingerprints.ts';
import { createLexer, nextToken, resetLexer } from './lexer.ts';
import { CLASSES, LETTERS, T } from './token-types.ts';

export interface SqliVerdict {
  readonly match: boolean;
  /** The token classes that matched, e.g. `s&s=` for `' or 'a'='a`; present on a match. */
  readonly fingerprint?: string;
}

/** Folded tokens read per context; the longest pattern is 10 tokens. */
const MAX_TOKENS = 16;
const NO_MATCH: SqliVerdict = Object.freeze({ match: false });

const lexer = createLexer();
const types = new Uint8Array(MAX_TOKENS + 1);
/** The automaton state after each folded token, so a fold can take a token back. */
const states = new Int32Array(MAX_TOKENS + 1);
let count = 0;

export function detectSQLi(input: string): SqliVerdict {
  if (input.length === 0) return NO_MATCH;
  const comments = input.indexOf('/*') >= 0;
  if (readContext(input, 0, CTX_AS_IS, comments, true)) return verdict();
  if (quoted(input, 0x27, comments)) return verdict();
  if (quoted(input, 0x22, comments)) return verdict();
  return NO_MATCH;
}

/**
 * Inside a string opened with `quote`: read with MySQL's backslash escapes, and again with
 * standard SQL's (PostgreSQL, SQLite, SQL Server, Oracle), where `\'` is a backslash and
 * the quote that closes the string — only when the value holds such a pair.
 */
function quoted(input: string, quote: number, comments: boolean): boolean {
  const q = quote === 0x27 ? "'" : '"';
  const at = input.indexOf(q);
  if (at < 0) return false;
  if (readContext(input, quote, CTX_QUOTED, comments, true)) return true;
  const escaped = quote === 0x27 ? "\\'" : '\\"';
  return input.indexOf(escaped, at - 1) >= 0 && readContext(input, quote, CTX_QUOTED, comments, false);
}

function verdict(): SqliVerdict {
  let fp = '';
  for (let i = 0; i < count; i++) fp += LETTERS[types[i]!];
  return { match: true, fingerprint: fp };
}

/** After these, `+ - ~ ! NOT` are unary: they change no fingerprint. */
function unaryAfter(last: number): boolean {
  return (
    last === 0 ||
    last === T.OP ||
    last === T.ADD ||
    last === T.CMP ||
    last === T.LOGIC ||
    last === T.OPEN ||
    last === T.COMMA ||
    last === T.SEMI ||
    last === T.K ||
    last === T.E ||
    last === T.U ||
    last === T.T
  );
}

function isOperator(t: number): boolean {
  return t === T.OP || t === T.ADD || t === T.CMP;
}

/** A comparison outranks an additive operator, which outranks the others. */
function rank(t: number): number {
  return t === T.CMP ? 3 : t === T.ADD ? 2 : 1;
}

/**
 * One reading. `quote` is 0 for as-is, else the quote the application opened; `comments`
 * whether the value holds a block comment (then the UNION rule needs the whole window);
 * `backslash` whether `\` escapes a quote.
 */
function readContext(
  input: string,
  quote: number,
  ctx: number,
  comments: boolean,
  backslash: boolean,
): boolean {
  const { next, prefix, full } = AUTOMATON;
  count = 0;
  let state = 0;
  let alive = true;
  let pendingComment = false;
  let sawBlock = false;
  let concatAt = -1;
  let commentStart = 0;
  let commentEnd = 0;
  const firstFoldable = quote === 0 ? 0 : 1;
  resetLexer(lexer, input, 0, backslash);
  if (quote !== 0) {
    const close = scanString(input, 0, quote, backslash);
    if (close < 0) return false;
    lexer.pos = close;
    state = next[T.STR]!;
    states[count] = state;
    types[count++] = T.STR;
  }
  while (nextToken(lexer)) {
    let t = lexer.type;
    if (t === T.COMMENT) {
      pendingComment = true;
      commentStart = lexer.start;
      commentEnd = lexer.pos;
      if (lexer.block) sawBlock = true;
      continue;
    }
    pendingComment = false;
    const last = count === 0 ? 0 : types[count - 1]!;
    if (t === T.NOT) {
      if (unaryAfter(last)) continue;
      t = T.OP;
    } else if (lexer.unary && unaryAfter(last)) continue;
    if (t === last && (t === T.OPEN || t === T.CLOSE || t === T.LOGIC)) continue;
    if (isOperator(t) && isOperator(last)) {
      // `<>`, `!=`, `>=`, `NOT LIKE`, `IS NOT`, `|-`: one operator, of the stronger class.
      if (rank(t) <= rank(last)) continue;
      count--;
      state = count === 0 ? 0 : states[count - 1]!;
      alive = count === 0 || state !== 0;
    }
    if (t === T.STR && concatAt === count - 1 && count - 2 >= firstFoldable && types[count - 2] === T.STR) {
      // `'ad'||'min'` is one string to PostgreSQL, Oracle and SQLite: take the `||` back. Not
      // onto the application's string: `x'||'1'='1` is `'x' OR '1'='1'` to MySQL.
      count--;
      state = count === 0 ? 0 : states[count - 1]!;
      alive = count === 0 || state !== 0;
      continue;
    }
    if (t === T.LOGIC && lexer.concat) concatAt = count;
    types[count] = t;
    if (t === T.U && sawBlock) {
      count++;
      return true;
    }
    if (alive) {
      state = next[state * CLASSES + t]!;
      if (state === 0) alive = false;
      else if ((prefix[state]! & ctx) !== 0) {
        count++;
        return true;
      }
    }
    states[count++] = state;
    // A `||` after a string may yet be taken back by the next string.
    const mayFold = t === T.LOGIC && lexer.concat && last === T.STR;
    if ((!alive && !comments && !mayFold) || count === MAX_TOKENS) return false;
  }
  if (!alive) return false;
  if (pendingComment) {
    // `'#fff'`, `'--flag'`: a "comment" holding the context's quote is quoted data.
    const at = quote === 0 ? -1 : input.indexOf(quote === 0x27 ? "'" : '"', commentStart);
    const t = at >= 0 && at < commentEnd ? T.STR : T.COMMENT;
    types[count++] = t;
    state = next[state * CLASSES + t]!;
    return state !== 0 && ((prefix[state]! | full[state]!) & ctx) !== 0;
  }
  // A match that ends in the open string the application's quote closes wants a short literal
  // there (`admin' or '1`); `"Author," or "Screenplay based on …` is a quotation in prose.
  if (types[count - 1] === T.STR && lexer.open && hasSpace(input, lexer.start, input.length)) return false;
  return (full[state]! & ctx) !== 0;
}

function hasSpace(s: string, i: number, end: number): boolean {
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) return true;
  }
  return false;
}
