import { compileGateway } from '../config/compile.ts';
import { formatLocation, RampartError } from '../core/errors.ts';
import { createGatewayLogger, setProcessLog } from '../observe/logger.ts';
import { cliActor } from './actor.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug'];

import { errorText, startGateway } from '../server/lifecycle.ts';
import { type Command, EXIT } from './args.ts';

export const startCommand: Command = {
  name: 'start',
  summary: 'Serve the gateway from a config file',
  usage: `Usage: rampart start [config]

Serve the APIs of <config> (default: rampart.yaml). The config is validated and compiled
before anything listens; a bad config exits with code 2 and says where it is wrong.

Signals: SIGHUP reloads the config (a failed reload keeps the running one), SIGTERM and
SIGINT drain in-flight requests (server.drainTimeout) and exit.

Options:
  --log-level <level>  gateway log level: fatal, error, warn, info, debug
  -h, --help           show this help`,
  options: { 'log-level': { type: 'string' } },
  async run(values, positionals) {
    const file = positionals[0] ?? 'rampart.yaml';
    const level = typeof values['log-level'] === 'string' ? values['log-level'] : undefined;
    if (level !== undefined && !LOG_LEVELS.includes(level)) {
      throw new RampartError('RAMPART_ERR_CLI_USAGE', `--log-level must be one of: ${LOG_LEVELS.join(', ')}`);
    }
    // Compile once up front to know the configured log level (and fail before binding anything).
    const probe = compileGateway(file, { openLogs: false });
    await probe.close();
    const log = createGatewayLogger(level ?? probe.config.log.level);
    setProcessLog(log);
    for (const f of probe.findings) {
      log.warn({ finding: f.id, severity: f.severity, at: formatLocation(f.location) }, f.message);
    }
    const running = await startGateway(file, log, { fixedLogLevel: level !== undefined, actor: cliActor() });
    const gateway = running.holder.current;
    log.info(
      { version: gateway.version, urls: running.urls, operations: gateway.operations.length },
      'rampart listening',
    );
    process.stderr.write(
      tryMessage(
        running.urls[0]!,
        gateway.operations.map((o) => `${o.method} ${o.route}`),
      ),
    );
    process.on('SIGHUP', () => void running.reload('signal:SIGHUP'));
    return new Promise<number>((resolve) => {
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'draining');
        running.shutdown().then(
          () => {
            log.info('stopped');
            resolve(EXIT.ok);
          },
          (err: unknown) => {
            log.error({ err: errorText(err) }, 'shutdown failed');
            resolve(EXIT.failure);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
  },
};

function tryMessage(url: string, routes: string[]): string {
  const gets = routes.filter((r) => r.startsWith('GET ') && !r.includes('{')).slice(0, 3);
  const lines = gets.map((r) => `  curl -i ${url}${r.slice(4)}`);
  return `\nRampart is serving ${routes.length} operation(s) on ${url}\n${lines.length ? `Try:\n${lines.join('\n')}\n` : ''}Stop with Ctrl-C; reload the config with: kill -HUP ${process.pid}\n\n`;
}
