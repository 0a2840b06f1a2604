import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

const destinations = new Map<string, DestinationStream & { flushSync?: () => void }>();

/**
 * Log destinations are shared by name across reloads, so a reload never reopens (or loses
 * lines on) a file. Writes are asynchronous (sonic-boom) to keep logging off the hot path;
 * `flushLogs` runs on shutdown.
 */
export function destination(name: string): DestinationStream {
  let dest = destinations.get(name);
  if (!dest) {
    const fd = name === 'stdout' ? 1 : name === 'stderr' ? 2 : name;
    dest = pino.destination({ dest: fd, sync: false, mkdir: typeof fd === 'string' });
    destinations.set(name, dest);
  }
  return dest;
}

export function flushLogs(): void {
  for (const dest of destinations.values()) {
    try {
      dest.flushSync?.();
    } catch {
      // The destination may already be closed (EPIPE on a closed stdout); nothing to save.
    }
  }
}

/** The gateway's own log: lifecycle, reloads, errors. Goes to stderr; access log is separate. */
export function createGatewayLogger(level: string): Logger {
  return pino(
    { level, base: { log: 'gateway' }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: 2, sync: true }),
  );
}

export function createAccessLogger(dest: string): Logger {
  return pino({ base: null, timestamp: pino.stdTimeFunctions.isoTime, messageKey: 'msg' }, destination(dest));
}
