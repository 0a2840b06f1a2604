/**
 * The state store (ARCHITECTURE §2): counters, block lists with expiry and replay guards,
 * shared by every stage of every gateway instance that uses it. `memory` is the embedded
 * default; a Redis implementation shares the same state across instances.
 *
 * Every operation is atomic per key. Times are milliseconds; a key's expiry is absolute once
 * set (incrementing does not extend it), so a window of N ms really ends N ms after it began.
 */
import type { LimitCheck, LimitOutcome } from './limits.ts';

export interface StateStore {
  /**
   * Evaluate one request's rate limits and quotas atomically, at the store's clock (Redis:
   * `TIME`, so every instance shares one clock): all are checked, and the request is counted
   * against them only if every enforcing limit admits it (see `decideBatch`). One round trip.
   * Rejects when the store cannot answer (unreachable, timed out): the caller applies each
   * limit's failure mode.
   */
  consume(checks: readonly LimitCheck[]): Promise<LimitOutcome>;

  /** Add `by` to a counter, creating it with expiry `ttlMs` if absent; the new value. */
  increment(key: string, ttlMs: number, by?: number): Promise<number>;
  /** A counter's value, or 0 when absent or expired. */
  count(key: string): Promise<number>;
  /**
   * Set `key` with expiry `ttlMs` only if it does not exist: true if this call set it. The replay
   * guard: a signature is accepted once.
   */
  setIfAbsent(key: string, ttlMs: number): Promise<boolean>;
  /** Milliseconds until `key` expires, or 0 when absent. */
  ttl(key: string): Promise<number>;
  /** Set a key to a value with expiry (block lists, lockouts). */
  set(key: string, ttlMs: number): Promise<void>;
  delete(...keys: string[]): Promise<void>;
  /**
   * Resolve once the store answers (Redis connected), reject after `timeoutMs`. Absent: always
   * ready (memory). The server waits for it before listening, so the first requests are not
   * refused by a store still connecting.
   */
  waitReady?(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The store could not answer in time (unreachable, timed out, refused the command). Stores
 * reject with it instead of hanging, so the caller can apply each limit's failure mode
 * (`failOpen` / `failClosed`) within the command timeout.
 */
export class StoreUnavailableError extends Error {
  readonly code = 'RAMPART_STORE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}
