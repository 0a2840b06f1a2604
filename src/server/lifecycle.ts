import { type FSWatcher, watch } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname } from 'node:path';
import type { Server as TlsServer } from 'node:tls';
import { isDeepStrictEqual } from 'node:util';
import { compileGateway } from '../config/compile.ts';
import type { Gateway } from '../config/gateway.ts';
import { parseDuration } from '../config/units.ts';
import { RampartError } from '../core/errors.ts';
import { flushLogs, type Logger } from '../observe/logger.ts';
import { AuditKeeper } from './audit-keeper.ts';
import { createListener, type GatewayHolder, secureContextOptions } from './listener.ts';
import { StoreKeeper } from './store-keeper.ts';

export interface ReloadResult {
  readonly ok: boolean;
  readonly version: string;
  readonly error?: RampartError | Error;
}

export interface RunningGateway {
  readonly holder: GatewayHolder;
  /** Bound addresses, in listener order (`http://127.0.0.1:8080`). */
  readonly urls: readonly string[];
  /**
   * Compile the config again; swap on success, keep serving the old one on failure. `actor`
   * is who asked, for the audit trail (`signal:SIGHUP`, `watch`, `token:<id>`).
   */
  reload(actor?: string): Promise<ReloadResult>;
  /** Stop accepting, let in-flight requests finish within the drain timeout, then close. */
  shutdown(): Promise<void>;
}

/** Compile the config, bind every listener, and serve. Throws RampartError on a bad config. */
export interface StartOptions {
  /** The log level was fixed on the command line: a reload does not change it. */
  readonly fixedLogLevel?: boolean;
  /** Who started the gateway, for the audit trail (`cli:<user>`). */
  readonly actor?: string;
}

export async function startGateway(
  configFile: string,
  log: Logger,
  options: StartOptions = {},
): Promise<RunningGateway> {
  let draining = false;
  // One store while the config's `store:` section stays the same: counters, replay guards
  // and lockouts survive reloads.
  const stores = new StoreKeeper(log);
  const audits = new AuditKeeper(log);
  const compile = (): Gateway => {
    try {
      const gateway = compileGateway(configFile, {
        draining: () => draining,
        storeFor: (spec) => stores.storeFor(spec),
      });
      stores.adopt(gateway);
      return gateway;
    } catch (err) {
      stores.discard();
      throw err;
    }
  };
  let first: Gateway;
  try {
    first = compile();
  } catch (err) {
    await stores.close();
    throw err;
  }
  const holder: GatewayHolder = {
    current: first,
    inflight: new Map([[first, 0]]),
    onIdle(gateway) {
      holder.inflight.delete(gateway);
      void gateway.close().then(() => stores.release(gateway));
    },
  };
  try {
    audits.record(first, {
      actor: options.actor ?? 'gateway',
      action: 'config.start',
      target: first.configFile,
      before: null,
      after: `version:${first.version}`,
      diff: { files: first.files.length, operations: first.operations.length },
    });
  } catch (err) {
    await first.close();
    await stores.close();
    throw new RampartError(
      'RAMPART_ERR_CONFIG_FILE',
      `the audit trail cannot be written: ${(err as Error).message}`,
    );
  }
  await waitForStore(
    first,
    log,
    'state store not reachable at start: serving, with each limit applying its onStoreFailure mode until it is',
  );
  const servers: Server[] = [];
  try {
    for (const spec of first.listener.listeners) {
      const server = createListener(spec, first.listener, holder);
      await listen(server, spec.host, spec.port);
      servers.push(server);
    }
  } catch (err) {
    for (const s of servers) s.close();
    await first.close();
    await stores.close();
    throw new RampartError('RAMPART_ERR_LISTEN', `cannot listen: ${(err as Error).message}`);
  }
  const urls = servers.map((s, i) => {
    const a = s.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `${first.listener.listeners[i]!.tls ? 'https' : 'http'}://${host}:${a.port}`;
  });

  first.start();
  let watcher: Watcher | null = null;
  /** Watch what `gateway` was compiled from when its config asks for it; stop watching otherwise. */
  const syncWatcher = (gateway: Gateway): void => {
    if (!gateway.config.server.watch) {
      watcher?.close();
      watcher = null;
    } else if (watcher) watcher.update(gateway.files);
    else watcher = new Watcher(gateway.files, () => void running.reload('watch'));
  };
  let reloading: Promise<ReloadResult> = Promise.resolve({ ok: true, version: first.version });

  const doReload = async (actor: string): Promise<ReloadResult> => {
    const old = holder.current;
    let next: Gateway;
    try {
      next = compile();
    } catch (err) {
      log.error(
        { err: errorText(err), version: old.version },
        'reload refused: the running config keeps serving',
      );
      return { ok: false, version: old.version, error: err as Error };
    }
    if (
      !isDeepStrictEqual(next.config.server.listen, old.config.server.listen) ||
      !isDeepStrictEqual(next.config.server.limits.maxHeaderSize, old.config.server.limits.maxHeaderSize)
    ) {
      await next.close();
      await stores.release(next);
      const error = new RampartError(
        'RAMPART_ERR_RELOAD_LISTENER',
        'listener address, port, TLS or maxHeaderSize changed: restart to apply',
      );
      log.error(
        { err: error.format(), version: old.version },
        'reload refused: the running config keeps serving',
      );
      return { ok: false, version: old.version, error };
    }
    servers.forEach((server, i) => {
      server.headersTimeout = next.listener.headersTimeout;
      server.requestTimeout = next.listener.requestTimeout;
      server.keepAliveTimeout = next.listener.keepAliveTimeout;
      server.maxHeadersCount = next.listener.limits.maxHeaderCount + 1;
      // Certificate rotation: the same paths with new contents apply to new handshakes.
      const tls = next.listener.listeners[i]!.tls;
      const before = old.listener.listeners[i]!.tls;
      if (
        tls &&
        before &&
        (!tls.cert.equals(before.cert) ||
          tls.key.reveal() !== before.key.reveal() ||
          !(tls.clientAuth?.ca ?? Buffer.alloc(0)).equals(before.clientAuth?.ca ?? Buffer.alloc(0)))
      ) {
        (server as unknown as TlsServer).setSecureContext(secureContextOptions(tls));
        log.info({ listener: urls[i] }, 'TLS certificate reloaded');
      }
    });
    // A new store section: let it connect before it takes traffic (bounded, as at start).
    if (next.store !== old.store) await waitForStore(next, log, 'new state store not reachable yet');
    // Recorded, durably, before the new config takes traffic: a reload that cannot be audited
    // does not happen.
    try {
      audits.record(next, {
        actor,
        action: 'config.reload',
        target: next.configFile,
        before: `version:${old.version}`,
        after: `version:${next.version}`,
        diff: { files: next.files.length, operations: next.operations.length },
      });
    } catch (err) {
      await next.close();
      await stores.release(next);
      log.error(
        { err: (err as Error).message, version: old.version },
        'reload refused: the audit trail cannot be written',
      );
      return { ok: false, version: old.version, error: err as Error };
    }
    if (!options.fixedLogLevel) log.level = next.config.log.level;
    next.start();
    holder.inflight.set(next, 0);
    holder.current = next;
    if ((holder.inflight.get(old) ?? 0) === 0) holder.onIdle(old);
    syncWatcher(next);
    log.info(
      { version: next.version, previous: old.version, operations: next.operations.length },
      'config reloaded',
    );
    return { ok: true, version: next.version };
  };

  const running: RunningGateway = {
    holder,
    urls,
    reload(actor = 'gateway') {
      // Reloads are serialized: a burst of SIGHUPs or file events compiles one after another.
      const run = () => doReload(actor);
      reloading = reloading.then(run, run);
      return reloading;
    },
    async shutdown() {
      draining = true;
      watcher?.close();
      for (const s of servers) s.close();
      const deadline = Date.now() + holder.current.listener.drainTimeout;
      while (Date.now() < deadline && [...holder.inflight.values()].some((n) => n > 0)) {
        for (const s of servers) s.closeIdleConnections();
        await new Promise((r) => setTimeout(r, 25));
      }
      const left = [...holder.inflight.values()].reduce((a, b) => a + b, 0);
      if (left > 0)
        log.warn({ inflight: left }, 'drain timeout: closing connections with requests in flight');
      for (const s of servers) s.closeAllConnections();
      // Pools finish their own in-flight calls on close; past the drain deadline, stop waiting.
      const closing = Promise.all([...holder.inflight.keys()].map((g) => g.close()));
      const remaining = Math.max(0, deadline - Date.now());
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        closing,
        new Promise((r) => {
          timer = setTimeout(r, remaining);
        }),
      ]);
      clearTimeout(timer);
      await stores.close();
      await flushLogs();
    },
  };
  syncWatcher(first);
  return running;
}

/**
 * Wait (at most twice the connect timeout) for a gateway's store to answer, so its first
 * requests are not refused by a store still connecting; past that, serve and say so.
 */
async function waitForStore(gateway: Gateway, log: Logger, unreachable: string): Promise<void> {
  const redis = gateway.config.store.redis;
  if (gateway.store.waitReady === undefined || redis === undefined) return;
  try {
    await gateway.store.waitReady(2 * parseDuration(redis.connectTimeout));
  } catch (err) {
    log.warn({ err: (err as Error).message }, unreachable);
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export function errorText(err: unknown): string {
  if (err instanceof RampartError) return err.format();
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

/** Watches the config and the documents it references; debounced so an editor's save is one reload. */
class Watcher {
  #watchers: FSWatcher[] = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #onChange: () => void;

  constructor(files: readonly string[], onChange: () => void) {
    this.#onChange = onChange;
    this.update(files);
  }

  /** Watch the folders, not the files: editors save by rename, which ends a file watch. */
  update(files: readonly string[]): void {
    this.close();
    const byDir = new Map<string, Set<string>>();
    for (const f of files) {
      const names = byDir.get(dirname(f)) ?? new Set<string>();
      names.add(basename(f));
      byDir.set(dirname(f), names);
    }
    this.#watchers = [...byDir].map(([dir, names]) =>
      watch(dir, { persistent: false }, (_event, name) => {
        if (name !== null && !names.has(String(name))) return;
        clearTimeout(this.#timer);
        this.#timer = setTimeout(this.#onChange, 200);
      }),
    );
  }

  close(): void {
    for (const w of this.#watchers) w.close();
    this.#watchers = [];
  }
}
