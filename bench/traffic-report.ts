import { int, median, ms, type RunRecord, ratio, row, type Summary } from './report.ts';
import type { Scenario } from './scenarios.ts';
import type { MonitorCount } from './traffic-redis.ts';

/** The figures and the printed report of `npm run bench:traffic` (bench/traffic.ts). */

/** Issue 5: a Redis-store limit against the same limit on the memory store. */
export const TRAFFIC_GOALS = { minRedisToMemory: 0.75, maxRoundTrips: 1 } as const;

export type TrafficScenario = Scenario & {
  readonly store: 'memory' | 'redis';
  /** Limits that apply to the request (0: the reference). */
  readonly limits: number;
};

/** What Redis counted during one measured run. */
export interface StoreRun {
  readonly round: number;
  readonly scenario: string;
  /** Requests Rampart answered in the run (its access-log lines). */
  readonly requests: number;
  /** Responses the load generator counted (a few fewer: those cut off at its stop). */
  readonly driverResponses: number;
  /** Access-log lines that are not a 200, by `status reason`. */
  readonly refusals: Record<string, number>;
  /** Calls per command in Redis's INFO commandstats over the run (the bench's INFO taken out). */
  readonly calls: Record<string, number>;
  readonly redisCpuMicros: number | null;
  /** Share of the machine's CPU time that was idle during the run (all processes, all CPUs). */
  readonly idleShare: number | null;
}

export interface StoreFigures {
  readonly requests: number;
  /** EVALSHA + EVAL per request, over every measured run of the row. */
  readonly scriptCalls: number;
  /** Every command Redis counted, per request (script-internal commands included). */
  readonly commands: Record<string, number>;
  /**
   * Commands that came over the network, per request: everything Redis counted minus what the
   * scripts ran inside it (their share per script call measured under MONITOR).
   */
  readonly roundTrips: number;
  /** Median over runs of Redis's CPU time per request (µs). */
  readonly redisCpuPerRequest: number | null;
  /** Median over runs of the machine's idle share. */
  readonly idleShare: number | null;
}

const SCRIPT_CALLS = ['evalsha', 'eval'];

function storeFigures(runs: readonly StoreRun[], monitor: MonitorCount | undefined): StoreFigures {
  const requests = runs.reduce((n, r) => n + r.requests, 0);
  const totals: Record<string, number> = {};
  for (const r of runs) for (const [c, n] of Object.entries(r.calls)) totals[c] = (totals[c] ?? 0) + n;
  const scriptCalls = SCRIPT_CALLS.reduce((n, c) => n + (totals[c] ?? 0), 0);
  const monitoredCalls = SCRIPT_CALLS.reduce((n, c) => n + (monitor?.client[c] ?? 0), 0);
  let network = 0;
  for (const [c, n] of Object.entries(totals)) {
    const inScripts = monitoredCalls === 0 ? 0 : ((monitor?.script[c] ?? 0) / monitoredCalls) * scriptCalls;
    network += Math.max(0, n - inScripts);
  }
  const cpu = runs.map((r) =>
    r.redisCpuMicros === null || r.requests === 0 ? null : r.redisCpuMicros / r.requests,
  );
  return {
    requests,
    scriptCalls: requests === 0 ? 0 : scriptCalls / requests,
    commands: Object.fromEntries(
      Object.entries(totals).map(([c, n]) => [c, requests === 0 ? 0 : n / requests]),
    ),
    roundTrips: requests === 0 ? 0 : network / requests,
    redisCpuPerRequest: cpu.every((c) => c !== null) && cpu.length > 0 ? median(cpu as number[]) : null,
    idleShare:
      runs.every((r) => r.idleShare !== null) && runs.length > 0
        ? median(runs.map((r) => r.idleShare!))
        : null,
  };
}

/** Median of the per-round ratios a/b (both rows measured in the same round). */
function pairedRatio(records: readonly RunRecord[], a: string, b: string): number {
  const of = (name: string) =>
    new Map(records.filter((r) => r.scenario === name).map((r) => [r.round, r.rps]));
  const top = of(a);
  const bottom = of(b);
  return median([...top].flatMap(([round, rps]) => (bottom.has(round) ? [rps / bottom.get(round)!] : [])));
}

const cpuText = (v: number | null) => (v === null ? '–' : int.format(v));
const signed = (v: number | null) => (v === null ? '–' : `${v >= 0 ? '+' : ''}${int.format(v)}`);
const perReq = (v: number) => v.toFixed(3);

export function formatReport(
  scenarios: readonly TrafficScenario[],
  summaries: readonly Summary[],
  records: readonly RunRecord[],
  runs: readonly StoreRun[],
  monitored: Readonly<Record<string, MonitorCount>>,
) {
  const none = summaries[0]!;
  const store = new Map(
    scenarios.map((s) => [
      s.name,
      storeFigures(
        runs.filter((r) => r.scenario === s.name),
        monitored[s.path],
      ),
    ]),
  );
  const widths = [18, 7, 15, 6, 6, 10, 12, 10, 11, 12, 11, 6];
  const lines = [
    row(
      [
        '',
        'req/s',
        'min–max',
        'p50 ms',
        'p99 ms',
        'CPU µs/req',
        'req/s ÷ none',
        'p99 ÷ none',
        '+CPU µs/req',
        'Redis µs/req',
        'round trips',
        'idle',
      ],
      widths,
    ),
  ];
  const vsNone = summaries.map((s) => ({
    scenario: s.scenario,
    throughputRatio: s.rps / none.rps,
    pairedThroughputRatio: pairedRatio(records, s.scenario, none.scenario),
    p99Ratio: s.p99 / none.p99,
    addedCpuPerRequest:
      s.cpuPerRequest === null || none.cpuPerRequest === null ? null : s.cpuPerRequest - none.cpuPerRequest,
  }));
  summaries.forEach((s, i) => {
    const c = vsNone[i]!;
    const f = store.get(s.scenario)!;
    const redisRow = scenarios[i]!.store === 'redis';
    lines.push(
      row(
        [
          `${s.scenario}${s.failures > 0 ? ' (!)' : ''}`,
          int.format(s.rps),
          `${int.format(s.rpsMin)}–${int.format(s.rpsMax)}`,
          ms(s.p50),
          ms(s.p99),
          cpuText(s.cpuPerRequest),
          ratio(c.throughputRatio),
          ratio(c.p99Ratio),
          signed(c.addedCpuPerRequest),
          redisRow ? cpuText(f.redisCpuPerRequest) : '–',
          perReq(f.roundTrips),
          f.idleShare === null ? '–' : `${Math.round(f.idleShare * 100)}%`,
        ],
        widths,
      ),
    );
  });
  lines.push(
    '(÷ none and +CPU: against none (memory), the same GET with no limit; CPU µs/req: the Rampart process;',
  );
  lines.push(
    ' Redis µs/req: redis-server; round trips: commands Rampart sent to Redis per request, counted by Redis;',
  );
  lines.push(" idle: share of the machine's CPU time left idle during the run, median over rounds)");
  for (const sc of scenarios) {
    const refused: Record<string, number> = {};
    for (const r of runs.filter((x) => x.scenario === sc.name)) {
      for (const [why, n] of Object.entries(r.refusals)) refused[why] = (refused[why] ?? 0) + n;
    }
    const list = Object.entries(refused).map(([why, n]) => `${int.format(n)} × ${why}`);
    if (list.length > 0) lines.push(`(!) ${sc.name}: not 200, by access-log reason: ${list.join(', ')}`);
  }

  const redisVsMemory = [1, 3].flatMap((limits) => {
    const m = scenarios.find((s) => s.store === 'memory' && s.limits === limits);
    const r = scenarios.find((s) => s.store === 'redis' && s.limits === limits);
    if (m === undefined || r === undefined) return [];
    const mem = summaries.find((s) => s.scenario === m.name)!;
    const rs = summaries.find((s) => s.scenario === r.name)!;
    const redisCpu = store.get(r.name)!.redisCpuPerRequest;
    return [
      {
        limits,
        throughputRatio: rs.rps / mem.rps,
        pairedThroughputRatio: pairedRatio(records, r.name, m.name),
        p99Ratio: rs.p99 / mem.p99,
        addedRampartCpu:
          rs.cpuPerRequest === null || mem.cpuPerRequest === null
            ? null
            : rs.cpuPerRequest - mem.cpuPerRequest,
        redisCpu,
      },
    ];
  });
  lines.push('', 'Redis store ÷ memory store (same limits, same run):');
  for (const v of redisVsMemory) {
    lines.push(
      `  ${`${v.limits} limit${v.limits === 1 ? '' : 's'}`.padEnd(9)} req/s ${ratio(v.throughputRatio)} (paired per round ${ratio(v.pairedThroughputRatio)})` +
        `   p99 ${ratio(v.p99Ratio)}   Rampart CPU ${signed(v.addedRampartCpu)} µs/req, plus Redis ${cpuText(v.redisCpu)} µs/req`,
    );
  }

  lines.push(
    '',
    'Redis INFO commandstats over the measured runs, per request (requests = Rampart access-log lines):',
  );
  for (const s of scenarios.filter((x) => x.store === 'redis')) {
    const f = store.get(s.name)!;
    const cmds = Object.entries(f.commands)
      .sort((a, b) => b[1] - a[1])
      .map(([c, n]) => `${c} ${perReq(n)}`)
      .join(', ');
    lines.push(`  ${s.name.padEnd(17)} ${int.format(f.requests)} requests: ${cmds || 'no commands'}`);
  }
  const memoryCalls = runs
    .filter((r) => scenarios.find((s) => s.name === r.scenario)?.store === 'memory')
    .reduce((n, r) => n + Object.values(r.calls).reduce((a, b) => a + b, 0), 0);
  lines.push(`  (during the memory-store runs Redis counted ${int.format(memoryCalls)} commands)`);

  lines.push(
    '',
    'MONITOR, exact request counts on the Redis-store process (client: sent over the network; script: run inside Redis):',
  );
  for (const [path, m] of Object.entries(monitored)) {
    const fmt = (o: Record<string, number>) =>
      Object.entries(o)
        .map(([c, n]) => `${c} ${perReq(n / m.requests)}`)
        .join(', ') || 'none';
    const keys = Object.entries(m.keysPerCall)
      .map(([k, n]) => `${int.format(n)} with ${k} key${k === '1' ? '' : 's'}`)
      .join(', ');
    lines.push(
      `  GET ${path.padEnd(13)} ${m.requests} requests; client/req: ${fmt(m.client)}; script/req: ${fmt(m.script)}${keys ? `; calls: ${keys}` : ''}`,
    );
    const refused = Object.entries(m.statuses).filter(([status]) => status !== '200');
    if (refused.length > 0) {
      lines.push(`    (!) statuses other than 200: ${refused.map(([st, n]) => `${n} × ${st}`).join(', ')}`);
    }
  }

  const one = redisVsMemory.find((v) => v.limits === 1);
  const oneRedis = scenarios.find((s) => s.store === 'redis' && s.limits === 1);
  const trips = oneRedis === undefined ? Number.NaN : store.get(oneRedis.name)!.roundTrips;
  const targets = {
    redisToMemory: one?.throughputRatio ?? Number.NaN,
    redisToMemoryPass: (one?.throughputRatio ?? 0) >= TRAFFIC_GOALS.minRedisToMemory,
    roundTrips: trips,
    roundTripsPass: trips <= TRAFFIC_GOALS.maxRoundTrips,
  };
  lines.push(
    '',
    'Targets (issue 5, one limit):',
    `  Redis-store throughput ≥ ${TRAFFIC_GOALS.minRedisToMemory}× the memory store's   ${ratio(targets.redisToMemory)} ${targets.redisToMemoryPass ? 'PASS' : 'MISS'}`,
    `  store round trips per request ≤ ${TRAFFIC_GOALS.maxRoundTrips}              ${perReq(targets.roundTrips)} ${targets.roundTripsPass ? 'PASS' : 'MISS'}`,
  );
  return {
    text: lines.join('\n'),
    derived: { vsNone, redisVsMemory, store: Object.fromEntries(store), targets },
  };
}
