import { reportInternalError } from '../../observe/logger.ts';
import { RollingWindow } from './rolling-window.ts';

export type CircuitState = 'closed' | 'open' | 'half-open';

/** Why the state changed: the event's `reason`. */
export type CircuitChangeReason =
  | 'consecutive_failures'
  | 'error_rate'
  | 'open_for_elapsed'
  | 'probe_failed'
  | 'probes_succeeded';

/**
 * The one hook through which state changes leave the breaker. The compile step wires it to
 * the gateway log (event `circuit_state_changed`); the security-event bus takes it over later.
 */
export type CircuitStateHook = (
  upstream: string,
  from: CircuitState,
  to: CircuitState,
  reason: CircuitChangeReason,
) => void;

export interface CircuitBreakerConfig {
  /** Open after this many failures in a row (0: this trigger is off). */
  readonly consecutiveFailures: number;
  /** Open when failures / calls over `windowMs` reach `threshold`, once `minRequests` were made. */
  readonly errorRate: {
    readonly threshold: number;
    readonly minRequests: number;
    readonly windowMs: number;
  } | null;
  readonly openForMs: number;
  /** Calls admitted at once while half-open; this many successes close the circuit. */
  readonly halfOpenProbes: number;
}

/** What a call's end says about the upstream. */
export type CallVerdict = 'success' | 'failure' | 'neutral';

/** `admit` refused the call: the circuit is open (or half-open with every probe slot taken). */
export const REJECTED = -1;

/**
 * A circuit breaker for one upstream (Nygard, *Release It!*; the state machine of Hystrix and
 * resilience4j). `closed`: calls go through and their verdicts are counted. `open`: calls are
 * refused at once, so a failing upstream gets time to recover instead of a queue of callers
 * waiting out their timeouts. After `openFor` it is `half-open`: up to `halfOpenProbes` calls
 * go through; that many successes close it, one failure opens it again.
 *
 * Each admitted call holds a ticket: the generation of the state it was admitted in. A verdict
 * from an older generation (a call admitted while closed that fails after the circuit opened)
 * changes nothing, so a burst of late failures cannot keep a circuit open or close a new one.
 * Time comes from `now` (monotonic ms), so tests drive it; the open → half-open move happens
 * on the first call or read after `openFor`, with no timer.
 */
export class CircuitBreaker {
  readonly upstream: string;
  readonly #config: CircuitBreakerConfig;
  readonly #onChange: CircuitStateHook;
  readonly #now: () => number;
  readonly #window: RollingWindow | null;
  readonly #sum: [number, number] = [0, 0];
  #state: CircuitState = 'closed';
  #generation = 0;
  #consecutive = 0;
  #openedAt = 0;
  #probes = 0;
  #probeSuccesses = 0;

  constructor(upstream: string, config: CircuitBreakerConfig, onChange: CircuitStateHook, now: () => number) {
    this.upstream = upstream;
    this.#config = config;
    this.#onChange = onChange;
    this.#now = now;
    this.#window = config.errorRate ? new RollingWindow(config.errorRate.windowMs) : null;
  }

  /** The current state (readable for metrics and the admin API). */
  get state(): CircuitState {
    this.#maybeHalfOpen();
    return this.#state;
  }

  /** Seconds until an open circuit lets probes through (at least 1: for `Retry-After`). */
  retryAfterSeconds(): number {
    if (this.#state !== 'open') return 1;
    const left = this.#openedAt + this.#config.openForMs - this.#now();
    return Math.max(1, Math.ceil(left / 1000));
  }

  /** A ticket for the call, or REJECTED. */
  admit(): number {
    this.#maybeHalfOpen();
    if (this.#state === 'closed') return this.#generation;
    if (this.#state === 'open' || this.#probes >= this.#config.halfOpenProbes) return REJECTED;
    this.#probes++;
    return this.#generation;
  }

  /** The end of an admitted call. */
  record(ticket: number, verdict: CallVerdict): void {
    if (ticket !== this.#generation) return;
    if (this.#state === 'closed') this.#recordClosed(verdict);
    else if (this.#state === 'half-open') this.#recordProbe(verdict);
  }

  #recordClosed(verdict: CallVerdict): void {
    if (verdict === 'neutral') return;
    const failed = verdict === 'failure';
    this.#consecutive = failed ? this.#consecutive + 1 : 0;
    const { consecutiveFailures, errorRate } = this.#config;
    if (failed && consecutiveFailures > 0 && this.#consecutive >= consecutiveFailures) {
      this.#open('consecutive_failures');
      return;
    }
    if (this.#window === null || errorRate === null) return;
    const now = this.#now();
    this.#window.add(now, 1, failed ? 1 : 0);
    if (!failed) return;
    const [calls, failures] = this.#window.sum(now, this.#sum);
    if (calls >= errorRate.minRequests && failures / calls >= errorRate.threshold) this.#open('error_rate');
  }

  #recordProbe(verdict: CallVerdict): void {
    this.#probes--;
    if (verdict === 'failure') this.#open('probe_failed');
    else if (verdict === 'success' && ++this.#probeSuccesses >= this.#config.halfOpenProbes) {
      this.#move('closed', 'probes_succeeded');
    }
  }

  #maybeHalfOpen(): void {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.#config.openForMs) {
      this.#move('half-open', 'open_for_elapsed');
    }
  }

  #open(reason: CircuitChangeReason): void {
    this.#openedAt = this.#now();
    this.#move('open', reason);
  }

  #move(to: CircuitState, reason: CircuitChangeReason): void {
    const from = this.#state;
    this.#state = to;
    this.#generation++;
    this.#consecutive = 0;
    this.#probes = 0;
    this.#probeSuccesses = 0;
    this.#window?.reset();
    try {
      this.#onChange(this.upstream, from, to, reason);
    } catch (err) {
      // The state has changed either way; a failing log hook must not fail the call reporting it.
      reportInternalError(err, '-', `circuit breaker hook (${this.upstream})`);
    }
  }
}
