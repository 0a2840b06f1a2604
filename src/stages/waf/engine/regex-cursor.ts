import { addRange, addSet, type ByteSet, emptySet, negate, perlClass, posixClass } from './regex-bytes.ts';

/**
 * A cursor over a SecLang (RE2-syntax) pattern that reads what stands for bytes: escapes
 * (`\n`, `\x41`, `\x{2028}`, octal) and character classes (`[^a-z\d[:punct:]]`), as byte
 * sets. The rewriter (regex-rewrite.ts) drives it and writes the JS regex.
 */
export abstract class PatternCursor {
  protected readonly p: string;
  protected pos = 0;

  constructor(pattern: string) {
    this.p = pattern;
  }

  protected fail(why: string): never {
    throw new Error(`invalid regex at offset ${this.pos}: ${why}`);
  }

  /** Case folding of the current scope (ASCII-only under `(?i)`, else the set as it is). */
  protected abstract fold(set: ByteSet): ByteSet;

  /**
   * The byte(s) an escape stands for (after the backslash and `c`, already consumed).
   * `inClass` forbids multi-byte results, which a class cannot hold.
   */
  protected escapedByte(c: string, inClass: boolean): number[] {
    switch (c) {
      case 'n':
        return [0x0a];
      case 'r':
        return [0x0d];
      case 't':
        return [0x09];
      case 'f':
        return [0x0c];
      case 'v':
        return [0x0b];
      case 'a':
        return [0x07];
      case 'x':
        return this.hexEscape(inClass);
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7': {
        // RE2 accepts octal `\0`, `\012` but no backreferences (`\1` alone is an error).
        const m = /^[0-7]{0,2}/.exec(this.p.slice(this.pos)) as RegExpExecArray;
        if (c !== '0' && m[0].length === 0) this.fail(`backreference \\${c} is not supported (RE2 syntax)`);
        this.pos += m[0].length;
        const v = Number.parseInt(c + m[0], 8);
        if (v > 0xff) this.fail('octal escape above 0xFF');
        return [v];
      }
      default:
        if (/[A-Za-z0-9]/.test(c)) this.fail(`unsupported escape \\${c}`);
        return [c.charCodeAt(0)];
    }
  }

  private hexEscape(inClass: boolean): number[] {
    const braced = /^\{([0-9A-Fa-f]{1,8})\}/.exec(this.p.slice(this.pos));
    if (braced !== null) {
      this.pos += braced[0].length;
      const cp = Number.parseInt(braced[1] as string, 16);
      if (cp <= 0xff) return [cp];
      if (cp > 0x10ffff) this.fail('\\x{...} above U+10FFFF');
      if (inClass) this.fail('\\x{...} above 0xFF inside a class cannot match one byte');
      return [...Buffer.from(String.fromCodePoint(cp), 'utf8')];
    }
    const two = /^[0-9A-Fa-f]{2}/.exec(this.p.slice(this.pos));
    if (two === null) this.fail('\\x needs two hex digits or {...}');
    this.pos += 2;
    return [Number.parseInt(two[0], 16)];
  }

  /** Parses a class body after `[` up to and including `]`, as a byte set. */
  protected charClass(): ByteSet {
    let negated = false;
    if (this.p[this.pos] === '^') {
      negated = true;
      this.pos++;
    }
    const set = emptySet();
    let first = true;
    for (;;) {
      const c = this.p[this.pos];
      if (c === undefined) this.fail('missing closing ]');
      // RE2/PCRE: a `]` right after `[` or `[^` is a literal.
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(this.p.slice(this.pos, this.pos + 12));
      if (posix !== null) {
        const named = posixClass(posix[2] as string);
        if (named === undefined) this.fail(`unknown POSIX class [:${posix[2]}:]`);
        addSet(set, posix[1] === '^' ? negate(named) : named);
        this.pos += posix[0].length;
        continue;
      }
      const lo = this.classAtom(set);
      if (lo === undefined) continue;
      if (this.p[this.pos] === '-' && this.p[this.pos + 1] !== ']' && this.p[this.pos + 1] !== undefined) {
        this.pos++;
        const hi = this.classAtom(set);
        if (hi === undefined) this.fail('bad class range');
        if (hi < lo) this.fail('bad class range');
        addRange(set, lo, hi);
      } else {
        set[lo] = true;
      }
    }
    // Fold before negating: `(?i)[^a]` excludes both `a` and `A`.
    const folded = this.fold(set);
    return negated ? negate(folded) : folded;
  }

  /** One class member: a byte (returned) or a Perl class (added to `set`, undefined returned). */
  private classAtom(set: ByteSet): number | undefined {
    const c = this.p[this.pos] as string;
    if (c !== '\\') {
      this.pos++;
      const b = c.charCodeAt(0);
      if (b > 0xff) this.fail('a character above 0xFF cannot match a byte string');
      return b;
    }
    const e = this.p[this.pos + 1];
    if (e === undefined) this.fail('trailing backslash');
    this.pos += 2;
    const perl = perlClass(e);
    if (perl !== undefined) {
      addSet(set, perl);
      return undefined;
    }
    if (e === 'b') return 0x08; // `[\b]` is backspace in PCRE and JS
    return this.escapedByte(e, true)[0] as number;
  }
}
