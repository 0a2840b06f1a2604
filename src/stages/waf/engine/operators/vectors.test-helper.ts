import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOperator } from './index.ts';
import type { OperatorEnv, OperatorTx } from './types.ts';

export const ENV: OperatorEnv = { dir: '/nonexistent', file: 'test.conf', line: 1 };

/** A transaction stand-in: `%{name}` expands from `vars`; captures are recorded. */
export class FakeTx implements OperatorTx {
  captures: readonly string[] | undefined;
  readonly capture: boolean;
  private readonly vars: Record<string, string>;

  constructor(vars: Record<string, string> = {}, capture = false) {
    this.vars = vars;
    this.capture = capture;
  }

  expand(text: string): string {
    return text.replace(/%\{([^}]+)\}/g, (_, name: string) => this.vars[name.toLowerCase()] ?? '');
  }

  setCaptures(captures: readonly string[]): void {
    this.captures = captures;
  }
}

/** `[input, matches]` vectors for `@name param`. */
export function vectors(
  name: string,
  param: string,
  cases: ReadonlyArray<readonly [string, boolean]>,
  env: OperatorEnv = ENV,
): void {
  test(`@${name} ${JSON.stringify(param).slice(0, 60)}`, () => {
    const op = createOperator(name, param, env);
    for (const [input, expected] of cases) {
      assert.equal(op.match(input, new FakeTx()), expected, `@${name} ${param} on ${JSON.stringify(input)}`);
    }
  });
}

/** `@name param` is refused at load with a message matching `message`. */
export function rejects(name: string, param: string, message: RegExp, env: OperatorEnv = ENV): void {
  test(`@${name} ${JSON.stringify(param).slice(0, 60)} is a load error`, () => {
    assert.throws(() => createOperator(name, param, env), message);
  });
}
