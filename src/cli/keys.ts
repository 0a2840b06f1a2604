import { dirname, resolve } from 'node:path';
import { resolveSecret, type Secret } from '../config/secrets.ts';
import { parseDuration } from '../config/units.ts';
import { validateConfig } from '../config/validate.ts';
import { readYamlFile } from '../config/yaml-source.ts';
import { type ConfigProblem, configError, RampartError } from '../core/errors.ts';
import { type AuditEntry, canonical, digest } from '../observe/audit/record.ts';
import { auditSettings } from '../observe/audit/settings.ts';
import { AuditLog } from '../observe/audit/writer.ts';
import {
  DESCRIPTION_PATTERN,
  type Issued,
  type IssuedSecret,
  isoTime,
  type KeyRecord,
  KeyStateError,
  KeyStore,
  keyStatus,
  OWNER_PATTERN,
  PLAN_PATTERN,
  SCOPE_PATTERN,
  updateKeyStore,
} from '../stages/authn/apikey/store.ts';
import { cliActor } from './actor.ts';
import { type Command, EXIT } from './args.ts';

export interface KeyStoreSettings {
  /** Absolute; relative paths in the config are relative to the config file's folder. */
  readonly file: string;
  readonly pepper: Secret;
  readonly rotationOverlapMs: number;
}

const KEY_STORE_FIELDS = ['file', 'pepper', 'rotationOverlap'];
const SECRET_REF = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/;
const CONFIG_DURATION = /^[0-9]+(ms|s|m|h)$/;

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Read `authn.keyStore` from a config file. Only that part is validated, with the same
 * rules as the config schema (the rest of the file is the gateway's business); the
 * integrator may swap this for the full `validateConfig`.
 */
export function loadKeyStoreSettings(configFile: string): KeyStoreSettings {
  const file = resolve(configFile);
  const source = readYamlFile(file);
  const at = ['authn', 'keyStore'];
  const root = source.data;
  const settings = isMapping(root) && isMapping(root.authn) ? root.authn.keyStore : undefined;
  if (settings === undefined) {
    throw configError('RAMPART_ERR_CONFIG_SCHEMA', {
      location: source.locate(at, { key: true }),
      field: 'authn.keyStore',
      message: 'not set: rampart keys needs a key store (authn.keyStore.file and .pepper)',
    });
  }
  const problems: ConfigProblem[] = [];
  const problem = (key: string, message: string, onKey = false) =>
    problems.push({
      location: source.locate([...at, key], { key: onKey }),
      field: `authn.keyStore.${key}`,
      message,
    });
  if (!isMapping(settings)) {
    throw configError('RAMPART_ERR_CONFIG_SCHEMA', {
      location: source.locate(at),
      field: 'authn.keyStore',
      message: 'must be a mapping with file and pepper',
    });
  }
  for (const key of Object.keys(settings)) {
    if (!KEY_STORE_FIELDS.includes(key)) problem(key, 'unknown field', true);
  }
  const { file: storeFile, pepper: ref, rotationOverlap = '24h' } = settings;
  if (typeof storeFile !== 'string' || storeFile === '') problem('file', 'must be a file path');
  if (typeof ref !== 'string' || !SECRET_REF.test(ref)) {
    problem('pepper', 'must be a secret reference: env:NAME or file:PATH (never the secret itself)');
  }
  if (typeof rotationOverlap !== 'string' || !CONFIG_DURATION.test(rotationOverlap)) {
    problem('rotationOverlap', 'must be a duration such as 500ms, 10s, 2m or 1h');
  }
  if (problems.length > 0) {
    throw new RampartError(
      'RAMPART_ERR_CONFIG_SCHEMA',
      `${file} has ${problems.length} invalid field(s)`,
      problems,
    );
  }
  const dir = dirname(file);
  const pepperAt = source.locate([...at, 'pepper']);
  const pepper = resolveSecret(ref as string, dir, 'authn.keyStore.pepper', pepperAt);
  if (Buffer.byteLength(pepper.reveal()) < 32) {
    throw configError('RAMPART_ERR_CONFIG_SECRET', {
      location: pepperAt,
      field: 'authn.keyStore.pepper',
      message: 'the pepper must be at least 32 bytes (e.g. `openssl rand -base64 32`)',
    });
  }
  return {
    file: resolve(dir, storeFile as string),
    pepper,
    rotationOverlapMs: parseDuration(rotationOverlap as string),
  };
}

const USAGE = `Usage: rampart keys <create|list|revoke|rotate> [options]

Manage the key store named by authn.keyStore in the config. A new key is printed once, on
stdout; the store keeps only its keyed hash (a SigV4 secret is kept encrypted).

  rampart keys create --owner <name> [--scopes a,b] [--plan <name>] [--expires <duration>]
                      [--description <text>] [--sigv4]
  rampart keys list [--format text|json]
  rampart keys revoke <id>
  rampart keys rotate <id> [--overlap <duration>]

Durations: 30s, 30m, 12h, 90d. Exit codes: 0 done, 2 bad config/store or unknown key, 64 usage.

Options:
  --config <file>       the gateway config (default rampart.yaml)
  --owner <name>        principal id of requests made with the key
  --scopes <a,b>        scopes granted (comma-separated)
  --plan <name>         plan name (for rate limits and quotas)
  --expires <duration>  the key expires this long from now (default: never)
  --description <text>  a note shown by list
  --sigv4               issue a SigV4 access key id and secret instead of an API key
  --format <text|json>  list output format (default text)
  --overlap <duration>  how long the old key stays valid (default authn.keyStore.rotationOverlap)
  -h, --help            show this help`;

/** Options each subcommand takes (besides --config), and how many positionals. */
const SUBCOMMANDS: Record<string, { readonly options: readonly string[]; readonly args: number }> = {
  create: { options: ['owner', 'scopes', 'plan', 'expires', 'description', 'sigv4'], args: 0 },
  list: { options: ['format'], args: 0 },
  revoke: { options: [], args: 1 },
  rotate: { options: ['overlap'], args: 1 },
};

type Values = Record<string, string | boolean | undefined>;

function usageError(message: string): RampartError {
  return new RampartError('RAMPART_ERR_CLI_USAGE', `${message}\n\n${USAGE}`);
}

export const keysCommand: Command = {
  name: 'keys',
  summary: 'Create, list, revoke and rotate API keys and SigV4 credentials',
  usage: USAGE,
  options: {
    config: { type: 'string' },
    owner: { type: 'string' },
    scopes: { type: 'string' },
    plan: { type: 'string' },
    expires: { type: 'string' },
    description: { type: 'string' },
    sigv4: { type: 'boolean' },
    format: { type: 'string' },
    overlap: { type: 'string' },
  },
  async run(values, positionals) {
    const [sub, ...args] = positionals;
    if (sub === undefined) throw usageError('missing subcommand');
    const spec = SUBCOMMANDS[sub];
    if (!spec) throw usageError(`unknown subcommand "${sub}"`);
    for (const [name, value] of Object.entries(values)) {
      if (value !== undefined && name !== 'config' && name !== 'help' && !spec.options.includes(name)) {
        throw usageError(`--${name} does not apply to "keys ${sub}"`);
      }
    }
    if (args.length !== spec.args) {
      throw usageError(spec.args === 0 ? `unexpected argument "${args[0]}"` : `keys ${sub} takes one key id`);
    }
    // Validate the command line before touching the config: a typo should not need the pepper.
    const input = sub === 'create' ? createInput(values) : undefined;
    const overlapMs = values.overlap === undefined ? undefined : duration(values.overlap, 'overlap', true);
    if (
      sub === 'list' &&
      values.format !== undefined &&
      values.format !== 'text' &&
      values.format !== 'json'
    ) {
      throw usageError(`--format must be text or json (got "${values.format}")`);
    }
    const configFile = typeof values.config === 'string' ? values.config : 'rampart.yaml';
    const settings = loadKeyStoreSettings(configFile);
    trail = openTrail(configFile);
    const now = Date.now();
    switch (sub) {
      case 'create': {
        const { expiresMs, ...key } = input!;
        const expiresAt = expiresMs === undefined ? undefined : isoTime(now + expiresMs);
        return printIssued(
          issue(settings, (s) => s.create({ ...key, expiresAt }, settings.pepper.reveal(), now)),
          null,
        );
      }
      case 'list':
        return list(settings.file, values.format === 'json', now);
      case 'revoke':
        return revoke(settings, args[0]!, now);
      default: {
        // rotate
        const id = args[0]!;
        const overlap = overlapMs ?? settings.rotationOverlapMs;
        return printIssued(
          issue(settings, (s) => s.rotate(id, overlap, now, settings.pepper.reveal()), id),
          id,
        );
      }
    }
  },
};

function createInput(values: Values) {
  const owner = values.owner;
  if (typeof owner !== 'string') throw usageError('keys create needs --owner <name>');
  if (!OWNER_PATTERN.test(owner)) throw usageError('--owner must be 1-128 printable ASCII characters');
  const scopes = typeof values.scopes === 'string' ? values.scopes.split(',').map((s) => s.trim()) : [];
  const badScope = scopes.find((s) => !SCOPE_PATTERN.test(s));
  if (badScope !== undefined) {
    throw usageError(`--scopes: "${badScope}" is not a scope (comma-separated tokens, no spaces or quotes)`);
  }
  const plan = typeof values.plan === 'string' ? values.plan : undefined;
  if (plan !== undefined && !PLAN_PATTERN.test(plan)) {
    throw usageError('--plan must be letters, digits, ".", "_" or "-" (at most 64)');
  }
  const description = typeof values.description === 'string' ? values.description : undefined;
  if (description !== undefined && !DESCRIPTION_PATTERN.test(description)) {
    throw usageError('--description must be at most 1024 characters, without control characters');
  }
  const expiresMs = values.expires === undefined ? undefined : duration(values.expires, 'expires', false);
  return {
    kind: values.sigv4 === true ? ('sigv4' as const) : ('apiKey' as const),
    owner,
    scopes,
    plan,
    description,
    expiresMs,
  };
}

const DURATION_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** More than enough for any key lifetime, and keeps the expiry a valid date. */
const MAX_DURATION_MS = 100 * 365 * DURATION_MS.d;

function duration(text: string | boolean, option: string, allowZero: boolean): number {
  const m = /^([0-9]{1,12})(ms|s|m|h|d)$/.exec(String(text));
  const ms = m ? Number(m[1]) * DURATION_MS[m[2] as keyof typeof DURATION_MS] : Number.NaN;
  if (!(ms <= MAX_DURATION_MS) || (!allowZero && ms === 0)) {
    throw usageError(`--${option} must be a duration such as 30m, 12h or 90d (got "${text}")`);
  }
  return ms;
}

/** Load, mutate and save under the store's lock; store problems become config errors (exit 2). */
function mutateStore<T>(
  settings: KeyStoreSettings,
  mutate: (store: KeyStore) => { store: KeyStore; result: T },
): T {
  pendingAudit = null;
  try {
    return guard(settings.file, () => updateKeyStore(settings.file, mutate));
  } catch (err) {
    const entry = pendingAudit as AuditEntry | null;
    if (entry !== null && trail !== null) {
      trail.append({
        ...entry,
        action: `${entry.action}.failed`,
        after: entry.before,
        diff: { error: (err as Error).message },
      });
    }
    throw err;
  }
}

function issue(
  settings: KeyStoreSettings,
  mutate: (store: KeyStore) => Issued,
  rotatedFrom: string | null = null,
): Issued {
  return mutateStore(settings, (store) => {
    const issued = mutate(store);
    const r = issued.record;
    const entry: AuditEntry =
      rotatedFrom === null
        ? {
            actor: cliActor(),
            action: 'keys.create',
            target: `${r.kind}:${r.id}`,
            before: null,
            after: digest(canonical(r)),
            diff: keyFacts(r),
          }
        : {
            actor: cliActor(),
            action: 'keys.rotate',
            target: `${r.kind}:${rotatedFrom}`,
            before: digest(canonical(store.get(rotatedFrom) ?? null)),
            after: digest(canonical(issued.store.get(rotatedFrom) ?? null)),
            diff: {
              successor: r.id,
              oldExpiresAt: issued.store.get(rotatedFrom)?.expiresAt ?? null,
              ...keyFacts(r),
            },
          };
    audited(entry);
    return { store: issued.store, result: issued };
  });
}

/** The audit trail of the config (`audit.file`), or null. Only read when the config has one. */
let trail: AuditLog | null = null;

function openTrail(configFile: string): AuditLog | null {
  const file = resolve(configFile);
  const source = readYamlFile(file);
  const root = source.data;
  if (!isMapping(root) || !isMapping(root.audit)) return null;
  const settings = auditSettings(validateConfig(source), source, dirname(file));
  return settings === null ? null : AuditLog.open(settings.file, { signer: settings.signer }).log;
}

/**
 * Record a key change before it is saved (under the key store's lock): a change is never made
 * without its record. If the save then fails, a `.failed` record says so.
 */
function audited(entry: AuditEntry): void {
  if (trail === null) return;
  try {
    trail.append(entry);
  } catch (err) {
    throw new Error(`audit trail ${trail.file}: ${(err as Error).message}; the key store was not changed`);
  }
  pendingAudit = entry;
}
let pendingAudit: AuditEntry | null = null;

/** What the audit trail says about a key: never its hash or sealed secret. */
function keyFacts(r: KeyRecord) {
  return {
    kind: r.kind,
    owner: r.owner,
    scopes: r.scopes,
    plan: r.plan ?? null,
    expiresAt: r.expiresAt ?? null,
  };
}

function guard<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    // An unknown id or a key in the wrong state "names something that does not exist or conflicts".
    if (err instanceof KeyStateError) {
      throw new RampartError('RAMPART_ERR_CONFIG_REFERENCE', `${err.message} (key store ${file})`);
    }
    throw new RampartError('RAMPART_ERR_CONFIG_FILE', (err as Error).message);
  }
}

function printIssued(issued: Issued, rotatedFrom: string | null): number {
  const secret: IssuedSecret = issued.secret;
  const r = issued.record;
  if (secret.kind === 'apiKey') {
    process.stdout.write(`${secret.token}\n`);
  } else {
    process.stdout.write(
      `access key id: ${secret.accessKeyId}\nsecret access key: ${secret.secretAccessKey}\n`,
    );
  }
  const what = r.kind === 'apiKey' ? 'API key' : 'SigV4 credential';
  const kept = r.kind === 'apiKey' ? 'only a keyed hash' : 'the secret encrypted under the pepper';
  const lines = [`Created ${what} ${r.id} for ${r.owner}${r.expiresAt ? `, expires ${r.expiresAt}` : ''}.`];
  if (rotatedFrom !== null) {
    const old = issued.store.get(rotatedFrom)!;
    lines.push(`It replaces ${rotatedFrom}, which stays valid until ${old.expiresAt}.`);
  }
  lines.push(`The secret is shown only now and cannot be recovered (the key store keeps ${kept}).`);
  process.stderr.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

function revoke(settings: KeyStoreSettings, id: string, now: number): number {
  const before = mutateStore(settings, (s) => {
    const next = s.revoke(id, now);
    const old = s.get(id)!;
    if (old.revokedAt === undefined) {
      audited({
        actor: cliActor(),
        action: 'keys.revoke',
        target: `${old.kind}:${id}`,
        before: digest(canonical(old)),
        after: digest(canonical(next.get(id) ?? null)),
        diff: { owner: old.owner, revokedAt: next.get(id)?.revokedAt ?? null },
      });
    }
    return { store: next, result: old };
  });
  if (before.revokedAt !== undefined) {
    process.stdout.write(`${id} was already revoked at ${before.revokedAt}\n`);
  } else {
    process.stdout.write(`revoked ${id} (${before.owner})\n`);
  }
  return EXIT.ok;
}

/** Only what an operator needs to see: never `hash` or `sealed`. */
function listEntry(r: KeyRecord, now: number) {
  return {
    id: r.id,
    kind: r.kind,
    owner: r.owner,
    scopes: r.scopes,
    plan: r.plan ?? null,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt ?? null,
    revokedAt: r.revokedAt ?? null,
    replacedBy: r.replacedBy ?? null,
    description: r.description ?? null,
    status: keyStatus(r, now),
  };
}

function list(file: string, json: boolean, now: number): number {
  const entries = guard(file, () => KeyStore.load(file, { allowMissing: true }))
    .list()
    .map((r) => listEntry(r, now));
  if (json) {
    process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
    return EXIT.ok;
  }
  if (entries.length === 0) {
    process.stdout.write(`no keys in ${file}\n`);
    return EXIT.ok;
  }
  const header = ['ID', 'KIND', 'OWNER', 'SCOPES', 'PLAN', 'CREATED', 'EXPIRES', 'STATUS'];
  const rows = entries.map((e) => [
    e.id,
    e.kind,
    e.owner,
    e.scopes.length > 0 ? e.scopes.join(',') : '-',
    e.plan ?? '-',
    e.createdAt,
    e.expiresAt ?? 'never',
    e.replacedBy ? `${e.status} (→ ${e.replacedBy})` : e.status,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  for (const row of [header, ...rows]) {
    process.stdout.write(
      `${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}\n`,
    );
  }
  return EXIT.ok;
}
