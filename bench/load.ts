import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { ready } from './child.ts';

/**
 * The load generator, in its own process so its CPU does not share an event loop with the
 * bench or with a server. It stays up for the whole bench and runs one autocannon job per
 * message, so every target is driven by the same warmed-up generator.
 *
 * Latency is recorded here from autocannon's per-response event: autocannon's own histogram
 * keeps whole milliseconds, too coarse when a response takes 2–5 ms and the p99 target is a
 * 1.25× ratio.
 */

export interface LoadJob {
  readonly type: 'run';
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
  readonly duration: number;
  readonly connections: number;
}

export interface LoadResult {
  readonly type: 'result';
  /** Responses with a 2xx status per second of measured time. */
  readonly rps: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly seconds: number;
  /** Latency of 2xx responses, milliseconds. */
  readonly latency: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
}

interface AutocannonResult {
  readonly errors: number;
  readonly timeouts: number;
}

interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}

type Autocannon = (
  options: Record<string, unknown>,
  done: (err: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;

// autocannon ships no types; it is loaded through require and used through the types above.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

/** A growable list of latencies (ms); a 10 s run at 20k req/s is 200k doubles. */
class Samples {
  #values = new Float64Array(1 << 16);
  #length = 0;

  push(value: number): void {
    if (this.#length === this.#values.length) {
      const next = new Float64Array(this.#values.length * 2);
      next.set(this.#values);
      this.#values = next;
    }
    this.#values[this.#length++] = value;
  }

  summary(): LoadResult['latency'] {
    const sorted = this.#values.subarray(0, this.#length).sort();
    const at = (q: number) =>
      sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    let sum = 0;
    for (const v of sorted) sum += v;
    return {
      p50: at(0.5),
      p90: at(0.9),
      p99: at(0.99),
      p999: at(0.999),
      max: sorted.length === 0 ? 0 : sorted[sorted.length - 1]!,
      mean: sorted.length === 0 ? 0 : sum / sorted.length,
    };
  }
}

function run(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const samples = new Samples();
    let ok = 0;
    let non2xx = 0;
    const started = performance.now();
    const instance = autocannon(
      {
        url: job.url,
        method: job.method,
        headers: job.headers,
        body: job.body,
        duration: job.duration,
        connections: job.connections,
        pipelining: 1,
        timeout: 10,
      },
      (err, result) => {
        if (err) {
          reject(err);
          return;
        }
        const seconds = (performance.now() - started) / 1000;
        resolve({
          type: 'result',
          rps: ok / seconds,
          ok,
          non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          seconds,
          latency: samples.summary(),
        });
      },
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) {
        ok++;
        samples.push(ms);
      } else {
        non2xx++;
      }
    });
  });
}

process.on('message', (job: LoadJob) => {
  run(job).then(
    (result) => process.send?.(result),
    (err: Error) => process.send?.({ type: 'error', message: err.message }),
  );
});
// Jobs come over IPC; when the bench goes away, so does the generator.
process.on('disconnect', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
ready(0);
