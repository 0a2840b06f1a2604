import { compileGateway } from '../config/compile.ts';
import { formatLocation, RampartError } from '../core/errors.ts';
import { type Command, EXIT } from './args.ts';

export const checkCommand: Command = {
  name: 'check',
  summary: 'Validate a config and its OpenAPI documents without starting',
  usage: `Usage: rampart check [config] [--format text|json]

Load, validate and compile <config> (default: rampart.yaml) and everything it references,
without listening. Exit codes: 0 valid with no findings, 1 valid with findings, 2 invalid.

Options:
  --format <text|json>  output format (default text)
  -h, --help            show this help`,
  options: { format: { type: 'string', default: 'text' } },
  async run(values, positionals) {
    // An unknown format is a usage error: silently printing text would break a CI step parsing JSON.
    if (values.format !== 'text' && values.format !== 'json') {
      throw new RampartError(
        'RAMPART_ERR_CLI_USAGE',
        `--format must be text or json (got "${values.format}")\n\n${checkCommand.usage}`,
      );
    }
    const file = positionals[0] ?? 'rampart.yaml';
    const gateway = compileGateway(file, { openLogs: false });
    await gateway.close();
    const findings = gateway.findings;
    if (values.format === 'json') {
      process.stdout.write(
        `${JSON.stringify({ valid: true, version: gateway.version, findings }, null, 2)}\n`,
      );
    } else {
      process.stdout.write(
        `${file}: valid (version ${gateway.version}, ${gateway.operations.length} operation(s))\n`,
      );
      for (const f of findings) {
        process.stdout.write(`${formatLocation(f.location)} ${f.severity} [${f.id}] ${f.message}\n`);
      }
      if (findings.length > 0) process.stdout.write(`${findings.length} finding(s)\n`);
    }
    return findings.length > 0 ? EXIT.findings : EXIT.ok;
  },
};
