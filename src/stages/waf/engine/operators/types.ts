/**
 * The operator contract between the rule engine and the operators (`@rx`, `@pm`, ...).
 * Inputs are byte strings: one JS char per byte (latin1).
 */

/** What an operator needs from the transaction; implemented by the engine's transaction. */
export interface OperatorTx {
  /** Macro expansion of `%{tx.foo}`, `%{REQUEST_HEADERS.host}`, ... */
  expand(text: string): string;
  /** `@rx` on a rule with `capture`: TX:0..9 (group 0 = whole match). */
  setCaptures(captures: readonly string[]): void;
  readonly capture: boolean;
}

export interface Operator {
  match(input: string, tx: OperatorTx): boolean;
}

/** Where the rule was loaded from: `dir` resolves `@pmFromFile` / `@ipMatchFromFile` data files. */
export interface OperatorEnv {
  readonly dir: string;
  readonly file: string;
  readonly line: number;
}

/** A factory for one operator name: compiles `param` once (or per expanded macro value). */
export type OperatorFactory = (param: string, env: OperatorEnv) => Operator;
