import { readFileSync, truncateSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuMicros } from './procs.ts';
import type { RunRecord } from './report.ts';
import { type Bench, progress } from './run.ts';
import { callsBetween, type RedisChild, snapshot } from './traffic-redis.ts';
import type { StoreRun, TrafficScenario } from './traffic-report.ts';

/**
 * The requests of `npm run bench:traffic` (bench/traffic.ts): the checks before it measures,
 * the exact-count requests sent under MONITOR, and one load run with Redis's counters read
 * around it.
 */

const CHECK_MS = 10_000;

interface Answer {
  readonly status: number;
  readonly policy: string;
  /** The start of the body of a non-200 answer (the problem+json names the reason). */
  readonly problem: string;
}

function get(port: number, path: string, agent?: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let problem = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (res.statusCode !== 200 && problem.length < 300) problem += d;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          policy: String(res.headers['ratelimit-policy'] ?? ''),
          problem: problem.slice(0, 300),
        }),
      );
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Each row answers 200 with one RateLimit-Policy item per limit (none without the field): the
 * limits are in force. The Redis process gets a few seconds to connect.
 */
export async function checkScenario(port: number, s: TrafficScenario): Promise<void> {
  const until = Date.now() + CHECK_MS;
  let last: Answer = { status: 0, policy: '', problem: '' };
  while (Date.now() < until) {
    last = await get(port, s.path);
    if (last.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (last.status !== 200) throw new Error(`${s.name}: ${s.path} answered ${last.status}: ${last.problem}`);
  const items = last.policy === '' ? 0 : last.policy.split(',').length;
  if (items !== s.limits) {
    throw new Error(`${s.name}: RateLimit-Policy "${last.policy}" has ${items} item(s), want ${s.limits}`);
  }
}

/**
 * Exactly `count` GETs, 8 in flight; the statuses seen, by count. A 503 is a store call that
 * outlived the store's command timeout (MONITOR slows Redis down): it was sent all the same.
 */
export async function sendExactly(
  port: number,
  path: string,
  count: number,
): Promise<Record<string, number>> {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const statuses: Record<string, number> = {};
  let sent = 0;
  const worker = async () => {
    while (sent < count) {
      sent++;
      const { status, problem } = await get(port, path, agent);
      if (status !== 200 && statuses[status] === undefined)
        progress(`  (!) GET ${path} answered ${status}: ${problem}`);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: 8 }, worker));
  } finally {
    agent.destroy();
  }
  return statuses;
}

function countLines(file: string): number {
  const data = readFileSync(file);
  let n = 0;
  for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) n++;
  return n;
}

/**
 * Idle and total time of all CPUs so far (/proc/stat, clock ticks); null without procfs. A
 * run that leaves CPU idle is bound by waiting (round trips, wake-ups), not by CPU.
 */
function machineIdle(): { idle: number; total: number } | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return { idle: fields[3]! + fields[4]!, total };
  } catch {
    return null;
  }
}

/** Lines of the access log that are not a 200, by `status reason` (e.g. `503 rate_limit_unavailable`). */
function reasonsOf(file: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const status = /"status":(\d+)/.exec(line)?.[1];
    if (status === undefined || status === '200') continue;
    const key = `${status} ${/"reason":"([^"]+)"/.exec(line)?.[1] ?? '-'}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/**
 * The access-log lines of a run once they stop coming. Rampart's log is buffered (flushed every
 * 200 ms), and on a loaded machine the flush can be late: counting at a fixed pause (as
 * bench/run.ts does) loses a few lines there, and the lines are the request count.
 */
async function settledLines(file: string, atLeast: number): Promise<number> {
  let last = -1;
  for (let waited = 0; waited < 5000; waited += 150) {
    await sleep(150);
    const n = countLines(file);
    if (n === last && n >= atLeast) return n;
    last = n;
  }
  return last;
}

/**
 * One load run on the scenario's Rampart: Rampart's CPU per 2xx response, its access-log lines
 * (then emptied), and Redis's counters and CPU read around it.
 */
export async function storeRun(
  bench: Bench,
  redis: RedisChild,
  round: number,
  s: TrafficScenario,
  seconds: number,
): Promise<{ record: RunRecord; run: StoreRun }> {
  const server = bench.servers.rampart!;
  const log = bench.ownedAccessLog!;
  const before = await snapshot(redis);
  const idleBefore = machineIdle();
  const cpuBefore = cpuMicros(server.proc.pid);
  const result = await bench.load.run({
    type: 'run',
    url: `http://127.0.0.1:${server.port}${s.path}`,
    method: s.method,
    headers: s.headers,
    body: s.body,
    duration: seconds,
    connections: bench.options.connections,
  });
  const cpuAfter = cpuMicros(server.proc.pid);
  const idleAfter = machineIdle();
  const responses = result.ok + result.non2xx;
  const lines = await settledLines(log, responses);
  const refusals = result.non2xx > 0 ? reasonsOf(log) : {};
  truncateSync(log, 0);
  const after = await snapshot(redis);
  const record: RunRecord = {
    round,
    scenario: s.name,
    target: 'rampart',
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
    cpuPerRequest:
      cpuBefore !== null && cpuAfter !== null && result.ok > 0 ? (cpuAfter - cpuBefore) / result.ok : null,
    accessLogLines: lines,
  };
  const bad = record.non2xx + record.errors + record.timeouts;
  if (round > 0) {
    progress(
      `round ${round}/${bench.options.rounds}  ${s.name.padEnd(18)}${Math.round(record.rps).toString().padStart(7)} req/s` +
        `  p50 ${record.p50.toFixed(2)}  p99 ${record.p99.toFixed(2)} ms` +
        (bad > 0
          ? `  (!) ${record.non2xx} non-2xx, ${record.errors} errors, ${record.timeouts} timeouts`
          : ''),
    );
  }
  if (lines < responses) progress(`  (!) access log has ${lines} lines for ${responses} responses`);
  if (result.non2xx > 0) progress(`  (!) refused, by access-log reason: ${JSON.stringify(refusals)}`);
  return {
    record,
    run: {
      round,
      scenario: s.name,
      // Every request Rampart answered, those cut off when the load generator stopped included
      // (their store calls were made): the lines of its access log.
      requests: Math.max(lines, responses),
      driverResponses: responses,
      refusals,
      calls: Object.fromEntries(callsBetween(before, after)),
      idleShare:
        idleBefore === null || idleAfter === null || idleAfter.total === idleBefore.total
          ? null
          : (idleAfter.idle - idleBefore.idle) / (idleAfter.total - idleBefore.total),
      redisCpuMicros:
        before.cpuMicros === null || after.cpuMicros === null ? null : after.cpuMicros - before.cpuMicros,
    },
  };
}
