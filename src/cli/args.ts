import { type ParseArgsConfig, parseArgs } from 'node:util';
import { RampartError } from '../core/errors.ts';

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  /** Returns the process exit code. */
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
}

export const EXIT = { ok: 0, findings: 1, invalid: 2, usage: 64, failure: 70 } as const;

/** Parse a command's own arguments; unknown options are usage errors, not ignored. */
export function parseCommandArgs(command: Command, argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new RampartError('RAMPART_ERR_CLI_USAGE', `${(err as Error).message}\n\n${command.usage}`);
  }
}
