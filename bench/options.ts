import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** Seconds of measured load per run. */
  readonly duration: number;
  /** Seconds of unmeasured load per target and scenario before the first round. */
  readonly warmup: number;
  readonly connections: number;
  /** Each round measures every target once; medians are taken over rounds. */
  readonly rounds: number;
  /** `--max-semi-space-size` (MB) for both proxies alike; 0 keeps node's default. */
  readonly semiSpace: number;
  /** Where the access log goes; default a file in this run's temp dir. */
  readonly accessLog: string | null;
  readonly jsonOut: string;
  /** Write a V8 CPU profile of both proxies into this directory. */
  readonly profileDir: string | null;
  readonly help: boolean;
}

export const USAGE = `Usage: npm run bench -- [options]

Measures, in one run and with one load generator (autocannon, in its own process):
  upstream   the fast upstream alone
  baseline   a minimal node:http + undici Pool.stream proxy (bench/baseline-proxy.ts)
  rampart    Rampart passthrough: route + upstream + access log to a file
each for a GET and a 1 KiB JSON POST, in interleaved rounds; prints medians and ratios.

Options (each also as an env var):
  --quick                 smoke run: 1 round of 1s runs, 1s warm-up      BENCH_QUICK=1
  --duration <s>          measured seconds per run (default 10)          BENCH_DURATION
  --warmup <s>            warm-up seconds per target and scenario (3)    BENCH_WARMUP
  --connections <n>       concurrent connections (default 50)            BENCH_CONNECTIONS
  --rounds <n>            interleaved rounds (default 3)                 BENCH_ROUNDS
  --semi-space <MB>       --max-semi-space-size for both proxies (16; 0 = node default)
                                                                         BENCH_SEMI_SPACE
  --access-log <path>     Rampart's access log destination (default: a file in a temp dir)
                                                                         BENCH_ACCESS_LOG
  --json <path>           results file (default: <tmpdir>/rampart-bench/latest.json)
                                                                         BENCH_JSON
  --profile <dir>         write --cpu-prof profiles of both proxies into <dir>
                                                                         BENCH_PROFILE
  -h, --help              show this help`;

/**
 * The options help of a bench that measures several operations of one Rampart (bench:authn,
 * bench:authz): the same options as `npm run bench`, said of one process.
 */
export function singleProcessOptionsHelp(name: string): string {
  return `Options (each also as an env var):
  --quick                 smoke run: 1 round of 1s runs, 1s warm-up      BENCH_QUICK=1
  --duration <s>          measured seconds per run (default 10)          BENCH_DURATION
  --warmup <s>            warm-up seconds per scenario (3)               BENCH_WARMUP
  --connections <n>       concurrent connections (default 50)            BENCH_CONNECTIONS
  --rounds <n>            interleaved rounds (default 3)                 BENCH_ROUNDS
  --semi-space <MB>       --max-semi-space-size for Rampart (16; 0 = node default)
                                                                         BENCH_SEMI_SPACE
  --access-log <path>     Rampart's access log destination (default: a file in a temp dir)
                                                                         BENCH_ACCESS_LOG
  --json <path>           results file (default: <tmpdir>/rampart-bench/${name}-<date>.json)
                                                                         BENCH_JSON
  --profile <dir>         write a --cpu-prof profile of Rampart into <dir>
                                                                         BENCH_PROFILE
  -h, --help              show this help`;
}

const SPEC = {
  quick: { type: 'boolean' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  connections: { type: 'string' },
  rounds: { type: 'string' },
  'semi-space': { type: 'string' },
  'access-log': { type: 'string' },
  json: { type: 'string' },
  profile: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * Flags win over env vars, which win over the defaults (or the `--quick` defaults).
 * `jsonDefault` is the results file when neither `--json` nor `BENCH_JSON` names one.
 */
export function parseOptions(
  argv: string[],
  env: NodeJS.ProcessEnv,
  jsonDefault = join(tmpdir(), 'rampart-bench', 'latest.json'),
): BenchOptions {
  const { values } = parseArgs({ args: argv, options: SPEC, strict: true, allowPositionals: false });
  const quick = values.quick === true || env.BENCH_QUICK === '1';
  const pick = (flag: string | undefined, name: string): string | undefined => flag ?? env[name];
  const options: BenchOptions = {
    duration: positive('duration', pick(values.duration, 'BENCH_DURATION'), quick ? 1 : 10),
    warmup: nonNegative('warmup', pick(values.warmup, 'BENCH_WARMUP'), quick ? 1 : 3),
    connections: integer('connections', pick(values.connections, 'BENCH_CONNECTIONS'), 50),
    rounds: integer('rounds', pick(values.rounds, 'BENCH_ROUNDS'), quick ? 1 : 3),
    semiSpace: nonNegative('semi-space', pick(values['semi-space'], 'BENCH_SEMI_SPACE'), 16),
    accessLog: pick(values['access-log'], 'BENCH_ACCESS_LOG') ?? null,
    jsonOut: pick(values.json, 'BENCH_JSON') ?? jsonDefault,
    profileDir: pick(values.profile, 'BENCH_PROFILE') ?? null,
    help: values.help === true,
  };
  // Every load loop is bounded: refuse durations that would keep a shared machine busy for hours.
  if (options.duration > 300 || options.warmup > 300)
    throw new Error('duration and warmup are capped at 300s');
  if (options.rounds > 50) throw new Error('rounds are capped at 50');
  return options;
}

function nonNegative(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number >= 0, got ${raw}`);
  return n;
}

function positive(name: string, raw: string | undefined, fallback: number): number {
  const n = nonNegative(name, raw, fallback);
  if (n === 0) throw new Error(`--${name} must be > 0`);
  return n;
}

function integer(name: string, raw: string | undefined, fallback: number): number {
  const n = positive(name, raw, fallback);
  if (!Number.isInteger(n)) throw new Error(`--${name} must be an integer, got ${raw}`);
  return n;
}
