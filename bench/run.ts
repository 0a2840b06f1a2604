import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { LoadDriver } from './load-driver.ts';
import { type BenchOptions, parseOptions, USAGE } from './options.ts';
import { type Child, cpuMicros, startChild } from './procs.ts';
import {
  formatTable,
  formatVerdicts,
  type RunRecord,
  type Summary,
  summarize,
  TARGET_LABELS,
  TARGETS,
  type TargetName,
  type Verdict,
  verdict,
} from './report.ts';
import { SCENARIOS, type Scenario } from './scenarios.ts';

/**
 * `npm run bench`: the upstream alone, the baseline proxy and Rampart passthrough, measured in
 * the same run by the same load generator, in interleaved rounds (docs/benchmarks.md).
 */

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const PAUSE_MS = 250;

function rampartConfig(upstreamPort: number, accessLog: string): string {
  return `# Written by bench/run.ts for one bench run.
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
upstreams:
  bench:
    url: http://127.0.0.1:${upstreamPort}
apis:
  bench:
    openapi: ${JSON.stringify(join(BENCH_DIR, 'openapi.yaml'))}
    upstream: bench
    # The floor is passthrough: request validation (on by default) has its own bench.
    validate: { mode: off }
`;
}

/** Every target must answer both scenarios identically before anything is measured. */
async function checkTarget(name: string, port: number): Promise<void> {
  for (const s of SCENARIOS) {
    const res = await fetch(`http://127.0.0.1:${port}${s.path}`, {
      method: s.method,
      headers: s.headers,
      ...(s.body === undefined ? {} : { body: s.body }),
    });
    const text = await res.text();
    if (res.status !== 200)
      throw new Error(`${name}: ${s.name} answered ${res.status}: ${text.slice(0, 300)}`);
    if (s.body !== undefined && text !== s.body) throw new Error(`${name}: ${s.name} did not echo the body`);
  }
}

function countLines(file: string): number {
  const data = readFileSync(file);
  let n = 0;
  for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) n++;
  return n;
}

export interface Bench {
  readonly options: BenchOptions;
  readonly load: LoadDriver;
  /** The servers this bench measures (bench/authn.ts measures Rampart alone). */
  readonly servers: Partial<Record<TargetName, Child>>;
  /** The access log file when the bench owns it (counted and emptied after each run). */
  readonly ownedAccessLog: string | null;
}

/** One load run against one target, with the server's CPU time per 2xx response. */
export async function measure(bench: Bench, scenario: Scenario, target: TargetName, seconds: number) {
  const server = bench.servers[target];
  if (server === undefined) throw new Error(`no ${target} server in this bench`);
  const cpuBefore = cpuMicros(server.proc.pid);
  const result = await bench.load.run({
    type: 'run',
    url: `http://127.0.0.1:${server.port}${scenario.path}`,
    method: scenario.method,
    headers: scenario.headers,
    body: scenario.body,
    duration: seconds,
    connections: bench.options.connections,
  });
  const cpuAfter = cpuMicros(server.proc.pid);
  await sleep(PAUSE_MS);
  let accessLogLines: number | undefined;
  if (target === 'rampart' && bench.ownedAccessLog !== null) {
    accessLogLines = countLines(bench.ownedAccessLog);
    // The log is opened for append: emptying it between runs keeps the temp dir small.
    truncateSync(bench.ownedAccessLog, 0);
  }
  const cpuPerRequest =
    cpuBefore !== null && cpuAfter !== null && result.ok > 0 ? (cpuAfter - cpuBefore) / result.ok : null;
  return { result, cpuPerRequest, accessLogLines };
}

export function progress(text: string): void {
  process.stderr.write(`${text}\n`);
}

async function runRounds(bench: Bench): Promise<RunRecord[]> {
  const { options } = bench;
  if (options.warmup > 0) {
    for (const scenario of SCENARIOS) {
      for (const target of TARGETS) {
        progress(`warm-up  ${scenario.name}  ${TARGET_LABELS[target]}`);
        await measure(bench, scenario, target, options.warmup);
      }
    }
  }
  const records: RunRecord[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    for (const scenario of SCENARIOS) {
      // Alternate which proxy goes first, so drift on a shared machine hits both alike.
      const order: TargetName[] =
        round % 2 === 1 ? ['upstream', 'baseline', 'rampart'] : ['upstream', 'rampart', 'baseline'];
      for (const target of order) records.push(await measureRecord(bench, round, scenario, target));
    }
  }
  return records;
}

/** One measured run of a round: the record, and a progress line on stderr. */
export async function measureRecord(
  bench: Bench,
  round: number,
  scenario: Scenario,
  target: TargetName,
): Promise<RunRecord> {
  const { options } = bench;
  const { result, cpuPerRequest, accessLogLines } = await measure(bench, scenario, target, options.duration);
  const record: RunRecord = {
    round,
    scenario: scenario.name,
    target,
    rps: result.rps,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    p999: result.latency.p999,
    max: result.latency.max,
    ok: result.ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds: result.seconds,
    cpuPerRequest,
    ...(accessLogLines === undefined ? {} : { accessLogLines }),
  };
  const bad = record.non2xx + record.errors + record.timeouts;
  progress(
    `round ${round}/${options.rounds}  ${scenario.name.padEnd(24)} ${TARGET_LABELS[target].padEnd(15)}` +
      `${Math.round(record.rps).toString().padStart(7)} req/s  p50 ${record.p50.toFixed(2)}  p99 ${record.p99.toFixed(2)} ms` +
      (bad > 0 ? `  (!) ${record.non2xx} non-2xx, ${record.errors} errors, ${record.timeouts} timeouts` : ''),
  );
  if (accessLogLines !== undefined && accessLogLines < record.ok + record.non2xx) {
    progress(`  (!) access log has ${accessLogLines} lines for ${record.ok + record.non2xx} responses`);
  }
  return record;
}

/** The node flags every measured proxy runs with (`--semi-space`). */
/**
 * Warm each scenario up once, then measure every scenario of `list` on Rampart once per round.
 * Each round starts one scenario later, so drift on a shared machine hits every scenario alike.
 */
export async function runInterleavedRounds(bench: Bench, list: readonly Scenario[]): Promise<RunRecord[]> {
  const { options } = bench;
  if (options.warmup > 0) {
    for (const scenario of list) {
      progress(`warm-up  ${scenario.name}`);
      await measure(bench, scenario, 'rampart', options.warmup);
    }
  }
  const records: RunRecord[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    for (let i = 0; i < list.length; i++) {
      records.push(await measureRecord(bench, round, list[(i + round - 1) % list.length]!, 'rampart'));
    }
  }
  return records;
}

export function semiSpaceFlags(options: BenchOptions): string[] {
  return options.semiSpace > 0 ? [`--max-semi-space-size=${options.semiSpace}`] : [];
}

/** `--cpu-prof` flags writing `<name>.cpuprofile` into `--profile <dir>`, or none. */
export function cpuProfileFlags(options: BenchOptions, name: string): string[] {
  return options.profileDir === null
    ? []
    : ['--cpu-prof', `--cpu-prof-dir=${resolve(options.profileDir)}`, `--cpu-prof-name=${name}.cpuprofile`];
}

/** `node v24.x  2 CPUs (model)  load avg a b c`: the machine line of a report header. */
export function machine(): string {
  const cpu = cpus();
  const load = loadavg().map((l) => l.toFixed(2));
  return `node ${process.version}  ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? 'unknown'})  load avg ${load.join(' ')}`;
}

function header(options: BenchOptions, proxyFlags: readonly string[], accessLog: string): string {
  return [
    `Rampart bench  ${new Date().toISOString()}  ${machine()}`,
    `${options.connections} connections, ${options.rounds} round(s) × ${options.duration}s per target and scenario, ${options.warmup}s warm-up each; medians over rounds`,
    `Proxies (baseline and rampart alike) run with: ${proxyFlags.length ? proxyFlags.join(' ') : 'node defaults'}`,
    `Rampart passthrough: route + upstream + access log to ${accessLog}`,
  ].join('\n');
}

export interface Lifecycle {
  /** Push each child as it starts: the load generator, the upstream, then the servers in front of it. */
  readonly children: Child[];
  /** Stop every child (servers first) and remove `work`; idempotent. */
  stopAll(): Promise<void>;
  /** Whether stopping has begun (a signal arrived, or the bench finished). */
  stopped(): boolean;
}

/** The children of one bench run, stopped in order on completion, error, Ctrl-C or SIGTERM. */
export function lifecycle(work: string): Lifecycle {
  const children: Child[] = [];
  let stopping: Promise<void> | null = null;
  const stopAll = () => {
    // Proxies first, then the upstream they hold connections to, then the generator.
    stopping ??= Promise.all(children.slice(2).map((c) => c.stop()))
      .then(() => Promise.all(children.slice(0, 2).map((c) => c.stop())))
      .then(() => rmSync(work, { recursive: true, force: true }));
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    process.on(signal, () => {
      progress(`\n${signal}: stopping the bench processes`);
      void stopAll().finally(() => process.exit(code));
    });
  };
  onSignal('SIGINT', 130);
  onSignal('SIGTERM', 143);
  return { children, stopAll, stopped: () => stopping !== null };
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    return 64;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  const work = mkdtempSync(join(tmpdir(), 'rampart-bench-'));
  const ownedAccessLog = options.accessLog === null ? join(work, 'access.log') : null;
  const accessLog = options.accessLog === null ? ownedAccessLog! : resolve(options.accessLog);
  const proxyFlags = semiSpaceFlags(options);
  const profileFlags = (name: string) => cpuProfileFlags(options, name);

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
    const baseline = await startChild({
      name: 'baseline proxy',
      script: 'bench/baseline-proxy.ts',
      args: [`http://127.0.0.1:${upstream.port}`],
      nodeFlags: [...proxyFlags, ...profileFlags('baseline')],
      ready: 'ipc',
      guard: true,
    });
    children.push(baseline);
    const configFile = join(work, 'rampart.yaml');
    writeFileSync(configFile, rampartConfig(upstream.port, accessLog));
    const rampart = await startChild({
      name: 'rampart',
      script: 'src/cli/main.ts',
      args: ['start', configFile],
      nodeFlags: [...proxyFlags, ...profileFlags('rampart')],
      ready: 'rampart-log',
      guard: true,
    });
    children.push(rampart);
    const servers = { upstream, baseline, rampart };
    for (const target of TARGETS) await checkTarget(TARGET_LABELS[target], servers[target].port);

    const top = header(options, proxyFlags, accessLog);
    progress(`${top}\n`);
    const bench: Bench = { options, load: new LoadDriver(loadChild), servers, ownedAccessLog };
    const records = await runRounds(bench);

    const summaries: Summary[] = [];
    const verdicts: Verdict[] = [];
    for (const s of SCENARIOS) {
      for (const t of TARGETS) summaries.push(summarize(records, s.name, t));
      verdicts.push(verdict(summarize(records, s.name, 'baseline'), summarize(records, s.name, 'rampart')));
    }
    const failures = summaries.some((s) => s.failures > 0);
    process.stdout.write(
      `\n${top}\n\n${formatTable(summaries, verdicts)}\n${failures ? '(!) some responses were not 2xx or failed: see the JSON results\n' : ''}\n${formatVerdicts(verdicts)}\n`,
    );

    mkdirSync(dirname(options.jsonOut), { recursive: true });
    const results = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? null,
      loadavg: loadavg(),
      options,
      proxyNodeFlags: proxyFlags,
      accessLog,
      scenarios: SCENARIOS.map((s) => ({
        name: s.name,
        method: s.method,
        path: s.path,
        bodyBytes: s.body?.length ?? 0,
      })),
      summaries,
      verdicts,
      runs: records,
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

// bench/authn.ts imports the pieces above: run only when this file is the entry point.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(await main());
}
