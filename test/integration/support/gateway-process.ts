import { type ChildProcess, spawn } from 'node:child_process';
import { waitFor } from './wait-for.ts';

/** The CLI as a user runs it (sources under type stripping), from the repo root. */
export const CLI = ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'src/cli/main.ts'];

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Date.now() when the process exited. */
  readonly at: number;
}

export interface GatewayProcess {
  readonly child: ChildProcess;
  /** The first listener's URL, parsed from the start banner. */
  readonly url: string;
  readonly port: number;
  /** Everything written to stderr so far (gateway log and banner). */
  stderr(): string;
  readonly exited: Promise<Exit>;
  /** SIGKILL the process if it is still running (by its own pid). */
  kill(): Promise<void>;
}

/**
 * Spawn `rampart start <configFile>` and wait until it says where it listens. Fails (and kills
 * the child) when it exits or stays silent instead.
 */
export async function startGatewayProcess(configFile: string, timeoutMs = 20_000): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [...CLI, 'start', configFile], {
    cwd: new URL('../../../', import.meta.url).pathname,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    err += chunk;
  });
  let exit: Exit | null = null;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal, at: Date.now() };
      resolve(exit);
    });
  });
  const kill = async () => {
    if (exit === null && child.pid !== undefined) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  try {
    // Stop polling as soon as the process is gone: the banner will never come.
    const url = await waitFor(
      'the gateway to listen',
      () =>
        /Rampart is serving \d+ operation\(s\) on (http:\/\/\S+)/.exec(err)?.[1] ?? (exit ? 'exited' : ''),
      { timeoutMs, intervalMs: 50 },
    );
    if (url === 'exited') throw new Error(`gateway exited (code ${exit!.code}) before listening`);
    return { child, url, port: Number(new URL(url).port), stderr: () => err, exited, kill };
  } catch (error) {
    await kill();
    throw new Error(`${(error as Error).message}\nstderr:\n${err}`);
  }
}
