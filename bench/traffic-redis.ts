import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';
import { Redis } from 'ioredis';
import { type Child, cpuMicros } from './procs.ts';

/**
 * The redis-server of `npm run bench:traffic`, and what the bench reads from it: Redis's own
 * command counters (`INFO commandstats`), its CPU time, and a MONITOR of an exact number of
 * requests, which tells the commands a client sent (round trips) from those a script ran
 * inside Redis (no round trip). commandstats counts both alike.
 */

const HOST = '127.0.0.1';
const STARTUP_MS = 10_000;
const STOP_MS = 3000;

/** A redis-server on a free loopback port, as a bench child (stopped with the others). */
export interface RedisChild extends Child {
  /** The bench's own connection: INFO and MONITOR. */
  readonly client: Redis;
}

/**
 * Start redis-server with no persistence in `dir`. Linux: through `setpriv --pdeathsig`, so a
 * bench killed with SIGKILL takes its Redis with it (the orphan guard of the node children
 * cannot be preloaded into redis-server).
 */
export async function startRedisServer(dir: string): Promise<RedisChild> {
  const port = await freePort();
  const argv = [
    '--port',
    String(port),
    '--bind',
    HOST,
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
  ];
  const guarded = spawnSync('setpriv', ['--help'], { stdio: 'ignore' }).status === 0;
  const proc: ChildProcess = guarded
    ? spawn('setpriv', ['--pdeathsig', 'SIGKILL', 'redis-server', ...argv], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn('redis-server', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  const keep = (d: Buffer) => {
    tail.push(...d.toString().trim().split('\n'));
    tail.splice(0, Math.max(0, tail.length - 40));
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let client: Redis | null = null;
  const stop = async () => {
    client?.disconnect();
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_MS);
    await exited;
    clearTimeout(timer);
  };
  const stderrTail = () => tail.join('\n');
  try {
    await waitPing(port, () => proc.exitCode !== null || proc.signalCode !== null);
    client = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
  } catch (err) {
    await stop();
    throw new Error(`redis-server did not start: ${(err as Error).message}\n${stderrTail()}`);
  }
  return { name: 'redis-server', proc, port, stderrTail, stop, client };
}

/** What Redis has done so far: calls per command (`INFO commandstats`) and its CPU time. */
export interface RedisSnapshot {
  readonly calls: ReadonlyMap<string, number>;
  readonly cpuMicros: number | null;
}

export async function snapshot(redis: RedisChild): Promise<RedisSnapshot> {
  const info = await redis.client.info('commandstats');
  const calls = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(m[1]!, Number(m[2]));
  return { calls, cpuMicros: cpuMicros(redis.proc.pid) };
}

/**
 * Calls per command between two snapshots. The INFO that took `before` is counted in `after`:
 * it is the bench's, not Rampart's, so it is taken out.
 */
export function callsBetween(before: RedisSnapshot, after: RedisSnapshot): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [name, n] of after.calls) {
    const d = n - (before.calls.get(name) ?? 0) - (name === 'info' ? 1 : 0);
    if (d > 0) delta.set(name, d);
  }
  return delta;
}

/** Commands seen by MONITOR while a known number of requests ran. */
export interface MonitorCount {
  readonly requests: number;
  /** Commands Rampart's connections sent (each one a round trip), by name. */
  readonly client: Record<string, number>;
  /** Commands the Lua scripts ran inside Redis, by name. */
  readonly script: Record<string, number>;
  /** EVALSHA/EVAL calls by their number of keys (how many limits one call carried). */
  readonly keysPerCall: Record<string, number>;
  /** The requests' response statuses, by count. */
  readonly statuses: Record<string, number>;
}

/**
 * Run `send` (which sends exactly `requests` requests and answers their statuses) under
 * MONITOR. MONITOR tags each command with its source: a client address, or `lua` for a
 * command a script ran. It slows Redis down, so it never runs during a measured run.
 */
export async function monitorRequests(
  redis: RedisChild,
  requests: number,
  send: () => Promise<Record<string, number>>,
): Promise<MonitorCount> {
  const monitor = await redis.client.monitor();
  const client: Record<string, number> = {};
  const script: Record<string, number> = {};
  const keysPerCall: Record<string, number> = {};
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    // The bench's own client is idle meanwhile: every command is Rampart's or a script's.
    const name = (args[0] ?? '').toLowerCase();
    const into = source === 'lua' ? script : client;
    into[name] = (into[name] ?? 0) + 1;
    if (source !== 'lua' && (name === 'evalsha' || name === 'eval')) {
      keysPerCall[args[2] ?? '?'] = (keysPerCall[args[2] ?? '?'] ?? 0) + 1;
    }
  });
  let statuses: Record<string, number> = {};
  try {
    statuses = await send();
    // The last commands reach the monitor stream just after the last response.
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    // Closed before the bench's next INFO, which it would otherwise count.
    const ended = once(monitor, 'end');
    monitor.disconnect();
    await ended;
  }
  return { requests, client, script, keysPerCall, statuses };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, HOST, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitPing(port: number, died: () => boolean): Promise<void> {
  const until = Date.now() + STARTUP_MS;
  while (Date.now() < until) {
    if (died()) throw new Error('the process exited');
    if (await ping(port)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no PONG within ${STARTUP_MS} ms`);
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d: Buffer) => done(d.toString().startsWith('+PONG')));
  });
}
