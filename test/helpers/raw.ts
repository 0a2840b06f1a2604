import { connect } from 'node:net';

export interface RawResponse {
  /** Everything the server sent before closing (or before the timeout). */
  readonly text: string;
  /** Status code of the first response, or 0 when none arrived. */
  readonly status: number;
  /** True when the server closed the connection (rather than the timeout firing). */
  readonly closed: boolean;
}

/**
 * Send bytes exactly as given over a raw TCP socket (for attacks an HTTP client would refuse
 * to produce) and collect the reply until the server closes or `timeoutMs` passes.
 */
export function rawRequest(port: number, payload: string | Buffer, timeoutMs = 3000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ text, status: m ? Number(m[1]) : 0, closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', (err) => {
      if (chunks.length > 0) finish(true);
      else if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(err);
      }
    });
    socket.write(payload);
  });
}
