import type { SecurityEvent } from './event.ts';

/** A consumer of security events (the webhook sink; the admin API's event stream later). */
export interface EventSink {
  readonly name: string;
  /** Take one event; never blocks and never throws (a full queue drops and counts). */
  offer(event: SecurityEvent): void;
  /** Deliver what is queued, within `timeoutMs`; then stop. */
  close(timeoutMs: number): Promise<void>;
  stats(): SinkStats;
}

export interface SinkStats {
  readonly delivered: number;
  readonly dropped: number;
  readonly queued: number;
  readonly failures: number;
}

/**
 * The in-process security-event bus: `publish` hands each event to every sink, each with its
 * own bounded queue, so a slow or dead sink costs the request path one array push and never a
 * wait. What a full queue cannot take is dropped and counted (SinkStats.dropped).
 */
export class EventBus {
  readonly #sinks: readonly EventSink[];

  constructor(sinks: readonly EventSink[]) {
    this.#sinks = sinks;
  }

  get size(): number {
    return this.#sinks.length;
  }

  publish(events: readonly SecurityEvent[]): void {
    for (let i = 0; i < events.length; i++) {
      for (let j = 0; j < this.#sinks.length; j++) this.#sinks[j]!.offer(events[i]!);
    }
  }

  stats(): Record<string, SinkStats> {
    return Object.fromEntries(this.#sinks.map((s) => [s.name, s.stats()]));
  }

  async close(timeoutMs: number): Promise<void> {
    await Promise.all(this.#sinks.map((s) => s.close(timeoutMs)));
  }
}
