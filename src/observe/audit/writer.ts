import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import {
  type AuditEntry,
  type AuditRecord,
  type AuditSigner,
  canonical,
  GENESIS,
  recordHash,
} from './record.ts';

/** The last record as the head file states it: what `verify` compares the log's tail with. */
export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
  readonly sig?: string;
}

export interface AuditOpenResult {
  readonly log: AuditLog;
  /** Bytes of an incomplete last line found at open (a crash mid-append), saved aside here. */
  readonly tornSavedTo: string | null;
}

/**
 * The append-only audit trail: one JSON record per line, hash-chained (record.ts), with a head
 * file (`<file>.head`) that names the last record, so a truncated tail is detected too.
 *
 * `append` returns only once the record is on disk (write + fsync), and only then is the head
 * updated (written aside, fsync'd, renamed over): callers apply and acknowledge a change after
 * `append` returns, so every acknowledged change has a durable record. Several processes may
 * append (the gateway's admin API, `rampart keys`): each append holds `<file>.lock` and
 * re-reads the tail under it, so the chain never forks.
 */
export class AuditLog {
  readonly file: string;
  readonly #signer: AuditSigner | null;
  readonly #now: () => number;

  private constructor(file: string, signer: AuditSigner | null, now: () => number) {
    this.file = file;
    this.#signer = signer;
    this.#now = now;
  }

  /**
   * Open (creating if absent, mode 0600). An incomplete last line — the crash of a writer
   * between starting and finishing a line, whose change was therefore never acknowledged — is
   * moved to `<file>.torn-<time>` and cut off, so appends continue a valid chain; the caller
   * reports it. Anything else wrong is left for `rampart audit verify`.
   */
  static open(
    file: string,
    options: { signer?: AuditSigner | null; now?: () => number } = {},
  ): AuditOpenResult {
    const log = new AuditLog(file, options.signer ?? null, options.now ?? Date.now);
    const tornSavedTo = log.#withLock(() => log.#repairTornTail());
    return { log, tornSavedTo };
  }

  append(entry: AuditEntry): AuditRecord {
    return this.#withLock(() => {
      this.#repairTornTail();
      const last = this.#lastRecord();
      const body = {
        seq: (last?.seq ?? 0) + 1,
        time: new Date(this.#now()).toISOString(),
        actor: entry.actor,
        action: entry.action,
        target: entry.target,
        before: entry.before,
        after: entry.after,
        diff: entry.diff ?? null,
        prev: last?.hash ?? GENESIS,
      };
      const hash = recordHash(body);
      const record: AuditRecord = this.#signer
        ? { ...body, hash, sig: this.#signer.sign(hash) }
        : { ...body, hash };
      const fd = openSync(this.file, 'a', 0o600);
      try {
        writeSync(fd, `${canonical(record)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      this.#writeHead({ seq: record.seq, hash, ...(record.sig ? { sig: record.sig } : {}) });
      return record;
    });
  }

  /** The last complete line, read backwards from the end: an append costs O(record), not O(file). */
  #lastRecord(): AuditRecord | null {
    if (!existsSync(this.file)) return null;
    const fd = openSync(this.file, 'r');
    try {
      const size = fstatSync(fd).size;
      let chunk = 4096;
      for (;;) {
        const start = Math.max(0, size - chunk);
        const buf = Buffer.alloc(size - start);
        readSync(fd, buf, 0, buf.length, start);
        const body = buf.subarray(0, buf.length - 1); // the final \n
        const nl = body.lastIndexOf(0x0a);
        if (nl >= 0 || start === 0) {
          const line = body
            .subarray(nl + 1)
            .toString('utf8')
            .trim();
          if (line === '') return null;
          try {
            return JSON.parse(line) as AuditRecord;
          } catch {
            throw new Error(
              `audit log ${this.file}: the last record is not JSON; run \`rampart audit verify\``,
            );
          }
        }
        chunk *= 4;
      }
    } finally {
      closeSync(fd);
    }
  }

  #repairTornTail(): string | null {
    if (!existsSync(this.file)) return null;
    const bytes = readFileSync(this.file);
    if (bytes.length === 0 || bytes[bytes.length - 1] === 0x0a) {
      // A complete last line can still be unparseable: that is tampering, not a crash; verify says so.
      return null;
    }
    const keep = bytes.lastIndexOf(0x0a) + 1;
    const aside = `${this.file}.torn-${this.#now()}`;
    writeFileSync(aside, bytes.subarray(keep), { mode: 0o600 });
    truncateSync(this.file, keep);
    const fd = openSync(this.file, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return aside;
  }

  #writeHead(head: AuditHead): void {
    const file = `${this.file}.head`;
    const tmp = `${file}.tmp-${process.pid}`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, `${canonical(head)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    fsyncDir(dirname(file));
  }

  #withLock<T>(run: () => T): T {
    const lock = `${this.file}.lock`;
    let fd: number | undefined;
    for (let attempt = 0; fd === undefined; attempt++) {
      try {
        fd = openSync(lock, 'wx', 0o600);
        writeSync(fd, String(process.pid));
      } catch (err) {
        // A writer killed while holding the lock leaves it behind: its pid is gone, so take over.
        if ((err as NodeJS.ErrnoException).code === 'EEXIST' && staleLock(lock)) {
          rmSync(lock, { force: true });
          continue;
        }
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 200) {
          throw new Error(
            `audit log ${this.file}: cannot lock (${(err as NodeJS.ErrnoException).code}); remove ${lock} if no writer is running`,
          );
        }
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      }
    }
    try {
      return run();
    } finally {
      closeSync(fd);
      rmSync(lock, { force: true });
    }
  }
}

/** The lock names a process that no longer runs (on this host). */
function staleLock(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(lock, 'utf8'));
  } catch {
    return false;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Make a rename durable: fsync the directory that holds the entry (POSIX). */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function readHead(file: string): AuditHead | null {
  const path = `${file}.head`;
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as AuditHead;
}
