/**
 * Rampart's table of SQL-injection fingerprints, and the automaton that matches them.
 *
 * A fingerprint is the token classes of the first folded tokens of a value (letters in
 * token-types.ts). A pattern is a sequence of letters or `[classes]`, each optionally
 * followed by `?`; a trailing `$` means the value must end there (otherwise anything may
 * follow). `ctx` says where a pattern applies: `A` as-is (the value lands in a numeric or
 * raw SQL position), `Q` inside a string the application opened (the lexer's first token is
 * then that string, closed by the attacker's quote).
 *
 * The table is written from what an injection must do to run: close the application's
 * literal (or not need to), add an operator, clause or statement the application did not
 * write, and leave the rest of the application's query harmless — with a comment, with an
 * open string the application's own quote closes, or by ending where the query ends. Only the
 * start of a value counts: benign text that happens to contain `or 1=1` later is not a
 * statement the database would run.
 *
 * Patterns expand at load into a trie over token classes (a few thousand states at most),
 * so matching costs one array read per token and allocates nothing.
 */

import { CLASSES, LETTERS } from './token-types.ts';

interface Pattern {
  readonly ctx: 'A' | 'Q' | 'AQ';
  readonly pattern: string;
}

// Each group: the attack it captures, with examples; then its patterns.
const PATTERNS: readonly Pattern[] = [
  // Tautology or boolean condition on a literal after breaking out of the string or number:
  // `' or 'a'='a`, `' and 1=1`, `') or ('x'='x`, `1 or 1=1`, `1) and (1=2`, `-1 or 2>1`.
  { ctx: 'AQ', pattern: 's)?&(?[nv][oa=]' },
  // A string operand needs a comparison: `"first wins" or "last wins": …` is prose.
  { ctx: 'AQ', pattern: 's)?&(?s=' },
  { ctx: 'A', pattern: 'n?)?&(?[nsv][oa=][nsvb(fF]' },
  // Boolean on a column compared with a literal: `' or username like '%`, `' and id>0`.
  // A column compared with a column is left out: `Jones' and Smith is here` is English.
  // (`=` is the class of comparisons: `= <> != < > <= >= LIKE IN IS BETWEEN REGEXP`; `a`
  // of the additive operators `+ - | ^ &`; `o` of the others.)
  { ctx: 'AQ', pattern: 's)?&(?b=[snv(fF]' },
  { ctx: 'A', pattern: 'b)?&(?n=n' },
  // ... or with a column, when SQL continues after it: `' or username like totpSecret escape 'x'`.
  { ctx: 'AQ', pattern: 's)?&(?b=b[oa=;c]' },
  // A breakout, one operator and operand, then a comment: `user'collate nocase--`, `'=x--`.
  { ctx: 'Q', pattern: 's)?[oa=][nsvb]c$' },
  // Boolean cut short by a comment or a statement end: `' or 1--`, `1 or true#`, `') or x;`.
  { ctx: 'AQ', pattern: 's)?&(?[snvb])?[c;]' },
  { ctx: 'A', pattern: 'n?)?&(?[nv])?[c;]' },
  // `admin' or '1`: the application's own closing quote completes `'1'`.
  { ctx: 'Q', pattern: 's)?&(?s$' },
  // Boolean on a function call or a subquery (blind injection): `' and sleep(5)`,
  // `' or ascii(substr(user(),1,1))>64`, `' and (select 1 from users)`, `'||(select …)||'`.
  { ctx: 'AQ', pattern: 's)?&(?[fFE]' },
  { ctx: 'A', pattern: 'n?)?&(?[fFE]' },
  // UNION-based extraction: `' union select`, `') union all select null--`, `-1 union select 1,2`.
  { ctx: 'AQ', pattern: 's)?U(?E' },
  { ctx: 'A', pattern: 'n)?U(?E' },
  { ctx: 'A', pattern: ')U(?E' },
  // A value that is itself a UNION SELECT of literals, functions or a column list.
  { ctx: 'A', pattern: 'U(?E[nsvfFo(]' },
  { ctx: 'A', pattern: 'U(?Eb[,k]' },
  // Stacked query: `'; drop table users--`, `1; select pg_sleep(5)`, `'; waitfor delay …`,
  // `1; declare @x …`, `1; update users set …`, `'; if (1=1) waitfor …`. After a verb comes what SQL puts there (a
  // clause keyword, a variable, a procedure): `5; call me` and `Done; update later` are prose.
  { ctx: 'AQ', pattern: 's)?;[EFf]' },
  { ctx: 'AQ', pattern: 's)?;T[kvFs(c]' },
  { ctx: 'AQ', pattern: 's)?;Tbk' },
  { ctx: 'A', pattern: 'n?)?;[EFf]' },
  { ctx: 'A', pattern: 'n?)?;T[kvFs(c]' },
  { ctx: 'A', pattern: 'n?)?;Tbk' },
  { ctx: 'A', pattern: 'b)?;T[kvF]' },
  // A procedure run outright: `exec xp_cmdshell 'dir'`, `execute sp_executesql …`.
  { ctx: 'A', pattern: 'TF' },
  // SQL Server runs a second statement without `;`: `') drop table t`, `' exec xp_cmdshell`.
  { ctx: 'AQ', pattern: 's)?T[kF]' },
  // Comment-terminated breakout: `admin'--`, `admin'#`, `admin')/*`, `';--`.
  { ctx: 'Q', pattern: 's)?;?c$' },
  // A time, file or command channel right after the breakout: `')waitfor delay'0:0:5'--`,
  // `' into outfile '/var/www/x.php`, `" sleep(10) "` (probes for string interpolation).
  { ctx: 'AQ', pattern: 's)?;?F[sn(]' },
  // Concatenation or arithmetic with a function or subquery: `'+sleep(5)+'`,
  // `'-ascii(x)-'`, `'+(select …)+'`, `1+sleep(5)`, `1=(select …)`.
  { ctx: 'AQ', pattern: 's)?[oa=](?[fFE]' },
  { ctx: 'A', pattern: 'n)?[oa=](?[fFE]' },
  // An expression spliced into the string, which the application's quote closes again:
  // `'-0-'`, `'|x|'`, `" | type %SystemDrive%\config.ini | "`. Ending in that open string is
  // what tells it from a quoted path (`"/usr/bin"`), and the operators at both ends must be
  // additive (`a`), so `'***HIDDEN***'` and `"<your-token>"` stay data. (`x'='x` is left out
  // on purpose: its fingerprint is that of `'='` in prose.)
  { ctx: 'Q', pattern: 's)?a[nvb]as$' },
  { ctx: 'Q', pattern: 's)?a[nvb][oa][nvb]as$' },
  { ctx: 'Q', pattern: 's)?a[nvb][oa][nvb][oa][nvb]as$' },
  // A clause appended after the literal: `' order by 1--`, `' group by x having 1=1`,
  // `1 limit 1,1`, `' where 1=1`.
  { ctx: 'AQ', pattern: 's)?k[nbv][,c);k]' },
  { ctx: 'AQ', pattern: 's)?k[nbv][oa=][nsv]' },
  { ctx: 'A', pattern: 'n)?k[nbv][,c);k]' },
  { ctx: 'A', pattern: 'n)?k[nbv][oa=][nsv]' },
  // A clause on a function or subquery (error-based extraction):
  // `' group by concat(version(),floor(rand(0)*2))`, `1 procedure analyse(extractvalue(…))`.
  { ctx: 'AQ', pattern: 's)?k(?[fFE]' },
  { ctx: 'A', pattern: 'n)?k(?[fFE]' },
  // A value that is itself such a clause: `order by if(1=1,1,sleep(1))`.
  { ctx: 'A', pattern: 'k[fF]' },
  // A subquery or function as the next value of a list (INSERT … VALUES injection):
  // `', (select password from users))--`, `',sleep(5))#`.
  { ctx: 'AQ', pattern: 's)?,(?[EfF]' },
  // An attack function called outright: `sleep(20)`, `benchmark(5000000,md5(1))`,
  // `pg_sleep(5)`, `load_file('/etc/passwd')`; `waitfor delay '0:0:5'`, `xp_cmdshell 'dir'`.
  // The name is glued to `(` (lexer.ts) and an argument is followed by `)` or `,`:
  // `sleep (8 hours)` and `Benchmark (2024)` are English.
  { ctx: 'A', pattern: 'F([nsv][),]' },
  { ctx: 'A', pattern: 'F([EfF]' },
  { ctx: 'A', pattern: 'F[sn]' },
  // A parenthesised subquery as the value: `(select 1)`, `(select * from users)`,
  // `1(select*from(select(sleep(5)))d)`.
  { ctx: 'A', pattern: '(E[nsvfFo(]' },
  { ctx: 'A', pattern: 'n(E' },
  // A complete SELECT as the value: `select @@version`, `select sleep(5)`,
  // `select * from users`, `select 1,2`. `select a color or size` stays English.
  { ctx: 'A', pattern: 'E[fFv]' },
  { ctx: 'A', pattern: 'Eok' },
  { ctx: 'A', pattern: 'E[nsv],' },
  // … or selects from a derived table: `select 1 from(select count(*),concat(…`.
  { ctx: 'A', pattern: 'E[nsvo]k(' },
];

/** Context bits in the automaton's accept masks. */
export const CTX_AS_IS = 1;
export const CTX_QUOTED = 2;

export interface Automaton {
  /** `next[state * CLASSES + class]`: the next state, 0 = no pattern can match any more. */
  readonly next: Int32Array;
  /** Contexts in which reaching this state is a match, whatever follows. */
  readonly prefix: Uint8Array;
  /** Contexts in which ending the value in this state is a match. */
  readonly full: Uint8Array;
}

/** Parses a pattern into its elements: each a list of class ids, and whether it is optional. */
function parse(pattern: string): { elements: { classes: number[]; optional: boolean }[]; full: boolean } {
  const elements: { classes: number[]; optional: boolean }[] = [];
  let full = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '$' && i === pattern.length - 1) {
      full = true;
      break;
    }
    const classes: number[] = [];
    if (ch === '[') {
      const close = pattern.indexOf(']', i);
      if (close < 0) throw new Error(`sqli fingerprint ${pattern}: unclosed [`);
      for (const c of pattern.slice(i + 1, close)) classes.push(classOf(c, pattern));
      i = close;
    } else classes.push(classOf(ch, pattern));
    const optional = pattern[i + 1] === '?';
    if (optional) i++;
    elements.push({ classes, optional });
  }
  return { elements, full };
}

function classOf(letter: string, pattern: string): number {
  const id = LETTERS.indexOf(letter);
  if (id <= 0) throw new Error(`sqli fingerprint ${pattern}: unknown token class '${letter}'`);
  return id;
}

function compile(patterns: readonly Pattern[]): Automaton {
  const next: number[] = new Array(CLASSES).fill(0);
  const prefix: number[] = [0];
  const full: number[] = [0];
  const add = (state: number, cls: number): number => {
    let to = next[state * CLASSES + cls]!;
    if (to === 0) {
      to = prefix.length;
      prefix.push(0);
      full.push(0);
      for (let i = 0; i < CLASSES; i++) next.push(0);
      next[state * CLASSES + cls] = to;
    }
    return to;
  };
  for (const p of patterns) {
    const { elements, full: isFull } = parse(p.pattern);
    const mask = (p.ctx.includes('A') ? CTX_AS_IS : 0) | (p.ctx.includes('Q') ? CTX_QUOTED : 0);
    // Walk all expansions breadth-first: the set of states reached after each element.
    let states = [0];
    for (const el of elements) {
      const reached = new Set<number>(el.optional ? states : []);
      for (const s of states) for (const c of el.classes) reached.add(add(s, c));
      states = [...reached];
    }
    for (const s of states) {
      if (s === 0) throw new Error(`sqli fingerprint ${p.pattern}: matches the empty value`);
      if (isFull) full[s]! |= mask;
      else prefix[s]! |= mask;
    }
  }
  return { next: Int32Array.from(next), prefix: Uint8Array.from(prefix), full: Uint8Array.from(full) };
}

export const AUTOMATON: Automaton = compile(PATTERNS);
