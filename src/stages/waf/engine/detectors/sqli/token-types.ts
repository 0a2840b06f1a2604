/**
 * Token classes of the SQLi lexer. Each has one fingerprint letter; a fingerprint is the
 * letters of the first folded tokens of a value (`s&sos` is `' or 'a'='a`).
 */
export const T = {
  /** String literal `'…'`, `"…"`, `N'…'`, `x'…'`. */
  STR: 1,
  /** Number: decimal, float, `0x…` hex, `0b…`; also NULL, TRUE, FALSE. */
  NUM: 2,
  /** Variable `@x`, `@@version`, and server values such as CURRENT_USER. */
  VAR: 3,
  /** Any other word or a backtick identifier: a column, a table, or plain English. */
  WORD: 4,
  /** Operator other than the additive ones: `* / % ~ ! . :: ?`, `DIV`, `MOD`, `COLLATE`, ... */
  OP: 5,
  /** Logical operator: AND, OR, XOR, `&&`, `||`. */
  LOGIC: 6,
  /** UNION (ALL/DISTINCT), EXCEPT, INTERSECT, MINUS. */
  U: 7,
  /** SELECT. */
  E: 8,
  /** A statement verb: DROP, INSERT, EXEC, DECLARE, ... */
  T: 9,
  /** A clause keyword: FROM, WHERE, ORDER BY, GROUP BY, HAVING, LIMIT, INTO, ... */
  K: 10,
  /** A known SQL function followed by `(`. */
  FN: 11,
  /** An attack function: SLEEP(, BENCHMARK(, LOAD_FILE(, WAITFOR DELAY, INTO OUTFILE, xp_cmdshell. */
  F: 12,
  OPEN: 13,
  CLOSE: 14,
  COMMA: 15,
  SEMI: 16,
  /** A comment (`--`, `#`, block comments) — kept only as the last token; elsewhere it is whitespace. */
  COMMENT: 17,
  /** Comparison: `= <> != < > <= >= <=>`, LIKE, RLIKE, REGEXP, IS, IN, BETWEEN, ... */
  CMP: 18,
  /** Additive operator: `+ - | ^ &` — the ones that splice a value into a string (`'+x+'`). */
  ADD: 19,
  /** NOT: dropped when unary, an operator otherwise (`x NOT LIKE y`). Never in a fingerprint. */
  NOT: 20,
} as const;

/** Fingerprint letters by token class (index 0 unused). */
export const LETTERS = '?snvbo&UETkfF(),;c=a';

/** The number of token classes that can appear in a fingerprint (1..19), plus index 0. */
export const CLASSES = 20;
