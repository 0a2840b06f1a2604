import { rewriteRegex } from './regex-rewrite.ts';

/**
 * Compiles a SecLang regex (RE2 syntax) for matching JS byte strings (one char per byte).
 * Throws an Error naming the problem when the pattern does not compile: fail closed.
 */
export function compileRegex(pattern: string): RegExp {
  const { source, flags } = rewriteRegex(pattern);
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw new Error(`invalid regex: ${(err as Error).message}`);
  }
}
