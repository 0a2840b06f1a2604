/**
 * The state store (ARCHITECTURE §2): counters, block lists with expiry and replay guards,
 * shared by every stage of every gateway instance that uses it. `memory` is the embedded
 * default; a Redis implementation shares the same state across instances.
 *
 * Every operation is atomic per key. Times are milliseconds; a key's expiry is absolute once
 * set (incrementing does not extend it), so a window of N ms really ends N ms after it began.
 */
export interface StateStore {
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
  close(): Promise<void>;
}
