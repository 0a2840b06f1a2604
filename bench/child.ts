/** The small protocol between the bench and the servers it starts (bench/run.ts, procs.ts). */

export interface ReadyMessage {
  readonly type: 'ready';
  readonly port: number;
}

/** Tell the bench this server listens on 127.0.0.1:<port>. */
export function ready(port: number): void {
  const message: ReadyMessage = { type: 'ready', port };
  process.send?.(message);
}

/** Run `stop` on SIGTERM/SIGINT, then exit (a Ctrl-C reaches the whole process group). */
export function onStop(stop: () => void): void {
  let stopping = false;
  const handler = () => {
    if (stopping) return;
    stopping = true;
    stop();
    // Exit explicitly so a --cpu-prof profile is written and no idle socket keeps us alive.
    setImmediate(() => process.exit(0));
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
