/**
 * SecLang lexer: splits a configuration file into directives with their arguments.
 *
 * The quoting rules are Apache's `ap_getword_conf` (which ModSecurity v2 inherits and
 * libmodsecurity v3 and Coraza follow): a backslash at the end of a line joins it with the
 * next one; `#` starts a comment only as the first non-blank character of a directive; an
 * argument is a bare word or a double-quoted string in which `\"` and `\\` are the only
 * escapes (every other backslash is kept, so regexes reach the operator untouched).
 */

export interface Directive {
  /** Directive name as written (`SecRule`); compared case-insensitively by the parser. */
  readonly name: string;
  readonly args: readonly string[];
  readonly file: string;
  /** 1-based line of the directive's first physical line. */
  readonly line: number;
}

/** A configuration error located at file:line; the load stops on the first one. */
export class SecLangError extends Error {
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.name = 'SecLangError';
    this.file = file;
    this.line = line;
  }
}

export function lex(text: string, file: string): Directive[] {
  const out: Directive[] = [];
  const lines = text.split(/\r?\n/);
  let i = 0;
  while (i < lines.length) {
    const start = i;
    let logical = lines[i] ?? '';
    i++;
    // A trailing backslash continues the directive on the next physical line.
    while (endsWithContinuation(logical) && i < lines.length) {
      logical = logical.slice(0, -1) + (lines[i] ?? '');
      i++;
    }
    if (endsWithContinuation(logical)) logical = logical.slice(0, -1);
    const trimmed = logical.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const words = splitArgs(trimmed, file, start + 1);
    const [name, ...args] = words;
    if (name === undefined) continue;
    out.push({ name, args, file, line: start + 1 });
  }
  return out;
}

function endsWithContinuation(line: string): boolean {
  return line.endsWith('\\');
}

/** Splits a directive line into words: bare words and double-quoted strings. */
export function splitArgs(line: string, file: string, lineNo: number): string[] {
  const words: string[] = [];
  let pos = 0;
  while (pos < line.length) {
    const c = line[pos];
    if (c === ' ' || c === '\t') {
      pos++;
      continue;
    }
    if (c === '"' || c === "'") {
      let word = '';
      let j = pos + 1;
      let closed = false;
      while (j < line.length) {
        const d = line[j];
        if (d === '\\' && (line[j + 1] === c || line[j + 1] === '\\')) {
          word += line[j + 1];
          j += 2;
          continue;
        }
        if (d === c) {
          closed = true;
          j++;
          break;
        }
        word += d;
        j++;
      }
      if (!closed)
        throw new SecLangError(file, lineNo, `unterminated quoted argument: ${line.slice(pos, pos + 40)}`);
      words.push(word);
      pos = j;
      continue;
    }
    let j = pos;
    while (j < line.length && line[j] !== ' ' && line[j] !== '\t') j++;
    words.push(line.slice(pos, j));
    pos = j;
  }
  return words;
}
