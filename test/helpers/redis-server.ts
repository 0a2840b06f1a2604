import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';

/**
 * Real redis-server processes for tests, on free loopback ports with their own temp dirs and
 * no persistence (`--save '' --appendonly no`), so a Debian-started service on 6379 (or any
 * other Redis) is never touched. Every process started here is stopped by its owner's `after`
 * hook, and killed on exit as a last resort, so no server outlives the test run.
 */

const run = promisify(execFile);
const HOST = '127.0.0.1';
const STARTUP_MS = 10_000;
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

let installed: boolean | undefined;
function hasRedis(): boolean {
  installed ??= spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  return installed;
}

/**
 * The skip reason for a suite that needs redis-server, or undefined when it is installed. Under
 * CI (`CI=true`) a missing redis-server throws instead: CI must run these tests, not skip them.
 */
export function redisMissing(): string | undefined {
  if (hasRedis()) return undefined;
  if (process.env.CI === 'true') throw new Error('redis-server is not installed, and CI=true requires it');
  return 'redis-server is not installed (apt-get install redis-server); skipped outside CI';
}

/** In a test: false (and the test is skipped) when redis-server is missing outside CI. */
export function requireRedis(t: TestContext): boolean {
  const reason = redisMissing();
  if (reason === undefined) return true;
  t.skip(reason);
  return false;
}

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** Run redis-cli against this server; its stdout, trimmed. */
  cli(...args: string[]): Promise<string>;
  /** Stop the process (SIGTERM, then SIGKILL after 3 s). */
  stop(): Promise<void>;
  /** Start it again on the same port (empty: nothing was persisted). */
  start(): Promise<void>;
  /** Freeze the process (SIGSTOP): connected but answering nothing, a Redis stuck or overloaded. */
  pause(): void;
  /** Let a paused process run again (SIGCONT). */
  resume(): void;
  /** Stop and remove its temp dir. */
  close(): Promise<void>;
}

/** A free TCP port on loopback (and `port + 10000` too, for a cluster node's bus, when asked). */
export async function freePort(withBus = false): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = withBus ? 20_000 + Math.floor(Math.random() * 20_000) : await ephemeral();
    if ((await isFree(port)) && (!withBus || (await isFree(port + 10_000)))) return port;
  }
  throw new Error('no free port found');
}

function ephemeral(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, HOST, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, HOST, () => s.close(() => resolve(true)));
  });
}

/** Start redis-server (or, with `--sentinel` in args, a sentinel) and wait until it answers PING. */
export async function startRedis(
  options: { args?: string[]; port?: number; conf?: string } = {},
): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'rampart-redis-'));
  let confArgs: string[] = [];
  if (options.conf !== undefined) {
    const file = join(dir, 'redis.conf');
    writeFileSync(file, options.conf);
    confArgs = [file];
  }
  const argv = [
    ...confArgs,
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
    ...(options.args ?? []),
  ];
  let child: ChildProcess | undefined;
  const server: RedisServer = {
    host: HOST,
    port,
    url: `redis://${HOST}:${port}`,
    cli: async (...args) => (await run('redis-cli', ['-h', HOST, '-p', String(port), ...args])).stdout.trim(),
    start: async () => {
      if (child) return;
      const started = spawn('redis-server', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      child = started;
      live.add(started);
      let output = '';
      started.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      started.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      started.once('exit', () => {
        live.delete(started);
        if (child === started) child = undefined;
      });
      try {
        await waitPing(port, () => child !== started);
      } catch (err) {
        await server.stop();
        throw new Error(`redis-server on port ${port} did not start: ${(err as Error).message}\n${output}`);
      }
    },
    stop: async () => {
      const c = child;
      if (!c) return;
      child = undefined;
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => c.kill('SIGKILL'), 3000);
        c.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        c.kill('SIGCONT'); // a paused server would not act on SIGTERM
        if (!c.kill('SIGTERM') || c.exitCode !== null) {
          clearTimeout(kill);
          resolve();
        }
      });
    },
    pause: () => {
      child?.kill('SIGSTOP');
    },
    resume: () => {
      child?.kill('SIGCONT');
    },
    close: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

/** Poll with PING (raw RESP) until it answers, the process died, or the startup bound passed. */
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
    // A server with requirepass answers NOAUTH: it is up all the same.
    socket.once('data', (d: Buffer) => done(/^(\+PONG|-NOAUTH)/.test(d.toString())));
  });
}

export interface RedisCluster {
  readonly nodes: readonly { host: string; port: number }[];
  readonly servers: readonly RedisServer[];
  close(): Promise<void>;
}

/** Three masters, no replicas, all 16384 slots assigned, state ok on every node. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const servers: RedisServer[] = [];
  const close = async () => {
    await Promise.all(servers.map((s) => s.close()));
  };
  try {
    for (let i = 0; i < 3; i++) {
      const port = await freePort(true);
      servers.push(
        await startRedis({
          port,
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `nodes-${port}.conf`,
            '--cluster-node-timeout',
            '2000',
          ],
        }),
      );
    }
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...servers.map((s) => `${HOST}:${s.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    const until = Date.now() + 20_000;
    for (const s of servers) {
      while (!(await s.cli('cluster', 'info')).includes('cluster_state:ok')) {
        if (Date.now() > until) throw new Error(`cluster node ${s.port} not ok`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { nodes: servers.map((s) => ({ host: HOST, port: s.port })), servers, close };
}

export interface RedisSentinel {
  readonly master: RedisServer;
  /** With `{ replica: true }`: a replica of the master, which a failover promotes. */
  readonly replica: RedisServer | undefined;
  readonly sentinel: RedisServer;
  /** The monitored master group name. */
  readonly name: string;
  close(): Promise<void>;
}

/**
 * One master (and, if asked, one replica) and one sentinel (quorum 1) monitoring it as
 * `rampart-test`, declaring it down after 1 s.
 */
export async function startRedisSentinel(options: { replica?: boolean } = {}): Promise<RedisSentinel> {
  const name = 'rampart-test';
  const servers: RedisServer[] = [];
  const close = async () => {
    for (const s of servers.reverse()) await s.close();
  };
  try {
    // A replica's first sync would otherwise wait 5 s (repl-diskless-sync-delay) for others.
    const master = await startRedis({ args: ['--repl-diskless-sync-delay', '0'] });
    servers.push(master);
    let replica: RedisServer | undefined;
    if (options.replica) {
      replica = await startRedis({ args: ['--replicaof', HOST, String(master.port)] });
      servers.push(replica);
      const r = replica;
      await until('the replica to sync', async () =>
        (await r.cli('info', 'replication')).includes('master_link_status:up'),
      );
    }
    const sentinel = await startRedis({
      conf: [
        `sentinel monitor ${name} ${HOST} ${master.port} 1`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 5000`,
        '',
      ].join('\n'),
      args: ['--sentinel'],
    });
    servers.push(sentinel);
    await until('the sentinel to know the master', async () =>
      (await sentinel.cli('sentinel', 'get-master-addr-by-name', name)).includes(String(master.port)),
    );
    if (replica) {
      const port = String(replica.port);
      await until('the sentinel to know the replica', async () =>
        (await sentinel.cli('sentinel', 'replicas', name)).includes(port),
      );
    }
    return { master, replica, sentinel, name, close };
  } catch (err) {
    await close();
    throw err;
  }
}

async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + STARTUP_MS;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
