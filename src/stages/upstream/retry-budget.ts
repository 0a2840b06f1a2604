import { RollingWindow } from './rolling-window.ts';

export interface RetryBudgetConfig {
  /** Retries allowed per request over the window (0.2: at most 20% more calls). */
  readonly ratio: number;
  /** Retries always allowed per second, however few requests there were (so a quiet upstream still gets retried). */
  readonly minPerSecond: number;
  readonly windowMs: number;
}

/**
 * A retry budget (Finagle's `RetryBudget`, Envoy's `retry_budget`): every request deposits,
 * every retry withdraws, and a retry the budget cannot pay for is not made. Retrying only
 * within `attempts` still multiplies load by `attempts` when every call fails, which is
 * exactly when an upstream can least take it (a retry storm); the budget caps the extra load
 * at `ratio` of the traffic, plus `minPerSecond`, over a rolling window, whatever the attempts.
 */
export class RetryBudget {
  readonly #config: RetryBudgetConfig;
  readonly #now: () => number;
  readonly #window: RollingWindow;
  readonly #floor: number;
  readonly #sum: [number, number] = [0, 0];

  constructor(config: RetryBudgetConfig, now: () => number) {
    this.#config = config;
    this.#now = now;
    this.#window = new RollingWindow(config.windowMs);
    this.#floor = (config.minPerSecond * config.windowMs) / 1000;
  }

  /** Count a request to the upstream (first attempts only). */
  deposit(): void {
    this.#window.add(this.#now(), 1, 0);
  }

  /** Whether one more retry fits the budget now; if it does, it is counted. */
  tryWithdraw(): boolean {
    const now = this.#now();
    const [requests, retries] = this.#window.sum(now, this.#sum);
    if (retries + 1 > this.#floor + this.#config.ratio * requests) return false;
    this.#window.add(now, 0, 1);
    return true;
  }
}
