import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LoadDriver } from './load-driver.ts';
import { type BenchOptions, parseOptions, singleProcessOptionsHelp } from './options.ts';
import { startChild } from './procs.ts';
import { int, median, ms, type RunRecord, ratio, row, type Summary, summarize } from './report.ts';
import {
  type Bench,
  cpuProfileFlags,
  lifecycle,
  machine,
  progress,
  runInterleavedRounds,
  semiSpaceFlags,
} from './run.ts';
import { SCENARIOS, type Scenario } from './scenarios.ts';

/**
 * `npm run bench:validate`: what request validation costs per request, against passthrough, in
 * one run and one Rampart process. The same 1 KiB JSON POST (bench/scenarios.ts) goes to the
 * same upstream through three APIs over one document (bench/validate-openapi.yaml):
 * `/raw` with `validate.mode: off` (the reference), `/checked` (the default: enforce), and
 * `/strict` (enforce + strict, every object closed). Interleaved rounds (docs/benchmarks.md).
 * Target (issue 7): validation costs at most 10% of passthrough throughput.
 */

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));

const USAGE = `Usage: npm run bench:validate -- [options]

Measures, in one run and one Rampart process, the same 1 KiB JSON POST to one upstream:
  POST /raw/echo       validate.mode: off (the passthrough reference)
  POST /checked/echo   validated against its schema (the default, enforce)
  POST /strict/echo    validated with validate.strict: true
in interleaved rounds; prints medians, ratios to /raw and the CPU validation adds per request.

${singleProcessOptionsHelp('validate')}`;

function rampartConfig(upstreamPort: number, accessLog: string): string {
  const api = (name: string, validate: string) => `  ${name}:
    openapi: ${JSON.stringify(join(BENCH_DIR, 'validate-openapi.yaml'))}
    basePath: /${name}
    stripBasePath: true
    upstream: bench
    validate: ${validate}`;
  return `# Written by bench/validate.ts for one bench run.
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
${api('raw', '{ mode: off }')}
${api('checked', '{ mode: enforce }')}
${api('strict', '{ mode: enforce, strict: true }')}
`;
}

function scenarios(): Scenario[] {
  const post = SCENARIOS.find((s) => s.method === 'POST')!;
  return [
    { ...post, name: 'POST /raw (off)', path: '/raw/echo' },
    { ...post, name: 'POST /checked', path: '/checked/echo' },
    { ...post, name: 'POST /strict', path: '/strict/echo' },
  ];
}

/** Every scenario answers 200, and an invalid body is refused where validation is on. */
async function checkScenarios(port: number, list: readonly Scenario[]): Promise<void> {
  const call = async (s: Scenario, body: string | undefined) => {
    const res = await fetch(`http://127.0.0.1:${port}${s.path}`, {
      method: s.method,
      headers: s.headers,
      body,
    });
    return { code: res.status, text: (await res.text()).slice(0, 300) };
  };
  for (const s of list) {
    const r = await call(s, s.body);
    if (r.code !== 200) throw new Error(`${s.name} answered ${r.code}: ${r.text}`);
  }
  const invalid = (s: Scenario) => s.body!.replace('"qty":1', '"qty":1000');
  const [raw, checked, strict] = list as [Scenario, Scenario, Scenario];
  if ((await call(raw, invalid(raw))).code !== 200) throw new Error('/raw must not validate');
  for (const s of [checked, strict]) {
    const r = await call(s, invalid(s));
    if (r.code !== 400)
      throw new Error(`${s.name} answered ${r.code} to an invalid body, want 400: ${r.text}`);
  }
  const extra = strict.body!.replace('{', '{"isAdmin":true,');
  if ((await call(checked, extra)).code !== 200)
    throw new Error('/checked must accept an undeclared property');
  if ((await call(strict, extra)).code !== 400) throw new Error('/strict must refuse an undeclared property');
}

interface Comparison {
  readonly scenario: string;
  readonly throughputRatio: number;
  readonly pairedThroughputRatio: number;
  readonly p99Ratio: number;
  readonly pairedAddedCpuPerRequest: number | null;
}

function compare(records: readonly RunRecord[], base: Summary, s: Summary): Comparison {
  const byRound = (name: string) =>
    new Map(records.filter((r) => r.scenario === name).map((r) => [r.round, r]));
  const ref = byRound(base.scenario);
  const pairs = [...byRound(s.scenario)].flatMap(([round, r]) => {
    const a = ref.get(round);
    return a === undefined ? [] : [[a, r] as const];
  });
  const cpu = pairs.flatMap(([a, r]) =>
    a.cpuPerRequest === null || r.cpuPerRequest === null ? [] : [r.cpuPerRequest - a.cpuPerRequest],
  );
  return {
    scenario: s.scenario,
    throughputRatio: s.rps / base.rps,
    pairedThroughputRatio: median(pairs.map(([a, r]) => r.rps / a.rps)),
    p99Ratio: s.p99 / base.p99,
    pairedAddedCpuPerRequest: cpu.length === pairs.length && pairs.length > 0 ? median(cpu) : null,
  };
}

function formatTable(summaries: readonly Summary[], comparisons: readonly Comparison[]): string {
  const widths = [18, 8, 15, 7, 7, 11, 12, 15, 11, 12];
  const lines = [
    row(
      [
        '',
        'req/s',
        'min–max',
        'p50 ms',
        'p99 ms',
        'CPU µs/req',
        'req/s ÷ raw',
        'paired ÷ raw',
        'p99 ÷ raw',
        '+CPU µs/req',
      ],
      widths,
    ),
  ];
  for (const s of summaries) {
    const c = comparisons.find((x) => x.scenario === s.scenario)!;
    const added = c.pairedAddedCpuPerRequest;
    lines.push(
      row(
        [
          `${s.scenario}${s.failures > 0 ? ' (!)' : ''}`,
          int.format(s.rps),
          `${int.format(s.rpsMin)}–${int.format(s.rpsMax)}`,
          ms(s.p50),
          ms(s.p99),
          s.cpuPerRequest === null ? '–' : int.format(s.cpuPerRequest),
          ratio(c.throughputRatio),
          ratio(c.pairedThroughputRatio),
          ratio(c.p99Ratio),
          added === null ? '–' : `${added >= 0 ? '+' : ''}${int.format(added)}`,
        ],
        widths,
      ),
    );
  }
  const worst = Math.min(...comparisons.slice(1).map((c) => c.pairedThroughputRatio));
  lines.push(
    `(÷ raw and +CPU: against ${summaries[0]!.scenario}; paired = per round, then the median)`,
    `target: validation costs ≤ 10% of throughput → ${worst >= 0.9 ? 'met' : 'NOT met'} (worst paired ratio ${ratio(worst)})`,
  );
  return lines.join('\n');
}

async function main(): Promise<number> {
  let options: BenchOptions;
  const date = new Date().toISOString().slice(0, 10);
  try {
    options = parseOptions(
      process.argv.slice(2),
      process.env,
      join(tmpdir(), 'rampart-bench', `validate-${date}.json`),
    );
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    return 64;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const work = mkdtempSync(join(tmpdir(), 'rampart-bench-validate-'));
  const ownedAccessLog = options.accessLog === null ? join(work, 'access.log') : null;
  const accessLog = options.accessLog === null ? ownedAccessLog! : resolve(options.accessLog);
  const nodeFlags = semiSpaceFlags(options);
  const { children, stopAll, stopped } = lifecycle(work);
  try {
    const list = scenarios();
    const loadChild = await startChild({ name: 'load generator', script: 'bench/load.ts', ready: 'ipc' });
    children.push(loadChild);
    const upstream = await startChild({
      name: 'upstream',
      script: 'bench/upstream.ts',
      ready: 'ipc',
      guard: true,
    });
    children.push(upstream);
    const configFile = join(work, 'rampart.yaml');
    writeFileSync(configFile, rampartConfig(upstream.port, accessLog));
    const rampart = await startChild({
      name: 'rampart',
      script: 'src/cli/main.ts',
      args: ['start', configFile],
      nodeFlags: [...nodeFlags, ...cpuProfileFlags(options, 'rampart-validate')],
      ready: 'rampart-log',
      guard: true,
    });
    children.push(rampart);
    await checkScenarios(rampart.port, list);

    const top = [
      `Rampart request-validation bench  ${new Date().toISOString()}  ${machine()}`,
      `${options.connections} connections, ${options.rounds} round(s) × ${options.duration}s per scenario, ${options.warmup}s warm-up each; scenario order rotates per round; medians over rounds`,
      `Rampart runs with: ${nodeFlags.length ? nodeFlags.join(' ') : 'node defaults'}; access log to ${accessLog}; body: ${Buffer.byteLength(list[0]!.body!)} B JSON`,
    ].join('\n');
    progress(`${top}\n`);
    const bench: Bench = { options, load: new LoadDriver(loadChild), servers: { rampart }, ownedAccessLog };
    const records = await runInterleavedRounds(bench, list);
    const summaries = list.map((s) => summarize(records, s.name, 'rampart'));
    const comparisons = summaries.map((s) => compare(records, summaries[0]!, s));
    const failures = summaries.some((s) => s.failures > 0);
    process.stdout.write(
      `\n${top}\n\n${formatTable(summaries, comparisons)}\n` +
        (failures ? '(!) some responses were not 2xx or failed: see the JSON results\n' : ''),
    );
    mkdirSync(dirname(options.jsonOut), { recursive: true });
    const results = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? null,
      loadavg: loadavg(),
      options,
      rampartNodeFlags: nodeFlags,
      accessLog,
      scenarios: list.map((s) => ({
        name: s.name,
        method: s.method,
        path: s.path,
        bodyBytes: Buffer.byteLength(s.body ?? ''),
      })),
      summaries,
      comparisons,
      runs: records,
    };
    writeFileSync(options.jsonOut, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`\nResults (JSON): ${options.jsonOut}\n`);
    if (options.profileDir !== null) process.stdout.write(`CPU profile: ${resolve(options.profileDir)}\n`);
    return 0;
  } catch (err) {
    if (!stopped()) process.stderr.write(`bench failed: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await stopAll();
  }
}

process.exit(await main());
