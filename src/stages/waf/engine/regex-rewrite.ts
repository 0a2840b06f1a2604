import { type ByteSet, byteAtom, emitSet, emptySet, foldCase, perlClass } from './regex-bytes.ts';
import { PatternCursor } from './regex-cursor.ts';

/**
 * Rewrites a SecLang regex (RE2 syntax, as CRS v4 writes them; PCRE lookarounds are let
 * through for hand-written ModSecurity rules) into JS regex source for byte strings.
 *
 * - Flags `(?i)`, `(?s)`, `(?m)`, `(?-i)` anywhere and `(?i:...)` groups are resolved here,
 *   scoped as RE2 scopes them (to the end of the enclosing group, across `|`). Case folding is
 *   ASCII-only and written out as classes (`a` → `[Aa]`): JS's `i` flag also folds bytes
 *   ≥ 0x80 (0xE0 "à" ~ 0xC0 "À") and V8's linear-time engine refuses the `i` flag and modifier
 *   groups altogether (see regex.ts for why that engine matters).
 * - Every class (`[...]`, `\d`, `\s`, `\w`, `[:alpha:]`) becomes an explicit byte set, with
 *   RE2's meaning (`\s` is `[\t\n\f\r ]`, not JS's, which includes 0xA0).
 * - `\x{hh}` → the byte; `\x{hhhh}` above 0xFF → its UTF-8 bytes (what RE2 on UTF-8 matches).
 * - `\A`, `\z` → `^`, `$` (RE2's `$` without `m` is end of text, as JS's is); `\Z` (PCRE) →
 *   `(?=\n?$)`.
 * - `.` is dot-all unless `(?-s)`; the result always carries the JS `s` flag, never `u`.
 *
 * Anything RE2 rejects (backreferences, `\p{..}`, unknown escapes, a repeat count over 1000)
 * throws: a rule that cannot compile is a load error, never a skipped rule.
 */
export interface RewrittenRegex {
  readonly source: string;
  readonly flags: string;
}

interface Scope {
  i: boolean;
  s: boolean;
}

const MAX_REPEAT = 1000; // RE2's limit; larger counts are a compile error there too.

export interface RewriteOptions {
  /**
   * Write counted repeats with a maximum above 1 as `*` / `+` (`x{1,255}` → `x+`): a regex that
   * matches a superset of the pattern's matches, which V8's linear-time engine accepts (it
   * refuses repeats it would have to unroll). regex.ts uses it only as a pre-filter.
   */
  readonly relaxRepeats?: boolean;
}

export function rewriteRegex(pattern: string, options: RewriteOptions = {}): RewrittenRegex {
  return new Rewriter(pattern, options.relaxRepeats === true).run();
}

class Rewriter extends PatternCursor {
  private out = '';
  private multiline = false;
  private scopes: Scope[] = [{ i: false, s: true }];
  /** Per open group, the text that closes it. */
  private groups: string[] = [];

  private readonly relax: boolean;

  constructor(pattern: string, relax: boolean) {
    super(pattern);
    this.relax = relax;
  }

  run(): RewrittenRegex {
    while (this.pos < this.p.length) this.step();
    if (this.groups.length > 0) this.fail('missing closing )');
    return { source: this.out, flags: this.multiline ? 'ms' : 's' };
  }

  private get scope(): Scope {
    return this.scopes[this.scopes.length - 1] as Scope;
  }

  private step(): void {
    const c = this.p[this.pos] as string;
    switch (c) {
      case '\\':
        this.escape();
        return;
      case '[':
        this.pos++;
        this.atom(emitSet(this.charClass()));
        return;
      case '(':
        this.openGroup();
        return;
      case ')':
        this.closeGroup();
        return;
      case '|':
        this.pos++;
        this.out += '|';
        return;
      case '.':
        this.pos++;
        this.atom(this.scope.s ? '.' : '[^\\n]');
        return;
      case '^':
      case '$':
        this.pos++;
        this.out += c;
        return;
      case '*':
      case '+':
      case '?':
        this.quantifier(c);
        return;
      case '{':
        if (this.tryCounted()) return;
        this.pos++;
        this.atom('\\x7b');
        return;
      default:
        this.pos++;
        this.literal(c.charCodeAt(0));
    }
  }

  private atom(text: string): void {
    this.out += text;
  }

  private literal(b: number): void {
    if (b > 0xff) this.fail('a character above 0xFF cannot match a byte string');
    const set = emptySet();
    set[b] = true;
    this.atom(emitSet(this.fold(set)));
  }

  protected override fold(set: ByteSet): ByteSet {
    return this.scope.i ? foldCase(set) : set;
  }

  private quantifier(c: string): void {
    this.pos++;
    this.out += c;
    this.lazySuffix();
  }

  private lazySuffix(): void {
    if (this.p[this.pos] === '?') {
      this.pos++;
      this.out += '?';
    }
  }

  /** `{n}`, `{n,}`, `{n,m}`; anything else starting with `{` is a literal brace, as in RE2. */
  private tryCounted(): boolean {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.p.slice(this.pos, this.pos + 16));
    if (m === null) return false;
    const min = Number(m[1]);
    const max = m[3] === undefined || m[3] === '' ? min : Number(m[3]);
    if (min > MAX_REPEAT || max > MAX_REPEAT) this.fail(`repeat count over ${MAX_REPEAT}`);
    if (m[2] !== undefined && m[3] !== '' && max < min) this.fail('bad repeat range');
    this.pos += m[0].length;
    const unbounded = m[2] !== undefined && m[3] === '';
    if (this.relax && (unbounded || max > 1)) this.out += min === 0 ? '*' : '+';
    else this.out += m[0];
    this.lazySuffix();
    return true;
  }

  private openGroup(): void {
    const rest = this.p.slice(this.pos);
    const parent = this.scope;
    if (!rest.startsWith('(?')) {
      this.pos++;
      this.enter('(', ')', { ...parent });
      return;
    }
    const look = /^\(\?(<=|<!|=|!)/.exec(rest);
    if (look !== null) {
      this.pos += look[0].length;
      this.enter(look[0], ')', { ...parent });
      return;
    }
    const named = /^\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
    if (named !== null) {
      this.pos += named[0].length;
      this.enter(`(?<${named[1]}>`, ')', { ...parent });
      return;
    }
    const flags = /^\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(rest);
    if (flags === null) this.fail('unknown group syntax');
    const scope = this.applyFlags({ ...parent }, flags[1] ?? '', flags[2] ?? '');
    this.pos += flags[0].length;
    if (flags[3] === ':') {
      this.enter('(?:', ')', scope);
      return;
    }
    // `(?flags)` sets flags until the end of the enclosing group (RE2/PCRE scoping).
    this.scopes[this.scopes.length - 1] = scope;
  }

  private applyFlags(scope: Scope, on: string, off: string): Scope {
    const atStart = this.out === '' && this.groups.length === 0;
    for (const [letters, value] of [
      [on, true],
      [off, false],
    ] as const) {
      for (const f of letters) {
        if (f === 'i') scope.i = value;
        else if (f === 's') scope.s = value;
        else if (f === 'm') {
          // JS has only a whole-pattern `m`; a flag scoped to part of a pattern cannot be kept.
          if (!atStart || !value) this.fail('(?m) is supported only at the start of the pattern');
          this.multiline = true;
        } else this.fail(`unsupported flag '${f}'`);
      }
    }
    return scope;
  }

  private enter(open: string, close: string, scope: Scope): void {
    this.out += open;
    this.groups.push(close);
    this.scopes.push(scope);
  }

  private closeGroup(): void {
    const close = this.groups.pop();
    if (close === undefined) this.fail('unexpected )');
    this.scopes.pop();
    this.pos++;
    this.out += close;
  }

  private escape(): void {
    const c = this.p[this.pos + 1];
    if (c === undefined) this.fail('trailing backslash');
    this.pos += 2;
    const perl = perlClass(c);
    if (perl !== undefined) {
      this.atom(emitSet(this.fold(perl)));
      return;
    }
    switch (c) {
      case 'A':
        this.out += this.multiline ? '(?<![\\x00-\\uffff])' : '^';
        return;
      case 'z':
        this.out += this.multiline ? '(?![\\x00-\\uffff])' : '$';
        return;
      case 'Z':
        this.out += this.multiline ? '(?=\\n?(?![\\x00-\\uffff]))' : '(?=\\n?$)';
        return;
      case 'b':
      case 'B':
        // JS's `\b` without the `u` flag is ASCII-word based, as RE2's is.
        this.out += `\\${c}`;
        return;
      case 'C':
        this.atom('[\\x00-\\uffff]');
        return;
      case 'Q':
        this.quoted();
        return;
      default: {
        const b = this.escapedByte(c, false);
        if (b.length === 1) this.literal(b[0] as number);
        else this.atom(`(?:${b.map(byteAtom).join('')})`);
      }
    }
  }

  /** `\Q...\E`: everything literal up to `\E` or the end. */
  private quoted(): void {
    const end = this.p.indexOf('\\E', this.pos);
    const text = this.p.slice(this.pos, end === -1 ? this.p.length : end);
    this.pos = end === -1 ? this.p.length : end + 2;
    for (let k = 0; k < text.length; k++) this.literal(text.charCodeAt(k));
  }
}
