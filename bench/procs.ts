import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ReadyMessage } from './child.ts';

/** A server or the load generator, each in its own process with its own event loop. */
export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  /** The port it listens on (0 for the load generator). */
  readonly port: number;
  /** The last lines it wrote on stderr, for error reports. */
  stderrTail(): string;
  stop(): Promise<void>;
}

export interface SpawnSpec {
  readonly name: string;
  /** Path of the script, relative to the repository root. */
  readonly script: string;
  readonly args?: readonly string[];
  /** Extra node flags (`--max-semi-space-size`, `--cpu-prof`, ...). */
  readonly nodeFlags?: readonly string[];
  /**
   * How the child says it is ready: over IPC (bench scripts), or as Rampart does, with a JSON
   * log line on stderr that carries its `urls`.
   */
  readonly ready: 'ipc' | 'rampart-log';
  /** Preload bench/orphan-guard.ts (servers; the load generator watches its channel itself). */
  readonly guard?: boolean;
  /** Extra environment variables for this child only (on top of the bench's own). */
  readonly env?: Readonly<Record<string, string>>;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GUARD = new URL('./orphan-guard.ts', import.meta.url).href;
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

export function startChild(spec: SpawnSpec): Promise<Child> {
  const proc = spawn(
    process.execPath,
    [
      '--experimental-strip-types',
      '--disable-warning=ExperimentalWarning',
      ...(spec.guard ? ['--import', GUARD] : []),
      ...(spec.nodeFlags ?? []),
      spec.script,
      ...(spec.args ?? []),
    ],
    {
      cwd: ROOT,
      env: spec.env === undefined ? process.env : { ...process.env, ...spec.env },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    },
  );
  const tail: string[] = [];
  let partial = '';
  let onLine: ((line: string) => void) | null = null;
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      onLine?.(line);
    }
  });
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.once('exit', () => {
    exited = true;
  });
  const stderrTail = () => [...tail, partial].join('\n').trim();

  const stop = async (): Promise<void> => {
    if (exited || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exitPromise;
    clearTimeout(timer);
  };

  return new Promise<Child>((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stop();
      reject(new Error(`${spec.name} did not start: ${why}\n${stderrTail()}`));
    };
    const done = (port: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      onLine = null;
      resolve({ name: spec.name, proc, port, stderrTail, stop });
    };
    const timer = setTimeout(
      () => fail(`no ready signal within ${READY_TIMEOUT_MS / 1000}s`),
      READY_TIMEOUT_MS,
    );
    proc.once('exit', (code, signal) => fail(`exited (${signal ?? code})`));
    proc.once('error', (err) => fail(err.message));
    if (spec.ready === 'ipc') {
      proc.once('message', (m: ReadyMessage) => done(m.port));
    } else {
      onLine = (line) => {
        const port = rampartPort(line);
        if (port !== null) done(port);
      };
    }
  });
}

/** The port of Rampart's first listener, from its `rampart listening` log line. */
function rampartPort(line: string): number | null {
  if (!line.startsWith('{')) return null;
  try {
    const entry = JSON.parse(line) as { urls?: string[] };
    const url = entry.urls?.[0];
    return url === undefined ? null : Number(new URL(url).port);
  } catch {
    return null;
  }
}

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system, all threads) a process has used, in microseconds, from
 * /proc/<pid>/stat; null where there is no procfs. Linux's USER_HZ is 100 on every mainstream
 * architecture, which gives 10 ms granularity: fine over runs of ~10k requests or more.
 */
export function cpuMicros(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3 (state).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1_000_000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}
