import type { Cluster, Redis } from 'ioredis';
import type { LimitCheck, LimitOutcome, LimitState } from './limits.ts';
import { connect, DEFAULT_COMMAND_TIMEOUT_MS, type RedisConnectionOptions } from './redis-connect.ts';
import { checkPrefix, redisKey, slotOf } from './redis-keys.ts';
import { CONSUME, INCREMENT, REFUND, type Script } from './redis-scripts.ts';
import { type StateStore, StoreUnavailableError } from './store.ts';

export type RedisStoreState = 'connecting' | 'ready' | 'unavailable' | 'closed';

export interface RedisStoreOptions extends RedisConnectionOptions {
  /** Prepended to every key (default `rampart:`), so several gateways or apps can share a Redis. */
  readonly keyPrefix?: string;
  /**
   * Connection state changes, for the gateway log and its readiness check; also called with the
   * current state and the error when background work fails (a cluster refund). Its own throws
   * are swallowed.
   */
  readonly onStateChange?: (state: RedisStoreState, error?: Error) => void;
  /**
   * Tests only (the config schema has no such field): decide at this clock instead of Redis
   * `TIME`, so the shared vectors give exact figures. Key TTLs still run on Redis's clock.
   */
  readonly testClock?: () => number;
}

const FIELDS = 7; // integers per check in the consume script's reply

/**
 * The state store on Redis (single server, Sentinel or Cluster): what every gateway instance
 * sharing one Redis counts together, so a limit of N admits at most N across all of them.
 *
 * Every call rejects with StoreUnavailableError within the command timeout when Redis is down
 * or slow — never hangs a request — and the client reconnects by itself (backoff capped at 1 s),
 * so the store serves again as soon as Redis returns.
 */
export class RedisStore implements StateStore {
  readonly #client: Redis | Cluster;
  readonly #cluster: boolean;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #testClock: (() => number) | undefined;
  readonly #onStateChange: ((state: RedisStoreState, error?: Error) => void) | undefined;
  #state: RedisStoreState = 'connecting';
  #lastReason: string | undefined;

  constructor(options: RedisStoreOptions) {
    this.#prefix = checkPrefix(options.keyPrefix ?? 'rampart:');
    this.#timeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.#testClock = options.testClock;
    this.#onStateChange = options.onStateChange;
    this.#cluster = options.mode === 'cluster';
    this.#client = connect(options);
    this.#watch();
  }

  /** Connected and answering: what a readiness probe reports. */
  get ready(): boolean {
    return this.#state === 'ready';
  }

  get state(): RedisStoreState {
    return this.#state;
  }

  /** Resolves when the store is ready, rejects after `timeoutMs` (start-up, tests). */
  async waitReady(timeoutMs = 5000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.#state !== 'ready') {
      if (this.#state === 'closed') throw new StoreUnavailableError('the Redis store is closed');
      if (Date.now() > until) throw new StoreUnavailableError(`Redis not ready within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * One EVALSHA per request in single and sentinel mode: every limit of the request is read,
   * decided and (if admitted) charged by one atomic script.
   *
   * Cluster mode: a script may only touch keys of one slot, and each limit's key has its own
   * slot (redis-keys.ts), so the request's checks are grouped by slot and the groups run in
   * parallel, one script call each (still one round trip of latency). Each group commits when
   * its own enforcing limits admit; if another group refused, what the committed groups
   * charged is refunded (REFUND: a TAT moves back by cost·T, never before now; a quota count
   * goes down by cost). Between the charge and the refund, those limits count one request too
   * many, so a concurrent request may be refused that would have passed; a limit never admits
   * more than N. A refund that fails (Redis gone at that moment), or a slot whose call fails
   * while another slot committed (consume then rejects), leaves the over-count to expire with
   * the key: the error is on the side of refusing, never of admitting.
   */
  consume(checks: readonly LimitCheck[]): Promise<LimitOutcome> {
    if (checks.length === 0) return Promise.resolve({ allowed: true, states: [] });
    return this.#cluster ? this.#consumeBySlot(checks) : this.#consumeOne(checks);
  }

  /**
   * One server: one EVALSHA, with as little around it as possible (it runs on every limited
   * request; bench/traffic.ts measured each promise and array here): the command's own timeout
   * bounds it, NOSCRIPT falls back to EVAL, and the reply is read in place.
   */
  #consumeOne(checks: readonly LimitCheck[]): Promise<LimitOutcome> {
    if (this.#state === 'closed')
      return Promise.reject(new StoreUnavailableError('the Redis store is closed'));
    const n = checks.length;
    const argv: (string | number)[] = new Array(1 + n + 1 + n * 5);
    argv[0] = n;
    for (let i = 0; i < n; i++) argv[1 + i] = redisKey(this.#prefix, checks[i]!.key);
    argv[1 + n] = this.#testClock ? String(this.#testClock()) : '';
    for (let i = 0, at = 2 + n; i < n; i++, at += 5) writeCheckArgs(checks[i]!, argv, at);
    return this.#client
      .evalsha(CONSUME.sha, ...(argv as [number, ...string[]]))
      .catch((err: unknown) => {
        if (err instanceof Error && err.message.startsWith('NOSCRIPT')) {
          return this.#client.eval(CONSUME.lua, ...(argv as [number, ...string[]]));
        }
        throw err;
      })
      .then(
        (reply) => {
          const r = reply as number[];
          const allowed = r[0] === 1;
          const states: LimitState[] = new Array(n);
          for (let i = 0; i < n; i++) {
            const at = 1 + i * FIELDS;
            states[i] =
              r[at] === 1 && !allowed
                ? { allowed: true, remaining: r[at + 5]!, resetMs: r[at + 6]!, retryAfterMs: 0 }
                : {
                    allowed: r[at] === 1,
                    remaining: r[at + 1]!,
                    resetMs: r[at + 2]!,
                    retryAfterMs: r[at + 3]!,
                  };
          }
          return { allowed, states };
        },
        (err: unknown) => {
          throw err instanceof StoreUnavailableError
            ? err
            : new StoreUnavailableError(`Redis consume failed: ${asError(err).message}`, { cause: err });
        },
      );
  }

  async #consumeBySlot(checks: readonly LimitCheck[]): Promise<LimitOutcome> {
    const keys = checks.map((c) => redisKey(this.#prefix, c.key));
    const now = this.#testClock ? String(this.#testClock()) : '';
    const groups = this.#cluster ? bySlot(keys) : [checks.map((_, i) => i)];
    const replies = await this.#run('consume', () =>
      Promise.all(
        groups.map(
          (g) =>
            this.#script(
              CONSUME,
              g.map((i) => keys[i]!),
              [now, ...g.flatMap((i) => checkArgs(checks[i]!))],
            ) as Promise<number[]>,
        ),
      ),
    );
    const allowed = replies.every((r) => r[0] === 1);
    const states: LimitState[] = new Array(checks.length);
    const windows: number[] = new Array(checks.length);
    groups.forEach((g, gi) => {
      const r = replies[gi]!;
      g.forEach((i, j) => {
        const at = 1 + j * FIELDS;
        const admits = r[at] === 1;
        windows[i] = r[at + 4]!;
        // Refused as a whole: a limit that would have admitted reports itself uncounted.
        states[i] =
          admits && !allowed
            ? { allowed: true, remaining: r[at + 5]!, resetMs: r[at + 6]!, retryAfterMs: 0 }
            : { allowed: admits, remaining: r[at + 1]!, resetMs: r[at + 2]!, retryAfterMs: r[at + 3]! };
      });
    });
    if (!allowed) {
      groups.forEach((g, gi) => {
        if (replies[gi]![0] === 1) this.#refund(g, checks, keys, windows, states, now);
      });
    }
    return { allowed, states };
  }

  #refund(
    group: number[],
    checks: readonly LimitCheck[],
    keys: string[],
    windows: number[],
    states: LimitState[],
    now: string,
  ): void {
    const charged = group.filter((i) => states[i]!.allowed);
    if (charged.length === 0) return;
    const refundKeys = charged.map((i) =>
      checks[i]!.kind === 'rate' ? keys[i]! : `${keys[i]}:${windows[i]}`,
    );
    const args = [now];
    for (const i of charged) {
      const c = checks[i]!;
      args.push(c.kind === 'rate' ? 'r' : 'q', String(c.kind === 'rate' ? c.cost * c.intervalMs : c.cost));
    }
    // Not awaited: the refusal stands whatever happens to the refund (see consume).
    this.#script(REFUND, refundKeys, args).catch((err: unknown) => this.#notify(this.#state, asError(err)));
  }

  async increment(key: string, ttlMs: number, by = 1): Promise<number> {
    if (!Number.isSafeInteger(by)) throw new TypeError(`increment by an integer, not ${by}`);
    const k = redisKey(this.#prefix, key);
    return Number(await this.#run('increment', () => this.#script(INCREMENT, [k], [by, px(ttlMs)])));
  }

  async count(key: string): Promise<number> {
    const value = await this.#run('count', () => this.#client.get(redisKey(this.#prefix, key)));
    return value === null ? 0 : Number(value);
  }

  async setIfAbsent(key: string, ttlMs: number): Promise<boolean> {
    const k = redisKey(this.#prefix, key);
    return (await this.#run('setIfAbsent', () => this.#client.set(k, '1', 'PX', px(ttlMs), 'NX'))) === 'OK';
  }

  /** Milliseconds until `key` expires; 0 when absent; Infinity for a key without expiry. */
  async ttl(key: string): Promise<number> {
    const ms = await this.#run('ttl', () => this.#client.pttl(redisKey(this.#prefix, key)));
    return ms === -1 ? Number.POSITIVE_INFINITY : Math.max(0, ms);
  }

  async set(key: string, ttlMs: number): Promise<void> {
    const k = redisKey(this.#prefix, key);
    await this.#run('set', () => this.#client.set(k, '1', 'PX', px(ttlMs)));
  }

  async delete(...keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    const ks = keys.map((k) => redisKey(this.#prefix, k));
    // One DEL may not span slots in a cluster; each key is its own slot there.
    await this.#run('delete', async () => {
      if (this.#cluster) await Promise.all(ks.map((k) => this.#client.del(k)));
      else await this.#client.del(...ks);
    });
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#setState('closed');
    try {
      await withDeadline(this.#client.quit(), 1000, 'quit');
    } catch {
      // Unreachable Redis: nothing to say goodbye to.
    } finally {
      this.#client.disconnect();
    }
  }

  /** EVALSHA; on NOSCRIPT (script cache emptied: restart, failover, SCRIPT FLUSH) EVAL, which caches it again. */
  async #script(script: Script, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await this.#client.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return this.#client.eval(script.lua, keys.length, ...keys, ...args);
    }
  }

  async #run<T>(what: string, op: () => Promise<T>): Promise<T> {
    if (this.#state === 'closed') throw new StoreUnavailableError('the Redis store is closed');
    try {
      // One server (single, sentinel): ioredis's own `commandTimeout` bounds each command, and
      // a second timer here cost a timer, a race and three promises per request (measured in
      // bench/traffic.ts). A cluster call may wait on slot discovery, so it keeps its deadline.
      return await (this.#cluster ? withDeadline(op(), this.#timeoutMs, what) : op());
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err;
      throw new StoreUnavailableError(`Redis ${what} failed: ${asError(err).message}`, { cause: err });
    }
  }

  #watch(): void {
    const client = this.#client;
    client.on('ready', () => {
      this.#setState('ready');
      this.#preload();
    });
    // A listener on 'error' is what keeps ioredis from printing or throwing it.
    client.on('error', (err: Error) => this.#setState('unavailable', err));
    if (this.#cluster) client.on('node error', () => {});
    client.on('close', () => this.#setState('unavailable'));
    client.on('reconnecting', () => this.#setState('unavailable'));
    client.on('end', () => this.#setState(this.#state === 'closed' ? 'closed' : 'unavailable'));
  }

  /**
   * Report a change of state, or a new reason for the current one. ioredis repeats the same
   * error at every reconnect attempt (each second during an outage): reported once.
   */
  #setState(state: RedisStoreState, error?: Error): void {
    if (this.#state === 'closed') return;
    const reason = error?.message;
    if (state === this.#state && (reason === undefined || reason === this.#lastReason)) return;
    if (state === 'ready') this.#lastReason = undefined;
    else if (reason !== undefined) this.#lastReason = reason;
    this.#state = state;
    this.#notify(state, error);
  }

  #notify(state: RedisStoreState, error?: Error): void {
    try {
      this.#onStateChange?.(state, error);
    } catch {
      // A logging callback must not break the client's event handling.
    }
  }

  /** SCRIPT LOAD on (re)connect, on every master, so the first requests are already one EVALSHA. */
  #preload(): void {
    const targets: (Redis | Cluster)[] = this.#cluster
      ? (this.#client as Cluster).nodes('master')
      : [this.#client];
    for (const node of targets) {
      for (const s of [CONSUME, REFUND, INCREMENT]) {
        (node as Redis).script('LOAD', s.lua).catch(() => {
          // The NOSCRIPT path loads it on first use.
        });
      }
    }
  }
}

/** The consume script's five ARGV fields of one check (see CONSUME_LUA). */
/** The five script arguments of a check, written into `argv` at `at` (no array per check). */
function writeCheckArgs(c: LimitCheck, argv: (string | number)[], at: number): void {
  if (c.kind === 'rate') {
    argv[at] = 'r';
    argv[at + 1] = String(c.intervalMs);
    argv[at + 2] = String(c.burst);
  } else {
    argv[at] = 'q';
    argv[at + 1] = c.period;
    argv[at + 2] = String(c.limit);
  }
  argv[at + 3] = String(c.cost);
  argv[at + 4] = c.enforce ? '1' : '0';
}

function checkArgs(c: LimitCheck): (string | number)[] {
  const args: (string | number)[] = new Array(5);
  writeCheckArgs(c, args, 0);
  return args;
}

function bySlot(keys: string[]): number[][] {
  const groups = new Map<number, number[]>();
  keys.forEach((k, i) => {
    const slot = slotOf(k);
    const g = groups.get(slot);
    if (g) g.push(i);
    else groups.set(slot, [i]);
  });
  return [...groups.values()];
}

/** PX takes a positive integer; a TTL of 0 or less expires at once, as in MemoryStore (1 ms here). */
function px(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs));
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StoreUnavailableError(`Redis did not answer ${what} within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export function createRedisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStore(options);
}
