import type { LoadJob, LoadResult } from './load.ts';
import type { Child } from './procs.ts';

/** Talks to the load generator process: one job at a time. */
export class LoadDriver {
  readonly #child: Child;

  constructor(child: Child) {
    this.#child = child;
  }

  run(job: LoadJob): Promise<LoadResult> {
    const proc = this.#child.proc;
    return new Promise((resolve, reject) => {
      const onMessage = (m: LoadResult | { type: 'error'; message: string }) => {
        cleanup();
        if (m.type === 'result') resolve(m);
        else reject(new Error(`load generator: ${m.message}`));
      };
      const onExit = () => {
        cleanup();
        reject(new Error(`load generator exited\n${this.#child.stderrTail()}`));
      };
      const cleanup = () => {
        proc.off('message', onMessage);
        proc.off('exit', onExit);
      };
      if (!proc.connected) {
        reject(new Error(`load generator is gone\n${this.#child.stderrTail()}`));
        return;
      }
      proc.on('message', onMessage);
      proc.once('exit', onExit);
      proc.send(job, (err) => {
        if (err === null) return;
        cleanup();
        reject(err);
      });
    });
  }
}
