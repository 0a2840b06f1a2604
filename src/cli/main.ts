#!/usr/bin/env node
import { RampartError } from '../core/errors.ts';
import { errorText } from '../server/lifecycle.ts';
import { VERSION } from '../version.ts';
import { type Command, EXIT, parseCommandArgs } from './args.ts';
import { auditCommand } from './audit.ts';
import { authzCommand } from './authz.ts';
import { checkCommand } from './check.ts';
import { explainCommand } from './explain.ts';
import { keysCommand } from './keys.ts';
import { startCommand } from './start.ts';

const COMMANDS: readonly Command[] = [
  startCommand,
  checkCommand,
  explainCommand,
  keysCommand,
  authzCommand,
  auditCommand,
];

function usage(): string {
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(9)} ${c.summary}`);
  return `Rampart ${VERSION}: a security-first API gateway

Usage: rampart <command> [options]

Commands:
${lines.join('\n')}

Options:
  --version   print the version
  -h, --help  show this help (rampart <command> --help for a command)
`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`RAMPART_ERR_CLI_USAGE: unknown command "${name}"\n\n${usage()}`);
    return EXIT.usage;
  }
  try {
    const { values, positionals } = parseCommandArgs(command, rest);
    if (values.help) {
      process.stdout.write(`${command.usage}\n`);
      return EXIT.ok;
    }
    return await command.run(values, positionals);
  } catch (err) {
    process.stderr.write(`${errorText(err)}\n`);
    if (err instanceof RampartError) {
      if (err.code === 'RAMPART_ERR_CLI_USAGE') return EXIT.usage;
      if (err.code === 'RAMPART_ERR_LISTEN') return EXIT.failure;
      return EXIT.invalid;
    }
    return EXIT.failure;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
// `start` ends after a drain; anything still holding the loop (a client socket mid-close) must not keep it alive.
if (process.argv[2] === 'start') process.exit(code);
