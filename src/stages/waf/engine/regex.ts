import v8 from 'node:v8';
import { rewriteRegex } from './regex-rewrite.ts';

/**
 * SecLang regexes (RE2 syntax) on JS byte strings, guarded against catastrophic backtracking.
 *
 * Chosen by measurement (bench/waf-regex.ts; figures in docs/concepts/waf-regex.md), over all
 * 318 CRS v4.28.0 `@rx` patterns, in CPU time per benign value for the whole set:
 * - irregexp (V8's backtracking JIT): 350–370 µs, but CRS patterns blow up on it:
 *   `(\d+)-(\d+)` takes 16 s on 64 KiB of `0`; CRS 932's shell patterns over 2 s on 1 KiB of `\n`.
 * - V8's linear-time engine (`l` flag): linear (64 KiB: 9 ms for `(\d+)-(\d+)`, up to 1.4 s
 *   for CRS 932's largest patterns) but 7,000+ µs, and it refuses 22 CRS patterns (counted
 *   repeats like `{1,255}` that it would unroll).
 * - irregexp falling back to the linear engine after N backtracks: the counter is per start
 *   position, so quadratic scans never trip it unless N is small, and a small N slows benign
 *   traffic (N=1000: 2×, 200 ms on 64 KiB; N=10000: no cost, 1.7 s on 64 KiB).
 * - re2js: 7,500+ µs; re2-wasm aborts (its fixed 16 MiB heap cannot hold the CRS patterns).
 * So: inputs up to LINEAR_ABOVE bytes run on irregexp with the fallback at N=10000 (benign
 * speed kept; exponential blow-ups end after 10000 backtracks at a start position), longer
 * inputs on the linear engine when it accepts the pattern, which bounds the quadratic scans
 * where they would cost. For the 22 patterns it refuses, long inputs first pass a linear-time
 * superset (withPrefilter below): 4.9 s → 74 ms worst measured on 64 KiB. The flags are process-wide V8 flags (set at run time, which works on
 * node 24 without CLI flags); they change no regex's result, only which engine computes it.
 */
v8.setFlagsFromString('--enable-experimental-regexp-engine');
v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
v8.setFlagsFromString('--regexp-backtracks-before-fallback=10000');

/** Inputs longer than this run on the linear-time engine (when the pattern allows it). */
export const LINEAR_ABOVE = 4096;

const LINEAR_AVAILABLE = ((flag: string): boolean => {
  try {
    return new RegExp('a', flag).flags.includes(flag);
  } catch {
    return false;
  }
})('l');

/** A compiled `@rx` pattern; `test`/`exec` pick the engine by input length. */
export interface ByteRegex {
  readonly source: string;
  /** Whether inputs above LINEAR_ABOVE run in linear time. */
  readonly linear: boolean;
  test(input: string): boolean;
  exec(input: string): RegExpExecArray | null;
}

/**
 * Compiles a SecLang regex (RE2 syntax) for matching JS byte strings (one char per byte), on
 * V8's backtracking engine only. Throws an Error naming the problem when the pattern does not
 * compile: fail closed.
 */
export function compileRegex(pattern: string): RegExp {
  const { source, flags } = rewriteRegex(pattern);
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw new Error(`invalid regex: ${(err as Error).message}`);
  }
}

/** Compiles a SecLang regex with the size-based linear-time guard (what `@rx` uses). */
function linearOrUndefined(source: string, flags: string): RegExp | undefined {
  if (!LINEAR_AVAILABLE) return undefined;
  try {
    return new RegExp(source, `${flags}l`);
  } catch {
    return undefined; // counted repeats too large to unroll, or lookarounds
  }
}

export function compileByteRegex(pattern: string): ByteRegex {
  const fast = compileRegex(pattern);
  const slow = linearOrUndefined(fast.source, fast.flags);
  if (slow === undefined) return withPrefilter(pattern, fast);
  const linear = slow;
  return {
    source: pattern,
    linear: true,
    test: (s) => (s.length > LINEAR_ABOVE ? linear : fast).test(s),
    exec: (s) => (s.length > LINEAR_ABOVE ? linear : fast).exec(s),
  };
}

/**
 * For a pattern the linear engine refuses (22 in CRS, for counted repeats like `{1,100}`):
 * long inputs first go through a linear-time superset of it (repeats relaxed to `*`/`+`), and
 * only an input the superset matches runs on irregexp. A hostile value built to be slow on the
 * exact pattern (`;` × 64 KiB on CRS 942's `group\b.*?\bby\b.{1,100}` pattern: 4.9 s) is then
 * refused in linear time unless it also contains what the pattern looks for.
 */
function withPrefilter(pattern: string, fast: RegExp): ByteRegex {
  const relaxed = rewriteRegex(pattern, { relaxRepeats: true });
  const pre = linearOrUndefined(relaxed.source, relaxed.flags);
  if (pre === undefined) {
    return { source: pattern, linear: false, test: (s) => fast.test(s), exec: (s) => fast.exec(s) };
  }
  const filter = pre;
  return {
    source: pattern,
    linear: false,
    test: (s) => (s.length > LINEAR_ABOVE && !filter.test(s) ? false : fast.test(s)),
    exec: (s) => (s.length > LINEAR_ABOVE && !filter.test(s) ? null : fast.exec(s)),
  };
}
