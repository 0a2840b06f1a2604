/** Medians over rounds, Rampart-to-baseline ratios, the targets, and the printed table. */

export type TargetName = 'upstream' | 'baseline' | 'rampart';
export const TARGETS: readonly TargetName[] = ['upstream', 'baseline', 'rampart'];

export const TARGET_LABELS: Record<TargetName, string> = {
  upstream: 'upstream alone',
  baseline: 'baseline proxy',
  rampart: 'rampart',
};

/** Rampart passthrough against the baseline measured in the same run (issue item 13). */
export const GOALS = { minThroughputRatio: 0.85, maxP99Ratio: 1.25 } as const;

export interface RunRecord {
  readonly round: number;
  readonly scenario: string;
  readonly target: TargetName;
  readonly rps: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly seconds: number;
  /** CPU time of the measured server per 2xx response (µs); null without procfs. */
  readonly cpuPerRequest: number | null;
  /** Lines Rampart wrote to its access log during the run (rampart runs with a bench-owned log). */
  readonly accessLogLines?: number;
}

export interface Summary {
  readonly scenario: string;
  readonly target: TargetName;
  readonly rounds: number;
  readonly rps: number;
  readonly rpsMin: number;
  readonly rpsMax: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpuPerRequest: number | null;
  readonly failures: number;
}

export interface Verdict {
  readonly scenario: string;
  readonly throughputRatio: number;
  readonly p99Ratio: number;
  readonly cpuRatio: number | null;
  readonly throughput: 'PASS' | 'MISS';
  readonly p99: 'PASS' | 'MISS';
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function summarize(records: readonly RunRecord[], scenario: string, target: TargetName): Summary {
  const runs = records.filter((r) => r.scenario === scenario && r.target === target);
  const rps = runs.map((r) => r.rps);
  const cpu = runs.map((r) => r.cpuPerRequest).filter((c): c is number => c !== null);
  return {
    scenario,
    target,
    rounds: runs.length,
    rps: median(rps),
    rpsMin: Math.min(...rps),
    rpsMax: Math.max(...rps),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    cpuPerRequest: cpu.length === runs.length && cpu.length > 0 ? median(cpu) : null,
    failures: runs.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
  };
}

/** Ratios of medians: the same figures the table shows, divided. */
export function verdict(baseline: Summary, rampart: Summary): Verdict {
  const throughputRatio = rampart.rps / baseline.rps;
  const p99Ratio = rampart.p99 / baseline.p99;
  return {
    scenario: rampart.scenario,
    throughputRatio,
    p99Ratio,
    cpuRatio:
      rampart.cpuPerRequest !== null && baseline.cpuPerRequest !== null
        ? rampart.cpuPerRequest / baseline.cpuPerRequest
        : null,
    throughput: throughputRatio >= GOALS.minThroughputRatio ? 'PASS' : 'MISS',
    p99: p99Ratio <= GOALS.maxP99Ratio ? 'PASS' : 'MISS',
  };
}

export const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
export const ms = (v: number) => v.toFixed(2);
export const ratio = (v: number) => `${v.toFixed(2)}×`;

/** One table line: the first cell left-aligned, the others right-aligned to `widths`. */
export function row(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

export function formatTable(summaries: readonly Summary[], verdicts: readonly Verdict[]): string {
  const widths = [24, 9, 15, 8, 8, 11];
  const lines = [row(['', 'req/s', 'min–max', 'p50 ms', 'p99 ms', 'CPU µs/req'], widths)];
  const scenarios = [...new Set(summaries.map((s) => s.scenario))];
  for (const scenario of scenarios) {
    lines.push(scenario);
    for (const s of summaries.filter((x) => x.scenario === scenario)) {
      lines.push(
        row(
          [
            `  ${TARGET_LABELS[s.target]}${s.failures > 0 ? ' (!)' : ''}`,
            int.format(s.rps),
            `${int.format(s.rpsMin)}–${int.format(s.rpsMax)}`,
            ms(s.p50),
            ms(s.p99),
            s.cpuPerRequest === null ? '–' : int.format(s.cpuPerRequest),
          ],
          widths,
        ),
      );
    }
    const v = verdicts.find((x) => x.scenario === scenario);
    if (v) {
      lines.push(
        row(
          [
            '  rampart / baseline',
            ratio(v.throughputRatio),
            '',
            '',
            ratio(v.p99Ratio),
            v.cpuRatio === null ? '–' : ratio(v.cpuRatio),
          ],
          widths,
        ),
      );
    }
  }
  return lines.join('\n');
}

export function formatVerdicts(verdicts: readonly Verdict[]): string {
  const lines = [
    `Targets (Rampart passthrough vs the baseline): throughput ≥ ${GOALS.minThroughputRatio}×, p99 ≤ ${GOALS.maxP99Ratio}×`,
  ];
  for (const v of verdicts) {
    lines.push(
      `  ${v.scenario.padEnd(24)} throughput ${ratio(v.throughputRatio)} ${v.throughput}   p99 ${ratio(v.p99Ratio)} ${v.p99}`,
    );
  }
  return lines.join('\n');
}
