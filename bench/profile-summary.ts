import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

/**
 * Summarize a V8 .cpuprofile (as written by `npm run bench -- --profile <dir>`): self time per
 * function, hottest first, and the share of time in the gateway's own sources (src/).
 *
 * Usage: node --experimental-strip-types bench/profile-summary.ts <file.cpuprofile> [top=25]
 */
interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const file = process.argv[2];
if (file === undefined) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top]');
const top = Number(process.argv[3] ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfMicros = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]!;
  selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}

const cwd = process.cwd();
const where = (url: string) => {
  if (url === '') return '';
  const path = url.startsWith('file://') ? new URL(url).pathname : url;
  return path.startsWith('/') ? relative(cwd, path) : path;
};

const byFunction = new Map<string, number>();
let total = 0;
let idle = 0;
let gateway = 0;
for (const [id, micros] of selfMicros) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  total += micros;
  if (functionName === '(idle)') idle += micros;
  const place = where(url);
  if (place.startsWith('src/')) gateway += micros;
  const key = `${functionName || '(anonymous)'}  ${place}${place ? `:${lineNumber + 1}` : ''}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
}

const busy = total - idle;
const pct = (v: number) => `${((100 * v) / busy).toFixed(1).padStart(5)}%`;
process.stdout.write(
  `${file}\nbusy ${(busy / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms sampled; self time in src/: ${pct(gateway)} of busy\n\n`,
);
// Inclusive time of the gateway's functions: where a request's CPU goes, callees included.
const parentOf = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
const inclusive = new Map<string, number>();
for (const [id, micros] of selfMicros) {
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
    const { functionName, url, lineNumber } = byId.get(at)!.callFrame;
    const place = where(url);
    if (!place.startsWith('src/')) continue;
    const key = `${functionName || '(anonymous)'}  ${place}:${lineNumber + 1}`;
    if (seen.has(key)) continue; // recursion: count a sample once per function
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + micros);
  }
}

const rows = [...byFunction].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]);
for (const [key, micros] of rows.slice(0, top)) process.stdout.write(`${pct(micros)}  ${key}\n`);

process.stdout.write('\nInclusive (self + callees), functions in src/:\n');
const inclusiveRows = [...inclusive].sort((a, b) => b[1] - a[1]);
for (const [key, micros] of inclusiveRows.slice(0, top)) process.stdout.write(`${pct(micros)}  ${key}\n`);
