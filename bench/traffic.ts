import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LoadDriver } from './load-driver.ts';
import { type BenchOptions, parseOptions, singleProcessOptionsHelp } from './options.ts';
import { type Child, startChild } from './procs.ts';
import { type RunRecord, summarize } from './report.ts';
import { type Bench, cpuProfileFlags, lifecycle, machine, progress, semiSpaceFlags } from './run.ts';
import { type MonitorCount, monitorRequests, startRedisServer } from './traffic-redis.ts';
import { formatReport, type StoreRun, type TrafficScenario } from './traffic-report.ts';
import { checkScenario, sendExactly, storeRun } from './traffic-run.ts';
import { formatStoreCalls, storeCallCosts } from './traffic-store-call.ts';

/**
 * `npm run bench:traffic`: what a rate limit costs per request with the memory store and with
 * the Redis store, against the same request without limits, in one run (issue 5: the Redis
 * limit must keep ≥ 0.75× the memory limit's throughput and cost at most one store round trip
 * per request). Two Rampart processes with the same config but `store:`, one redis-server,
 * one upstream and one load generator; the runs of all five rows are interleaved.
 *
 * Round trips are counted by Redis, not assumed: `INFO commandstats` before and after every
 * run, divided by the requests Rampart logged in that run; then a MONITOR of an exact number
 * of requests tells the commands Rampart sent from those the scripts ran inside Redis.
 */

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
/** Requests per path under MONITOR (not measured for speed: MONITOR slows Redis down). */
const MONITOR_REQUESTS = 500;

const USAGE = `Usage: npm run bench:traffic -- [options]

Measures, in one run, the same GET /hello (bench/openapi.yaml, answered by bench/upstream.ts)
through two Rampart processes that differ only in their state store:
  none (memory)       /none/hello: no limit, the reference
  1 limit (memory)    /one/hello: one ip-keyed edge rate limit, memory store
  3 limits (memory)   /three/hello: ip and global edge limits + a principal quota, memory store
  1 limit (redis)     the same as 1 limit, Redis store (a redis-server the bench starts)
  3 limits (redis)    the same as 3 limits, Redis store
The limits are set so high that they never refuse. Prints medians, ratios to none and of
redis to memory, Redis's CPU per request, and the store round trips per request counted by
Redis itself (INFO commandstats; MONITOR of ${MONITOR_REQUESTS} requests per path).

${singleProcessOptionsHelp('traffic').replace(/ {2}--access-log[^\n]*\n[^\n]*\n/, '')}`;

function row(name: string, path: string, store: 'memory' | 'redis', limits: number): TrafficScenario {
  return { name, method: 'GET', path, headers: {}, body: undefined, store, limits };
}

/** The first row is the reference the others are compared with. */
const SCENARIOS: readonly TrafficScenario[] = [
  row('none (memory)', '/none/hello', 'memory', 0),
  row('1 limit (memory)', '/one/hello', 'memory', 1),
  row('3 limits (memory)', '/three/hello', 'memory', 3),
  row('1 limit (redis)', '/one/hello', 'redis', 1),
  row('3 limits (redis)', '/three/hello', 'redis', 3),
];

function api(name: string, traffic: string): string {
  return `  ${name}:
    openapi: ${JSON.stringify(join(BENCH_DIR, 'openapi.yaml'))}
    basePath: /${name}
    stripBasePath: true
    upstream: bench
    # As in the passthrough bench: request validation (on by default) has its own bench.
    validate: { mode: off }
${traffic}`;
}

/**
 * The same three APIs (no limit, one, three) on both processes. Rates of a million per second
 * with a burst as large never refuse at bench speeds, so every request does the full work: the
 * store reads, decides and writes each limit, and the response carries the RateLimit fields.
 */
function rampartConfig(upstreamPort: number, accessLog: string, store: string): string {
  const ip = '{ name: per-ip, key: ip, rate: 1000000, per: 1s }';
  return `# Written by bench/traffic.ts for one bench run.
version: 1
server:
  listen:
    - host: 127.0.0.1
      port: 0
log:
  level: info
  access:
    enabled: true
    destination: ${JSON.stringify(accessLog)}
${store}
upstreams:
  bench:
    url: http://127.0.0.1:${upstreamPort}
apis:
${api('none', '')}
${api(
  'one',
  `    operations:
      hello:
        traffic:
          rateLimits: [${ip}]
`,
)}
${api(
  'three',
  `    operations:
      hello:
        traffic:
          # Two edge limits (one store call in edge-limit) and a quota (one in quota).
          rateLimits:
            - ${ip}
            - { name: everyone, key: global, rate: 1000000, per: 1s }
          quotas:
            - { name: daily, key: principal, limit: 1000000000000, per: day }
`,
)}`;
}

async function main(): Promise<number> {
  let options: BenchOptions;
  const date = new Date().toISOString().slice(0, 10);
  try {
    options = parseOptions(
      process.argv.slice(2),
      process.env,
      join(tmpdir(), 'rampart-bench', `traffic-${date}.json`),
    );
    if (options.accessLog !== null) {
      throw new Error(
        'bench:traffic keeps the access logs of its two Rampart processes itself: no --access-log',
      );
    }
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    return 64;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  const work = mkdtempSync(join(tmpdir(), 'rampart-bench-traffic-'));
  const nodeFlags = semiSpaceFlags(options);
  const { children, stopAll, stopped } = lifecycle(work);
  try {
    const loadChild = await startChild({ name: 'load generator', script: 'bench/load.ts', ready: 'ipc' });
    children.push(loadChild);
    const upstream = await startChild({
      name: 'upstream',
      script: 'bench/upstream.ts',
      ready: 'ipc',
      guard: true,
    });
    children.push(upstream);
    const redisDir = join(work, 'redis');
    mkdirSync(redisDir);
    const redis = await startRedisServer(redisDir);
    children.push(redis);
    const redisVersion = /^redis_version:(\S+)/m.exec(await redis.client.info('server'))?.[1] ?? '?';

    const startRampart = async (store: 'memory' | 'redis', storeYaml: string): Promise<Bench> => {
      const accessLog = join(work, `access-${store}.log`);
      const configFile = join(work, `rampart-${store}.yaml`);
      writeFileSync(configFile, rampartConfig(upstream.port, accessLog, storeYaml));
      const child: Child = await startChild({
        name: `rampart (${store} store)`,
        script: 'src/cli/main.ts',
        args: ['start', configFile],
        nodeFlags: [...nodeFlags, ...cpuProfileFlags(options, `rampart-traffic-${store}`)],
        ready: 'rampart-log',
        guard: true,
      });
      children.push(child);
      return {
        options,
        load: new LoadDriver(loadChild),
        servers: { rampart: child },
        ownedAccessLog: accessLog,
      };
    };
    const memory = await startRampart('memory', 'store: { type: memory }');
    // commandTimeout keeps its default (100ms), as a deployment would.
    const redisStore = await startRampart(
      'redis',
      `store: { type: redis, redis: { host: 127.0.0.1, port: ${redis.port} } }`,
    );
    const benchOf = (s: TrafficScenario) => (s.store === 'memory' ? memory : redisStore);
    const portOf = (s: TrafficScenario) => benchOf(s).servers.rampart!.port;
    for (const s of SCENARIOS) await checkScenario(portOf(s), s);

    // Exact counts first, under MONITOR: /none too, to show a request without limits costs
    // the Redis-store process no store call at all.
    const monitored: Record<string, MonitorCount> = {};
    for (const path of ['/none/hello', '/one/hello', '/three/hello']) {
      progress(`monitor  ${MONITOR_REQUESTS} × GET ${path} (redis store)`);
      monitored[path] = await monitorRequests(redis, MONITOR_REQUESTS, () =>
        sendExactly(redisStore.servers.rampart!.port, path, MONITOR_REQUESTS),
      );
    }

    const loadavgAtStart = loadavg();
    const top = [
      `Rampart rate-limit bench  ${new Date().toISOString()}  ${machine()}`,
      `${options.connections} connections, ${options.rounds} round(s) × ${options.duration}s per row, ${options.warmup}s warm-up each; row order rotates per round; medians over rounds`,
      `Rampart (two processes: memory store, Redis store) runs with: ${nodeFlags.length ? nodeFlags.join(' ') : 'node defaults'}; access log on; redis-server ${redisVersion} on 127.0.0.1:${redis.port}, no persistence`,
    ].join('\n');
    progress(`${top}\n`);

    if (options.warmup > 0) {
      for (const s of SCENARIOS) {
        progress(`warm-up  ${s.name}`);
        await storeRun(benchOf(s), redis, 0, s, options.warmup);
      }
    }
    const records: RunRecord[] = [];
    const runs: StoreRun[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      for (let i = 0; i < SCENARIOS.length; i++) {
        const s = SCENARIOS[(i + round - 1) % SCENARIOS.length]!;
        const { record, run } = await storeRun(benchOf(s), redis, round, s, options.duration);
        records.push(record);
        runs.push(run);
      }
    }

    const loadAtEnd = loadavg();
    const summaries = SCENARIOS.map((s) => summarize(records, s.name, 'rampart'));
    const report = formatReport(SCENARIOS, summaries, records, runs, monitored);
    const failures = summaries.some((s) => s.failures > 0);
    process.stdout.write(
      `\n${top}\n\n${report.text}\n${failures ? '(!) some responses were not 2xx or failed: see the JSON results\n' : ''}` +
        `load avg at the end of the HTTP rounds: ${loadAtEnd.map((l) => l.toFixed(2)).join(' ')}\n`,
    );

    const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
    progress('in process: one store call, memory and Redis');
    let storeCalls: Awaited<ReturnType<typeof storeCallCosts>> | { error: string };
    try {
      storeCalls = await storeCallCosts(redis.port, quick);
      process.stdout.write(`\n${formatStoreCalls(storeCalls)}\n`);
    } catch (err) {
      // The HTTP figures above stand, and go to the JSON file, without this part.
      storeCalls = { error: (err as Error).message };
      process.stdout.write(`\n(!) the in-process store call measure failed: ${storeCalls.error}\n`);
    }

    mkdirSync(dirname(options.jsonOut), { recursive: true });
    const results = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? null,
      loadavg: loadavg(),
      loadavgAtStart,
      loadavgAfterRounds: loadAtEnd,
      options,
      rampartNodeFlags: nodeFlags,
      redisVersion,
      scenarios: SCENARIOS,
      summaries,
      derived: report.derived,
      monitored,
      storeCalls,
      runs: records.map((r, i) => ({ ...r, store: runs[i] })),
    };
    writeFileSync(options.jsonOut, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`\nResults (JSON): ${options.jsonOut}\n`);
    if (options.profileDir !== null) process.stdout.write(`CPU profiles: ${resolve(options.profileDir)}\n`);
    return 0;
  } catch (err) {
    if (!stopped()) process.stderr.write(`bench failed: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await stopAll();
  }
}

process.exit(await main());
