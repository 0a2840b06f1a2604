/**
 * Two counts (e.g. calls and failures, requests and retries) over a rolling time window, kept
 * in fixed buckets: each bucket covers `window / buckets` ms, and a bucket older than the window
 * is reset when its slot is reused. Adding is O(1) and allocates nothing; a sum is
 * O(buckets). The window slides in bucket steps, so a count leaves it at most one bucket late.
 */
export class RollingWindow {
  readonly windowMs: number;
  readonly #bucketMs: number;
  readonly #first: Float64Array;
  readonly #second: Float64Array;
  /** The bucket number (time / bucketMs) each slot currently holds. */
  readonly #epoch: Float64Array;

  constructor(windowMs: number, buckets = 10) {
    if (!(windowMs > 0) || !Number.isInteger(buckets) || buckets < 1) {
      throw new Error(`bad rolling window: ${windowMs} ms in ${buckets} bucket(s)`);
    }
    this.windowMs = windowMs;
    this.#bucketMs = windowMs / buckets;
    this.#first = new Float64Array(buckets);
    this.#second = new Float64Array(buckets);
    this.#epoch = new Float64Array(buckets).fill(-1);
  }

  add(now: number, first: number, second: number): void {
    const slot = this.#slot(now);
    this.#first[slot]! += first;
    this.#second[slot]! += second;
  }

  /** The two counts over the window ending at `now`, as `[first, second]` written into `out`. */
  sum(now: number, out: [number, number]): [number, number] {
    const current = Math.floor(now / this.#bucketMs);
    const n = this.#epoch.length;
    let a = 0;
    let b = 0;
    for (let i = 0; i < n; i++) {
      if (current - this.#epoch[i]! < n) {
        a += this.#first[i]!;
        b += this.#second[i]!;
      }
    }
    out[0] = a;
    out[1] = b;
    return out;
  }

  reset(): void {
    this.#first.fill(0);
    this.#second.fill(0);
    this.#epoch.fill(-1);
  }

  #slot(now: number): number {
    const bucket = Math.floor(now / this.#bucketMs);
    const n = this.#epoch.length;
    const slot = bucket % n;
    if (this.#epoch[slot] !== bucket) {
      this.#epoch[slot] = bucket;
      this.#first[slot] = 0;
      this.#second[slot] = 0;
    }
    return slot;
  }
}
