import { loadavg } from 'node:os';
import { detectSQLi } from '../src/stages/waf/engine/detectors/sqli/index.ts';
import { detectXSS } from '../src/stages/waf/engine/detectors/xss/index.ts';

/**
 * `node --experimental-strip-types bench/waf-detectors.ts`: what `@detectSQLi` and
 * `@detectXSS` cost per call on benign values of 100 bytes and 1 KiB (the common case: CRS
 * runs them on every argument at paranoia 1), and on a few attacks for reference.
 *
 * The baseline, measured in the same run, is one pass that reads every byte of the value
 * (`charCodeAt` summed): the floor any detector that looks at the whole value pays. Figures
 * are the median of ROUNDS rounds of calls in CPU time, interleaved across all cells, after a
 * calibration that doubles as warm-up.
 */

const ROUNDS = 15;
const TARGET_NS_PER_ROUND = 40_000_000;

/** One sentence of prose with the characters that make detectors work: quotes, `<`, `=`, `(`. */
const SENTENCE =
  'O\'Brien\'s order #1234 (2 items, size M or L) ships 2024-05-01; total = 5 < 6 > 4 "fast" & free. ';

/** A flat one-byte string, as the engine gets from decoding a request buffer as latin1. */
function repeatTo(s: string, bytes: number): string {
  return Buffer.from(s.repeat(Math.ceil(bytes / s.length)).slice(0, bytes), 'latin1').toString('latin1');
}

const JSON_1K = repeatTo(
  '{"id":42,"name":"Jane O\'Neil","email":"jane@example.com","tags":["a","b"],"note":"<b>hi</b>"},',
  1024,
);

const INPUTS: ReadonlyArray<readonly [string, string]> = [
  ['benign prose 100 B', repeatTo(SENTENCE, 100)],
  ['benign prose 1 KiB', repeatTo(SENTENCE, 1024)],
  ['benign JSON 1 KiB', JSON_1K],
  ['benign word 8 B', 'keyboard'],
  ['attack sqli', "x' or 1=1--"],
  ['attack xss', '<img src=x onerror=alert(1)>'],
];

let sink = 0;

function baseline(s: string): boolean {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h + s.charCodeAt(i)) | 0;
  sink ^= h;
  return h === -1;
}

const DETECTORS: ReadonlyArray<readonly [string, (s: string) => boolean]> = [
  ['read bytes (baseline)', baseline],
  ['detectSQLi', (s) => detectSQLi(s).match],
  ['detectXSS', detectXSS],
];

/**
 * CPU time of this process in ns: on a shared machine, wall time mostly measures the other
 * processes; CPU time (microsecond resolution, hence rounds of tens of ms) does not.
 */
function cpuNs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
}

/** Calls per round so that one round takes about TARGET_NS_PER_ROUND. */
function calibrate(fn: (s: string) => boolean, input: string): number {
  let calls = 1000;
  for (;;) {
    const t0 = cpuNs();
    for (let i = 0; i < calls; i++) if (fn(input)) sink++;
    const ns = cpuNs() - t0;
    if (ns > TARGET_NS_PER_ROUND / 4) return Math.max(1, Math.round((calls * TARGET_NS_PER_ROUND) / ns));
    calls *= 4;
  }
}

interface Cell {
  readonly fn: (s: string) => boolean;
  readonly input: string;
  readonly calls: number;
  readonly samples: number[];
}

function main(): void {
  console.log(
    `node ${process.version}, median of ${ROUNDS} interleaved rounds of ~${TARGET_NS_PER_ROUND / 1e6} ms CPU, load ${loadavg()[0]!.toFixed(1)}\n`,
  );
  const cells: Cell[][] = INPUTS.map(([, input]) =>
    DETECTORS.map(([, fn]) => ({ fn, input, calls: calibrate(fn, input), samples: [] })),
  );
  // Round-robin over every cell, so a change in machine load touches all of them alike.
  for (let r = 0; r < ROUNDS; r++) {
    for (const row of cells) {
      for (const cell of row) {
        const t0 = cpuNs();
        for (let i = 0; i < cell.calls; i++) if (cell.fn(cell.input)) sink++;
        cell.samples.push((cpuNs() - t0) / cell.calls);
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const header = ['input', 'bytes', ...DETECTORS.map(([name]) => name)];
  const rows = INPUTS.map(([label, input], i) => {
    const figures = cells[i]!.map((c) => median(c.samples));
    const base = figures[0]!;
    return [
      label,
      String(input.length),
      ...figures.map((ns, k) =>
        k === 0 ? `${ns.toFixed(0)} ns` : `${ns.toFixed(0)} ns (${(ns / base).toFixed(1)}x)`,
      ),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  console.log('\n(ns per call; the ratio is to reading the same bytes once)');
  if (sink === 0.5) console.log(sink);
}

main();
