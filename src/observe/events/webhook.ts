import { createHmac, randomUUID } from 'node:crypto';
import { request } from 'undici';
import { scrub } from '../scrub.ts';
import type { EventSink, SinkStats } from './bus.ts';
import type { SecurityEvent } from './event.ts';

export interface WebhookOptions {
  readonly name: string;
  readonly url: string;
  /** HMAC-SHA-256 key for `x-rampart-signature: sha256=<hex>` over the body. */
  readonly secret?: string;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly maxQueue: number;
  readonly timeoutMs: number;
  /** Attempts per batch before it is dropped (and counted). */
  readonly maxAttempts: number;
  /** First retry delay; doubles per attempt up to `maxBackoffMs`, with ±20% jitter. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Only events of these stages (all when absent). */
  readonly stages?: ReadonlySet<string>;
  /** Called on a failed attempt and on drops (the gateway log). Never throws. */
  readonly onTrouble?: (what: string, fields: Record<string, unknown>) => void;
}

/**
 * Posts security events to an HTTP endpoint in batches (`{"events":[…]}`), in order, one
 * request at a time. A failed batch (network error, timeout, non-2xx) is retried with
 * exponential backoff and jitter, keeping its `x-rampart-delivery` id so the receiver can
 * drop duplicates; after `maxAttempts` it is dropped and counted. The queue is bounded: past
 * `maxQueue` new events are dropped and counted, so a dead receiver costs memory that is
 * capped and the request path nothing but an array push.
 */
export class WebhookSink implements EventSink {
  readonly name: string;
  readonly #o: WebhookOptions;
  #queue: SecurityEvent[] = [];
  #inflight: { events: SecurityEvent[]; id: string; attempts: number } | null = null;
  #timer: NodeJS.Timeout | null = null;
  #sending = false;
  /** A failed batch waits for its backoff: new events must not cut the wait short. */
  #retrying = false;
  #closed = false;
  #delivered = 0;
  #dropped = 0;
  #failures = 0;
  #lastDropReport = 0;
  #idle: (() => void) | null = null;

  constructor(options: WebhookOptions) {
    this.name = options.name;
    this.#o = options;
  }

  offer(event: SecurityEvent): void {
    if (this.#closed) return;
    if (this.#o.stages !== undefined && !this.#o.stages.has(event.stage)) return;
    // The batch being delivered counts too: `maxQueue` bounds every event held.
    if (this.#queue.length + (this.#inflight?.events.length ?? 0) >= this.#o.maxQueue) {
      this.#dropped++;
      const now = Date.now();
      if (now - this.#lastDropReport > 10_000) {
        this.#lastDropReport = now;
        this.#o.onTrouble?.('security events dropped: the webhook queue is full', {
          sink: this.name,
          dropped: this.#dropped,
        });
      }
      return;
    }
    this.#queue.push(event);
    if (this.#queue.length >= this.#o.batchSize) this.#kick(0);
    else this.#kick(this.#o.flushIntervalMs);
  }

  stats(): SinkStats {
    return {
      delivered: this.#delivered,
      dropped: this.#dropped,
      queued: this.#queue.length + (this.#inflight?.events.length ?? 0),
      failures: this.#failures,
    };
  }

  /** Deliver what is queued (retrying as usual) for at most `timeoutMs`, then stop. */
  async close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    const done = new Promise<void>((resolve) => {
      this.#idle = resolve;
    });
    if (this.stats().queued === 0 && !this.#sending) this.#idle?.();
    else this.#kick(0);
    // (a batch in backoff keeps its wait; close gives it until the timeout)
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#retrying = false;
    const lost = this.stats().queued;
    if (lost > 0) {
      this.#dropped += lost;
      this.#queue = [];
      this.#inflight = null;
      this.#o.onTrouble?.('security events dropped at shutdown: the webhook did not take them in time', {
        sink: this.name,
        dropped: lost,
      });
    }
  }

  #kick(delayMs: number): void {
    if (this.#sending || this.#retrying) return;
    if (this.#timer !== null) {
      if (delayMs > 0) return;
      clearTimeout(this.#timer);
    }
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#send();
    }, delayMs);
    this.#timer.unref();
  }

  async #send(): Promise<void> {
    if (this.#sending) return;
    if (this.#inflight === null) {
      if (this.#queue.length === 0) {
        this.#idle?.();
        return;
      }
      this.#inflight = { events: this.#queue.splice(0, this.#o.batchSize), id: randomUUID(), attempts: 0 };
    }
    const batch = this.#inflight;
    this.#sending = true;
    batch.attempts++;
    let ok = false;
    let why = '';
    try {
      const body = scrub(JSON.stringify({ events: batch.events }));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-rampart-delivery': batch.id,
        'user-agent': 'rampart-security-events',
      };
      if (this.#o.secret !== undefined) {
        headers['x-rampart-signature'] =
          `sha256=${createHmac('sha256', this.#o.secret).update(body).digest('hex')}`;
      }
      const res = await request(this.#o.url, {
        method: 'POST',
        body,
        headers,
        headersTimeout: this.#o.timeoutMs,
        bodyTimeout: this.#o.timeoutMs,
      });
      await res.body.dump();
      ok = res.statusCode >= 200 && res.statusCode < 300;
      if (!ok) why = `HTTP ${res.statusCode}`;
    } catch (err) {
      why = (err as Error).message;
    }
    this.#sending = false;
    if (ok) {
      this.#delivered += batch.events.length;
      this.#inflight = null;
      this.#kick(this.#queue.length >= this.#o.batchSize || this.#closed ? 0 : this.#o.flushIntervalMs);
      if (this.#queue.length === 0) this.#idle?.();
      return;
    }
    this.#failures++;
    if (batch.attempts >= this.#o.maxAttempts) {
      this.#dropped += batch.events.length;
      this.#inflight = null;
      this.#o.onTrouble?.('security events dropped: the webhook refused the batch too many times', {
        sink: this.name,
        dropped: batch.events.length,
        attempts: batch.attempts,
        error: why,
      });
      this.#kick(0);
      return;
    }
    this.#o.onTrouble?.('security event delivery failed; retrying', {
      sink: this.name,
      attempt: batch.attempts,
      error: why,
    });
    const base = Math.min(
      this.#o.maxBackoffMs ?? 30_000,
      (this.#o.backoffMs ?? 200) * 2 ** (batch.attempts - 1),
    );
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.#retrying = true;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#retrying = false;
      void this.#send();
    }, delay);
    this.#timer.unref();
  }
}
