import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { rewriteRegex } from '../src/stages/waf/engine/regex-rewrite.ts';

/**
 * `node bench/waf-regex.ts`: which regex engine the WAF runs CRS's `@rx` patterns on, chosen by
 * measurement (docs/concepts/waf-regex.md). Every CRS v4.28.0 `@rx` pattern, rewritten as
 * regex.ts does, runs on
 *   benign   realistic request values (query values, headers, a 1 KiB JSON body): throughput
 *            of the whole pattern set, which bounds what a WAF stage can cost;
 *   hostile  per pattern, repeated units (single bytes, `a=`, `<a`, words from the pattern
 *            itself, ...) of 1–64 KiB: the worst time one pattern takes on one input.
 * Engines, each in its own process (V8 flags are process-wide):
 *   backtrack  V8's irregexp (JIT, backtracking), as node runs by default
 *   fallback   irregexp, switching to V8's linear-time engine after N backtracks
 *              (--enable-experimental-regexp-engine-on-excessive-backtracks, set at run time)
 *   linear     V8's linear-time engine (`l` flag) wherever it accepts the pattern
 *   iflag      as backtrack, but `(?i)` as the JS `i` flag instead of folded classes
 *   re2js      the re2js package (pure-JS RE2) — `npm i --prefix /tmp/re2 re2js re2-wasm`
 *   re2wasm    the re2-wasm package (RE2 in WebAssembly) — then RE2_MODULES=/tmp/re2/node_modules
 * Nothing here is a dependency of Rampart; the RE2 ports are loaded only when present.
 */

const HERE = dirname(fileURLToPath(import.meta.url));
const CRS_RULES = resolve(HERE, '../../shared/crs/v4.28.0/rules');
const ENGINES = ['backtrack', 'fallback', 'linear', 'hybrid', 'iflag', 're2js', 're2wasm'] as const;
type Engine = (typeof ENGINES)[number];

interface Matcher {
  test(input: string): boolean;
}

/**
 * regex.ts's compileByteRegex, imported only in the `hybrid` child: importing regex.ts sets
 * its V8 flags, which would change what the other engines measure.
 */
let hybrid: ((pattern: string) => Matcher) | undefined;

export function crsPatterns(dir = CRS_RULES): Array<{ file: string; pattern: string }> {
  const out: Array<{ file: string; pattern: string }> = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.conf'))) {
    const text = readFileSync(join(dir, file), 'latin1').replace(/\\\r?\n/g, '');
    for (const m of text.matchAll(/"!?@rx ((?:[^"\\]|\\.)*)"/g)) {
      out.push({ file, pattern: (m[1] as string).replace(/\\"/g, '"') });
    }
  }
  return out;
}

function compileFor(engine: Engine, pattern: string): Matcher {
  switch (engine) {
    case 'backtrack':
    case 'fallback': {
      const r = rewriteRegex(pattern);
      return new RegExp(r.source, r.flags);
    }
    case 'hybrid':
      if (hybrid === undefined) throw new Error('regex.ts not loaded');
      return hybrid(pattern);
    case 'linear': {
      const r = rewriteRegex(pattern);
      try {
        return new RegExp(r.source, `${r.flags}l`);
      } catch {
        return new RegExp(r.source, r.flags);
      }
    }
    case 'iflag': {
      const lead = /^\(\?(i|is|si)\)/.exec(pattern);
      if (lead === null) {
        const r = rewriteRegex(pattern);
        return new RegExp(r.source, r.flags);
      }
      const r = rewriteRegex(pattern.slice(lead[0].length));
      return new RegExp(r.source, `${r.flags}i`);
    }
    case 're2js': {
      const { RE2JS } = requireRe2('re2js') as {
        RE2JS: { compile(p: string, f: number): { matcher(s: string): { find(): boolean } }; DOTALL: number };
      };
      const re = RE2JS.compile(pattern, RE2JS.DOTALL);
      return { test: (s) => re.matcher(s).find() };
    }
    case 're2wasm': {
      const { RE2 } = requireRe2('re2-wasm') as { RE2: new (p: string, f: string) => Matcher };
      return new RE2(`(?s)${pattern}`, 'u');
    }
  }
}

function requireRe2(name: string): unknown {
  const base = process.env.RE2_MODULES ?? '/tmp/re2/node_modules';
  return createRequire(join(base, 'x.js'))(name);
}

const JSON_1K = JSON.stringify({
  id: 12345,
  name: 'Jane Doe',
  email: 'jane.doe@example.com',
  address: { street: '1 Main Street', city: 'Springfield', zip: '12345', country: 'US' },
  tags: ['customer', 'premium', 'newsletter'],
  notes: 'Please deliver between 9am and 5pm. Ring the bell twice and wait at the door.',
  items: Array.from({ length: 8 }, (_, i) => ({ sku: `SKU-${1000 + i}`, qty: i + 1, price: 9.99 + i })),
});

/** What CRS's targets see on ordinary traffic: argument values, names, headers, paths. */
export const BENIGN = [
  '42',
  'jane.doe@example.com',
  'hello world',
  'The quick brown fox jumps over the lazy dog, then naps until noon.',
  '/api/v1/users/123/orders',
  'page=2&sort=name&q=hello+world',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'session=abc123def456; theme=dark; lang=en-US',
  '2026-12-04T02:57:18Z',
  'caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9e',
  JSON_1K,
];

function hostileUnits(pattern: string): string[] {
  const units = ['a', '0', ' ', '\t', '\n', '<', '>', "'", '"', '(', ')', '/', '\\', '%', '&', '=', ';'];
  units.push(
    ',',
    '.',
    '-',
    '#',
    '*',
    '`',
    '$',
    '{',
    'a ',
    'a=',
    '<a',
    "a'",
    'a(',
    '1,',
    '/*',
    '${',
    '%0',
    '\x00',
  );
  units.push('\xff', 'aA0_', ' a', ',a', '\\x', '&#', '../');
  const words = [...new Set(pattern.toLowerCase().match(/[a-z]{3,}/g) ?? [])].slice(0, 4);
  for (const w of words) units.push(`${w} `, `${w}(`, `${w}=`);
  return units;
}

interface BenignResult {
  engine: Engine;
  compiled: number;
  failed: string[];
  usPerValue: number;
}

function compileAll(engine: Engine): {
  compiled: Array<{ file: string; pattern: string; m: Matcher }>;
  failed: string[];
} {
  const failed: string[] = [];
  const compiled: Array<{ file: string; pattern: string; m: Matcher }> = [];
  for (const { file, pattern } of crsPatterns()) {
    try {
      compiled.push({ file, pattern, m: compileFor(engine, pattern) });
    } catch (err) {
      failed.push(`${file}: ${(err as Error).message.slice(0, 120)}`);
    }
  }
  return { compiled, failed };
}

/** Benign: the whole pattern set over every value, for a fixed time after a warm-up. */
function benign(engine: Engine, seconds: number): BenignResult {
  const { compiled, failed } = compileAll(engine);
  for (const v of BENIGN) for (const c of compiled) c.m.test(v);
  // CPU time, not wall time: the machine is shared, and a busy neighbour should not count.
  let passes = 0;
  const wall = performance.now();
  const cpu = process.cpuUsage();
  while (performance.now() - wall < seconds * 1000) {
    for (const v of BENIGN) for (const c of compiled) c.m.test(v);
    passes++;
  }
  const used = process.cpuUsage(cpu);
  const us = (used.user + used.system) / (passes * BENIGN.length);
  return { engine, compiled: compiled.length, failed, usPerValue: us };
}

/**
 * Hostile: per pattern and unit, sizes ascending; a size runs only when the previous one
 * stayed under 50 ms, so a blow-up shows at its smallest size. Each case is announced on
 * stdout before it runs (`S p u size`) and reported after (`R p u size ms`): the parent kills
 * a case that runs past its limit and restarts this child at the next unit.
 */
function hostile(engine: Engine, sizes: number[], fromPattern: number, fromUnit: number): void {
  const { compiled } = compileAll(engine);
  for (let p = fromPattern; p < compiled.length; p++) {
    const c = compiled[p] as (typeof compiled)[number];
    if (p % 40 === 0) process.stderr.write(`  ${engine}: pattern ${p}/${compiled.length}\n`);
    const units = hostileUnits(c.pattern);
    for (let u = p === fromPattern ? fromUnit : 0; u < units.length; u++) {
      const unit = units[u] as string;
      for (const size of sizes) {
        const input = unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
        writeSync(1, `S ${p} ${u} ${size}\n`);
        let ms = 0;
        // Three shapes on small inputs (as is, a failing last byte, unanchored with a newline);
        // above 16 KiB only the failing last byte, the slowest shape, to keep the run short.
        const shapes = size > 16384 ? [`${input}!`] : [input, `${input}!`, `!${input}\n`];
        for (const s of shapes) {
          const t = performance.now();
          c.m.test(s);
          ms = Math.max(ms, performance.now() - t);
        }
        writeSync(1, `R ${p} ${u} ${size} ${ms.toFixed(3)}\n`);
        if (ms > 50) break;
      }
    }
  }
  writeSync(1, 'DONE\n');
}

function setEngineFlags(engine: Engine, backtracks: number): void {
  if (engine === 'fallback') {
    v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
    v8.setFlagsFromString(`--regexp-backtracks-before-fallback=${backtracks}`);
  }
  if (engine === 'linear') v8.setFlagsFromString('--enable-experimental-regexp-engine');
}

interface HostileCase {
  ms: number;
  timedOut: boolean;
  file: string;
  pattern: string;
  unit: string;
  size: number;
}

function childArgs(engine: Engine, extra: string[]): string[] {
  return [
    '--experimental-strip-types',
    '--disable-warning=ExperimentalWarning',
    fileURLToPath(import.meta.url),
    '--engine',
    engine,
    ...extra,
  ];
}

/** Runs the hostile phase of one engine in children, restarting past every case that hangs. */
async function hostileRun(engine: Engine, extra: string[], caseLimitMs: number, budgetMs: number) {
  const patterns = crsPatterns();
  const cases: HostileCase[] = [];
  let from = [0, 0];
  const started = performance.now();
  let complete = false;
  while (!complete && performance.now() - started < budgetMs) {
    const child = spawn(
      process.execPath,
      childArgs(engine, [...extra, '--phase', 'hostile', '--from', from.join(',')]),
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let pending: { p: number; u: number; size: number } | undefined;
    let timer: NodeJS.Timeout | undefined;
    const arm = (ms: number): void => {
      clearTimeout(timer);
      timer = setTimeout(() => child.kill('SIGKILL'), ms);
    };
    arm(60_000); // start-up and compilation, on a busy machine
    const lines = createInterface({ input: child.stdout });
    let last = '';
    lines.on('line', (line) => {
      last = line;
      const [tag, p, u, size, ms] = line.split(' ');
      if (tag === 'DONE') complete = true;
      if (tag === 'S') {
        pending = { p: Number(p), u: Number(u), size: Number(size) };
        arm(caseLimitMs);
      }
      if (tag === 'R') {
        pending = undefined;
        arm(60_000);
        const pat = patterns[Number(p)] as { file: string; pattern: string };
        cases.push({
          ms: Number(ms),
          timedOut: false,
          file: pat.file,
          pattern: pat.pattern,
          unit: hostileUnits(pat.pattern)[Number(u)] as string,
          size: Number(size),
        });
      }
    });
    const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
    clearTimeout(timer);
    if (complete) break;
    if (pending === undefined)
      throw new Error(
        `${engine}: hostile child exited (${code ?? signal}) without a case running; last line ${last}`,
      );
    const pat = patterns[pending.p] as { file: string; pattern: string };
    cases.push({
      ms: caseLimitMs,
      timedOut: true,
      file: pat.file,
      pattern: pat.pattern,
      unit: hostileUnits(pat.pattern)[pending.u] as string,
      size: pending.size,
    });
    from = [pending.p, pending.u + 1];
  }
  return { cases, complete };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      engine: { type: 'string' },
      engines: { type: 'string', default: ENGINES.join(',') },
      phase: { type: 'string' },
      from: { type: 'string', default: '0,0' },
      quick: { type: 'boolean', default: false },
      backtracks: { type: 'string', default: '50000' },
      'case-limit': { type: 'string', default: '2000' },
    },
  });
  const quick = values.quick === true;
  const sizes = quick ? [1024, 16384] : [1024, 4096, 65536];
  const extra = [...(quick ? ['--quick'] : []), '--backtracks', String(values.backtracks)];
  if (values.engine !== undefined) {
    const engine = values.engine as Engine;
    setEngineFlags(engine, Number(values.backtracks));
    if (engine === 'hybrid') hybrid = (await import('../src/stages/waf/engine/regex.ts')).compileByteRegex;
    if (values.phase === 'benign')
      process.stdout.write(`${JSON.stringify(benign(engine, quick ? 0.5 : 2))}\n`);
    else {
      const [p, u] = (values.from as string).split(',').map(Number);
      hostile(engine, sizes, p ?? 0, u ?? 0);
    }
    return;
  }
  if (!existsSync(CRS_RULES)) throw new Error(`CRS rules not found at ${CRS_RULES}`);
  const caseLimit = Number(values['case-limit']);
  console.log(
    `waf-regex: ${crsPatterns().length} CRS v4.28.0 @rx patterns, node ${process.version}; hostile case limit ${caseLimit} ms`,
  );
  const engines = (values.engines as string).split(',') as Engine[];
  const rows: string[] = [];
  let baseUs: number | undefined;
  for (const engine of engines) {
    const r = spawnSync(process.execPath, childArgs(engine, [...extra, '--phase', 'benign']), {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.status !== 0 || !line.startsWith('{')) {
      console.log(`${engine}: not measured (${r.stderr.trim().split('\n').slice(-3).join(' | ')})`);
      continue;
    }
    const b = JSON.parse(line) as BenignResult;
    if (engine === 'backtrack') baseUs = b.usPerValue;
    const { cases, complete } = await hostileRun(engine, extra, caseLimit, quick ? 240_000 : 900_000);
    cases.sort((x, y) => y.ms - x.ms);
    const over100 = cases.filter((c) => c.ms > 100).length;
    const timeouts = cases.filter((c) => c.timedOut).length;
    const ratio = baseUs === undefined ? '' : (baseUs / b.usPerValue).toFixed(2);
    rows.push(
      `${engine.padEnd(10)} ${String(b.compiled).padStart(8)}  ${b.usPerValue.toFixed(1).padStart(14)}  ${ratio.padStart(12)}  ${(cases[0]?.ms ?? 0).toFixed(1).padStart(13)}  ${String(over100).padStart(10)}  ${String(timeouts).padStart(8)}${complete ? '' : '  (hostile budget ran out)'}`,
    );
    console.log(
      `\n${engine}: ${b.failed.length} not compiled${b.failed.length ? `: ${b.failed.slice(0, 3).join('; ')}` : ''}; slowest hostile cases:`,
    );
    for (const w of cases.slice(0, 6)) {
      console.log(
        `  ${w.timedOut ? '>' : ' '}${w.ms.toFixed(1).padStart(8)} ms  ${String(w.size).padStart(6)} B of ${JSON.stringify(w.unit).padEnd(10)} ${w.file}  ${w.pattern.slice(0, 70)}`,
      );
    }
  }
  console.log('\nengine     compiled  benign µs/value  vs backtrack  worst ms  cases>100ms  timeouts');
  for (const row of rows) console.log(row);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
