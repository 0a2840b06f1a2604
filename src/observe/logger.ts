import pino, { type DestinationStream, type Logger } from 'pino';
import { scrub } from './scrub.ts';

export type { Logger };

type Destination = DestinationStream & { flush?: (cb?: (err?: Error) => void) => void };

const destinations = new Map<string, Destination>();

/** How much a destination buffers before writing, and how long a line may wait at most. */
const BUFFER_BYTES = 8 * 1024;
const FLUSH_MS = 200;

/**
 * Log destinations are shared by name across reloads, so a reload never reopens (or loses
 * lines on) a file. Writes are asynchronous and buffered (sonic-boom `minLength`) to keep
 * logging off the hot path: one write per 8 KiB instead of one per line. A timer flushes
 * what is buffered every 200 ms, and `flushLogs` runs on shutdown.
 */
export function destination(name: string): Destination {
  let dest = destinations.get(name);
  if (!dest) {
    const fd = name === 'stdout' ? 1 : name === 'stderr' ? 2 : name;
    const created: Destination = pino.destination({
      dest: fd,
      sync: false,
      mkdir: typeof fd === 'string',
      minLength: BUFFER_BYTES,
    });
    setInterval(() => {
      try {
        created.flush?.();
      } catch {
        // flush throws while the destination is still opening; the next tick retries.
      }
    }, FLUSH_MS).unref();
    destinations.set(name, created);
    dest = created;
  }
  return dest;
}

/**
 * Write out everything buffered and wait until it is on disk (bounded by `timeoutMs`). A
 * synchronous flush is not enough: a write already handed to libuv's thread pool would still
 * be in flight, and an exit right after it would drop those lines.
 */
export async function flushLogs(timeoutMs = 2000): Promise<void> {
  await Promise.all(
    [...destinations.values()].map(
      (dest) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          const done = () => {
            clearTimeout(timer);
            resolve();
          };
          try {
            // The callback runs once the destination drained (an fsync error on a pipe is fine).
            dest.flush?.(done);
          } catch {
            done(); // destroyed, or never opened: nothing buffered to save
          }
        }),
    ),
  );
}

/** The gateway's own log: lifecycle, reloads, errors. Goes to stderr; access log is separate. */
export function createGatewayLogger(level: string): Logger {
  const out = pino.destination({ dest: 2, sync: true });
  // The same scrubber as the access log: an error message quoting a request must not carry
  // its token, key, email or card number to the operator's log.
  const scrubbed = { write: (line: string) => out.write(scrub(line)) };
  return pino({ level, base: { log: 'gateway' }, timestamp: pino.stdTimeFunctions.isoTime }, scrubbed);
}

let processLog: Logger | null = null;

/** The gateway log that internal errors go to (set by `start`; tests may leave it unset). */
export function setProcessLog(logger: Logger): void {
  processLog = logger;
}

/**
 * A bug surfaced while serving a request (a stage threw, the log stage failed). The client got
 * a generic 500 or nothing; the operator gets the stack here, with the request id to find it.
 */
export function reportInternalError(err: unknown, requestId: string, where: string): void {
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  if (processLog) processLog.error({ err: text, reqId: requestId, where }, 'internal error');
  else process.stderr.write(scrub(`internal error in ${where} (request ${requestId}): ${text}\n`));
}

/**
 * A dependency of the gateway failed in the background (a JWKS refresh, a key store re-read):
 * not a bug, but the operator must know, as requests may be refused because of it.
 */
export function reportDependencyError(err: unknown, what: string): void {
  const text = err instanceof Error ? err.message : String(err);
  if (processLog) processLog.warn({ err: text, what }, 'dependency failure');
  else process.stderr.write(`dependency failure: ${what}: ${text}\n`);
}

/**
 * A state change of the gateway the operator must see (a circuit breaker opening), at warn,
 * under a stable event name: `{"event":"circuit_state_changed","upstream":...}`. Until the
 * security-event bus exists, this is where such events go.
 */
export function reportGatewayEvent(event: string, fields: Record<string, unknown>): void {
  if (processLog) processLog.warn({ event, ...fields }, event);
  else process.stderr.write(`${event}: ${JSON.stringify(fields)}\n`);
}
