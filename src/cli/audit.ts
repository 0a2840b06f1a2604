import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { resolveSecret } from '../config/secrets.ts';
import { validateConfig } from '../config/validate.ts';
import { readYamlFile } from '../config/yaml-source.ts';
import { RampartError } from '../core/errors.ts';
import { type AuditSigner, ed25519Signer, hmacSigner } from '../observe/audit/record.ts';
import { auditSettings } from '../observe/audit/settings.ts';
import { type AuditReport, verifyAuditLog } from '../observe/audit/verify.ts';
import { type Command, EXIT } from './args.ts';

const USAGE = `Usage: rampart audit verify [FILE] [options]

Check the audit trail: every record's hash, the chain between them, the sequence (deleted,
inserted, reordered records), the head file (a truncated tail) and, with a key, every
signature. Each problem names the line and the record.

  FILE                   the audit log (default: audit.file of --config)
  --config FILE          the gateway config whose audit.file (and signing key) to use
  --hmac-key REF         check HMAC-SHA-256 signatures with this key (env:NAME or file:PATH)
  --public-key PEM       check Ed25519 signatures with this public key file
  --json                 print the report as JSON

Exit codes: 0 no tampering found (a torn last line from a crash is reported, not an error),
1 tampering found, 2 the log or key cannot be read, 64 usage error.`;

export const auditCommand: Command = {
  name: 'audit',
  summary: 'Verify the tamper-evident audit trail',
  usage: USAGE,
  options: {
    config: { type: 'string' },
    'hmac-key': { type: 'string' },
    'public-key': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values, positionals) {
    const [sub, fileArg, extra] = positionals;
    if (sub !== 'verify')
      throw usage(sub === undefined ? 'missing subcommand' : `unknown subcommand "${sub}"`);
    if (extra !== undefined) throw usage(`unexpected argument "${extra}"`);
    let file = fileArg === undefined ? undefined : resolve(fileArg);
    let signer: AuditSigner | null = null;
    if (typeof values.config === 'string') {
      const configFile = resolve(values.config);
      const source = readYamlFile(configFile);
      const settings = auditSettings(validateConfig(source), source, dirname(configFile));
      if (settings === null && file === undefined) {
        throw new RampartError('RAMPART_ERR_CONFIG_SCHEMA', `${configFile}: audit.file is not set`);
      }
      file ??= settings?.file;
      signer = settings?.signer ?? null;
    }
    if (file === undefined) throw usage('give the audit log, or --config');
    if (typeof values['hmac-key'] === 'string') {
      const secret = resolveSecret(values['hmac-key'], process.cwd(), '--hmac-key', {
        file: '<command line>',
      });
      signer = hmacSigner(secret.reveal());
    }
    if (typeof values['public-key'] === 'string') {
      const pem = readOrFail(resolve(values['public-key']));
      try {
        signer = ed25519Signer(pem);
      } catch (err) {
        throw new RampartError('RAMPART_ERR_CONFIG_FILE', `--public-key: ${(err as Error).message}`);
      }
    }
    if (!existsSync(file)) throw new RampartError('RAMPART_ERR_CONFIG_FILE', `${file}: no such audit log`);
    const report = verifyAuditLog(file, { signer });
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : text(report, signer));
    return report.ok ? EXIT.ok : EXIT.findings;
  },
};

function text(report: AuditReport, signer: AuditSigner | null): string {
  const lines = report.problems.map(
    (p) =>
      `${p.line === 0 ? `${report.file}.head` : `${report.file}:${p.line}`}: ${p.severity === 'tamper' ? 'TAMPERED' : p.severity === 'crash' ? 'crash' : 'warning'}: ${p.message}`,
  );
  const checked = signer ? `, ${signer.kind} signatures checked` : ', signatures not checked';
  lines.push(
    `${report.verified} of ${report.records} records verified${checked}: ${report.ok ? 'no tampering found' : 'TAMPERING FOUND'}`,
  );
  return `${lines.join('\n')}\n`;
}

function readOrFail(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new RampartError(
      'RAMPART_ERR_CONFIG_FILE',
      `${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`,
    );
  }
}

function usage(message: string): RampartError {
  return new RampartError('RAMPART_ERR_CLI_USAGE', `${message}\n\n${USAGE}`);
}
