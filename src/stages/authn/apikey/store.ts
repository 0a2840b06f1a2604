import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import {
  API_KEY_ID_PATTERN,
  generateApiKey,
  generateSigV4Credential,
  hashSecret,
  SIGV4_ID_PATTERN,
} from './format.ts';
import { sealSigV4Secret } from './verify.ts';

/**
 * The key store: a JSON file `{ "version": 1, "keys": [KeyRecord, ...] }` written by
 * `rampart keys` and watched by the gateway. It holds no usable secret:
 *
 * - `apiKey` records keep `hash`, the hex HMAC-SHA-256 of the secret under the pepper.
 * - `sigv4` records keep `sealed`: SigV4 verification recomputes the signature, so it needs the
 *   plaintext secret access key and a one-way hash cannot serve. The secret is encrypted
 *   (AES-256-GCM under a key HKDF-derived from the pepper), so the file alone reveals nothing;
 *   file plus pepper reveals the SigV4 secrets — keep the pepper out of the file's backups.
 */
export type KeyKind = 'apiKey' | 'sigv4';

export interface KeyRecord {
  /** apiKey: the public id in `rk_<id>_...`; sigv4: the access key id. */
  readonly id: string;
  readonly kind: KeyKind;
  /** apiKey: hex HMAC-SHA-256(pepper, secret). */
  readonly hash?: string;
  /** sigv4: base64url of iv(12) | ciphertext | tag(16). */
  readonly sealed?: string;
  /** Becomes the principal id. */
  readonly owner: string;
  readonly scopes: readonly string[];
  readonly plan?: string;
  readonly createdAt: string;
  readonly expiresAt?: string;
  readonly revokedAt?: string;
  /** Set by rotation: the key that replaces this one (this one expires after the overlap). */
  readonly replacedBy?: string;
  readonly description?: string;
}

export interface KeyStoreFile {
  readonly version: 1;
  readonly keys: readonly KeyRecord[];
}

export type KeyStatus = 'active' | 'rotating' | 'expired' | 'revoked';

/** What `create` needs; the id and secret are generated. */
export interface NewKey {
  readonly kind: KeyKind;
  readonly owner: string;
  readonly scopes?: readonly string[];
  readonly plan?: string;
  readonly expiresAt?: string;
  readonly description?: string;
}

/** The secret of a new key: shown once, never stored. */
export type IssuedSecret =
  | { readonly kind: 'apiKey'; readonly token: string }
  | { readonly kind: 'sigv4'; readonly accessKeyId: string; readonly secretAccessKey: string };

export interface Issued {
  readonly store: KeyStore;
  readonly record: KeyRecord;
  readonly secret: IssuedSecret;
}

/** A mutation names a key that does not exist, or whose state forbids it (revoked, already rotated). */
export class KeyStateError extends Error {
  override readonly name = 'KeyStateError';
}

// The owner becomes the principal id and may be injected into an upstream header, and every
// field is printed by `rampart keys list`: no control characters (CRLF, terminal escapes).
export const OWNER_PATTERN = /^[\x21-\x7e](?:[\x20-\x7e]{0,126}[\x21-\x7e])?$/;
/** RFC 6749 §3.3 scope-token. */
export const SCOPE_PATTERN = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;
export const PLAN_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
export const DESCRIPTION_PATTERN = /^[^\x00-\x1f\x7f]{0,1024}$/;
const HASH_PATTERN = /^[0-9a-f]{64}$/;
const ISO_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** iv + at least one byte + tag. */
const MIN_SEALED_BYTES = 12 + 1 + 16;
const FIELDS = [
  'id',
  'kind',
  'hash',
  'sealed',
  'owner',
  'scopes',
  'plan',
  'createdAt',
  'expiresAt',
  'revokedAt',
  'replacedBy',
  'description',
] as const;

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

function isIso(value: unknown): value is string {
  return typeof value === 'string' && ISO_PATTERN.test(value) && isoTime(Date.parse(value)) === value;
}

function matches(value: unknown, pattern: RegExp): value is string {
  return typeof value === 'string' && pattern.test(value);
}

/** The first problem of one record as `field: message`, or null. */
function recordProblem(r: Record<string, unknown>): string | null {
  for (const key of Object.keys(r)) {
    if (!(FIELDS as readonly string[]).includes(key)) return `${key}: unknown field`;
  }
  if (r.kind !== 'apiKey' && r.kind !== 'sigv4') return 'kind: must be "apiKey" or "sigv4"';
  if (r.kind === 'apiKey') {
    if (!matches(r.id, API_KEY_ID_PATTERN)) return 'id: must be 16 lowercase base32 characters';
    if (!matches(r.hash, HASH_PATTERN)) return 'hash: must be 64 lowercase hex characters';
    if (r.sealed !== undefined) return 'sealed: only sigv4 keys have a sealed secret';
  } else {
    if (!matches(r.id, SIGV4_ID_PATTERN)) return 'id: must be RK and 18 uppercase base32 characters';
    if (!isSealed(r.sealed)) return 'sealed: must be base64url of iv, ciphertext and tag';
    if (r.hash !== undefined) return 'hash: only apiKey keys have a hash';
  }
  if (!matches(r.owner, OWNER_PATTERN)) return 'owner: must be 1-128 printable ASCII characters';
  if (!Array.isArray(r.scopes) || !r.scopes.every((s) => matches(s, SCOPE_PATTERN))) {
    return 'scopes: must be a list of scope tokens (RFC 6749 §3.3)';
  }
  if (r.plan !== undefined && !matches(r.plan, PLAN_PATTERN)) {
    return 'plan: must be letters, digits, ".", "_" or "-" (at most 64)';
  }
  if (r.description !== undefined && !matches(r.description, DESCRIPTION_PATTERN)) {
    return 'description: must be at most 1024 characters, without control characters';
  }
  for (const field of ['createdAt', 'expiresAt', 'revokedAt'] as const) {
    if ((field === 'createdAt' || r[field] !== undefined) && !isIso(r[field])) {
      return `${field}: must be an ISO 8601 UTC time such as 2025-01-31T12:00:00.000Z`;
    }
  }
  if (r.replacedBy !== undefined && typeof r.replacedBy !== 'string') return 'replacedBy: must be a key id';
  return null;
}

function isSealed(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const raw = Buffer.from(value, 'base64url');
  return raw.length >= MIN_SEALED_BYTES && raw.toString('base64url') === value;
}

/** The record with its fields in a fixed order and no undefined members (stable file diffs). */
function normalize(r: KeyRecord): KeyRecord {
  const out: Record<string, unknown> = {};
  for (const field of FIELDS) if (r[field] !== undefined) out[field] = r[field];
  return out as unknown as KeyRecord;
}

export function keyStatus(record: KeyRecord, nowMs: number): KeyStatus {
  if (record.revokedAt !== undefined) return 'revoked';
  if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= nowMs) return 'expired';
  return record.replacedBy !== undefined ? 'rotating' : 'active';
}

/** An immutable, validated key store. Mutations return a new store; `save` writes it. */
export class KeyStore {
  readonly #records: readonly KeyRecord[];
  readonly #byId: ReadonlyMap<string, KeyRecord>;

  /** Throws if a record is invalid or an id repeats; `where` prefixes the message. */
  constructor(records: readonly KeyRecord[], where = 'key store') {
    const byId = new Map<string, KeyRecord>();
    records.forEach((r, i) => {
      if (r === null || typeof r !== 'object' || Array.isArray(r)) {
        throw new Error(`${where}: keys[${i}]: must be an object`);
      }
      const problem = recordProblem(r as unknown as Record<string, unknown>);
      if (problem !== null) throw new Error(`${where}: keys[${i}].${problem}`);
      if (byId.has(r.id)) throw new Error(`${where}: keys[${i}].id: ${r.id} appears more than once`);
      byId.set(r.id, Object.freeze(normalize(r)));
    });
    records.forEach((r, i) => {
      if (r.replacedBy !== undefined && (r.replacedBy === r.id || !byId.has(r.replacedBy))) {
        throw new Error(`${where}: keys[${i}].replacedBy: ${r.replacedBy} is not another key of this store`);
      }
    });
    this.#byId = byId;
    this.#records = Object.freeze([...byId.values()]);
  }

  /** Parse and validate a store file. A missing file is an empty store only with `allowMissing`. */
  static load(file: string, options: { readonly allowMissing?: boolean } = {}): KeyStore {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && options.allowMissing) return new KeyStore([]);
      throw new Error(`key store ${file}: cannot read file (${code ?? 'error'})`);
    }
    return KeyStore.parse(text, file);
  }

  static parse(text: string, file: string): KeyStore {
    const where = `key store ${file}`;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new Error(`${where}: not valid JSON (${(err as Error).message})`);
    }
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new Error(`${where}: must be an object { "version": 1, "keys": [...] }`);
    }
    const { version, keys, ...rest } = data as Record<string, unknown>;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) throw new Error(`${where}: ${extra}: unknown field`);
    if (version !== 1) throw new Error(`${where}: version: must be 1`);
    if (!Array.isArray(keys)) throw new Error(`${where}: keys: must be a list`);
    return new KeyStore(keys as KeyRecord[], where);
  }

  get(id: string): KeyRecord | undefined {
    return this.#byId.get(id);
  }

  list(): readonly KeyRecord[] {
    return this.#records;
  }

  toJSON(): KeyStoreFile {
    return { version: 1, keys: this.#records };
  }

  /** Issue a new key; the returned secret is the only copy. */
  create(input: NewKey, pepper: string, nowMs: number): Issued {
    if (Buffer.byteLength(pepper) < 32) throw new Error('the pepper must be at least 32 bytes');
    const base = {
      kind: input.kind,
      owner: input.owner,
      scopes: [...new Set(input.scopes ?? [])],
      plan: input.plan,
      createdAt: isoTime(nowMs),
      expiresAt: input.expiresAt,
      description: input.description,
    };
    for (;;) {
      let record: KeyRecord;
      let secret: IssuedSecret;
      if (input.kind === 'apiKey') {
        const key = generateApiKey();
        record = { id: key.id, hash: hashSecret(pepper, key.secret), ...base };
        secret = { kind: 'apiKey', token: key.token };
      } else {
        const c = generateSigV4Credential();
        record = { id: c.accessKeyId, sealed: sealSigV4Secret(c.secretAccessKey, pepper), ...base };
        secret = { kind: 'sigv4', ...c };
      }
      // 80+ random bits make a collision practically impossible; never overwrite one anyway.
      if (this.#byId.has(record.id)) continue;
      const store = new KeyStore([...this.#records, record]);
      return { store, record: store.get(record.id)!, secret };
    }
  }

  /** Revoke a key now. Revoking a revoked key keeps its original time. */
  revoke(id: string, nowMs: number): KeyStore {
    const old = this.#existing(id);
    if (old.revokedAt !== undefined) return this;
    return this.#replace({ ...old, revokedAt: isoTime(nowMs) });
  }

  /**
   * Issue a successor with the same kind, owner, scopes, plan and lifetime; the old key stays
   * valid for `overlapMs` (or until its own expiry, if sooner) so clients can switch over.
   */
  rotate(id: string, overlapMs: number, nowMs: number, pepper: string): Issued {
    const old = this.#existing(id);
    const status = keyStatus(old, nowMs);
    if (status === 'revoked') throw new KeyStateError(`key ${id} is revoked: create a new key instead`);
    if (status === 'expired') throw new KeyStateError(`key ${id} has expired: create a new key instead`);
    if (old.replacedBy !== undefined) {
      throw new KeyStateError(`key ${id} was already rotated to ${old.replacedBy}: rotate that key instead`);
    }
    const lifetime =
      old.expiresAt === undefined ? undefined : Date.parse(old.expiresAt) - Date.parse(old.createdAt);
    const issued = this.create(
      {
        kind: old.kind,
        owner: old.owner,
        scopes: old.scopes,
        plan: old.plan,
        description: old.description,
        expiresAt: lifetime === undefined ? undefined : isoTime(nowMs + lifetime),
      },
      pepper,
      nowMs,
    );
    const cutoff = Math.min(
      nowMs + overlapMs,
      old.expiresAt === undefined ? Infinity : Date.parse(old.expiresAt),
    );
    const store = issued.store.#replace({ ...old, expiresAt: isoTime(cutoff), replacedBy: issued.record.id });
    return { ...issued, store };
  }

  /**
   * Write atomically: a temp file (mode 0600) in the same folder, fsync, rename over the
   * target, fsync the folder. A reader (the gateway's watcher) sees the old or the new file,
   * never half of one.
   */
  save(file: string): void {
    const dir = dirname(file);
    const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      fchmodSync(fd, 0o600); // the umask can only narrow 0600, but make it exact
      writeFileSync(fd, `${JSON.stringify(this.toJSON(), null, 2)}\n`);
      fsyncSync(fd);
      closeSync(fd);
      renameSync(tmp, file);
    } catch (err) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
      rmSync(tmp, { force: true });
      throw err;
    }
    try {
      const d = openSync(dir, 'r');
      try {
        fsyncSync(d);
      } finally {
        closeSync(d);
      }
    } catch {
      // Best effort: not every platform can open or fsync a folder.
    }
  }

  #existing(id: string): KeyRecord {
    const record = this.#byId.get(id);
    if (!record) throw new KeyStateError(`no key with id ${id}`);
    return record;
  }

  #replace(record: KeyRecord): KeyStore {
    return new KeyStore(this.#records.map((r) => (r.id === record.id ? record : r)));
  }
}

/**
 * Load, mutate and save under an exclusive lock file (`<file>.lock`), so two `rampart keys`
 * runs cannot both read the old store and lose one's change (a key printed but never stored).
 */
export function updateKeyStore<T>(
  file: string,
  mutate: (store: KeyStore) => { store: KeyStore; result: T },
): T {
  const lock = `${file}.lock`;
  let fd: number;
  try {
    fd = openSync(lock, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new Error(`key store ${file} is locked by another writer (remove ${lock} if none is running)`);
    }
    throw new Error(`key store ${file}: cannot create ${lock} (${(err as NodeJS.ErrnoException).code})`);
  }
  try {
    const { store, result } = mutate(KeyStore.load(file, { allowMissing: true }));
    try {
      store.save(file);
    } catch (err) {
      throw new Error(`key store ${file}: cannot write (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    return result;
  } finally {
    closeSync(fd);
    rmSync(lock, { force: true });
  }
}

export interface KeyStoreWatcherOptions {
  /** How often the file is stat'ed (default 1000 ms). */
  readonly intervalMs?: number;
  /** A missing file is an empty store rather than an error. */
  readonly allowMissing?: boolean;
  /** A read failed: the store is unavailable until a good read. Called once per distinct failure. */
  readonly onError?: (err: Error) => void;
  /** A changed file was read successfully. */
  readonly onReload?: (store: KeyStore) => void;
}

/**
 * The gateway's live view of the key store. The file is polled (stat every `intervalMs`) rather
 * than watched with fs.watch, which misses renames on some platforms and over network mounts;
 * `rampart keys` replaces the file by rename, so the inode changes on every save.
 *
 * Fail closed: when a re-read fails (bad JSON, invalid record, file deleted), `current()` is
 * null and API keys are refused (`key_store_unavailable`) until a read succeeds. Serving the
 * last good copy instead would silently undo revocations made since. While failed, every poll
 * re-reads, so a write that lands within the same mtime tick as a bad read is still picked up.
 */
export class KeyStoreWatcher {
  readonly file: string;
  readonly #options: KeyStoreWatcherOptions;
  #store: KeyStore | null;
  /** Of the file last read successfully; null after a failure (re-read on the next check). */
  #signature: string | null;
  #lastError: string | null = null;
  #timer: NodeJS.Timeout | undefined;

  /** Reads the file once; throws if that first read fails (a config load error, not a runtime one). */
  constructor(file: string, options: KeyStoreWatcherOptions = {}) {
    this.file = file;
    this.#options = options;
    this.#signature = this.#stat();
    this.#store = KeyStore.load(file, { allowMissing: options.allowMissing });
  }

  /** The store, or null while it is unavailable. */
  current(): KeyStore | null {
    return this.#store;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.checkNow(), this.#options.intervalMs ?? 1000);
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Re-read the file if it changed (or if the last read failed). */
  checkNow(): void {
    try {
      const signature = this.#stat();
      if (signature === this.#signature) return;
      const store = KeyStore.load(this.file, { allowMissing: this.#options.allowMissing });
      this.#store = store;
      this.#signature = signature;
      this.#lastError = null;
      this.#options.onReload?.(store);
    } catch (err) {
      this.#store = null;
      this.#signature = null;
      const error = err instanceof Error ? err : new Error(String(err));
      if (error.message !== this.#lastError) {
        this.#lastError = error.message;
        this.#options.onError?.(error);
      }
    }
  }

  /** Identity of the file's current content: inode, size, and ns modification/change times. */
  #stat(): string {
    try {
      const s = statSync(this.file, { bigint: true });
      return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && this.#options.allowMissing) return 'missing';
      throw new Error(`key store ${this.file}: cannot read file (${code ?? 'error'})`);
    }
  }
}
