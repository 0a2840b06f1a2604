import type { Gateway } from '../config/gateway.ts';
import type { StoreSpec } from '../config/store-spec.ts';
import type { Logger } from '../observe/logger.ts';
import type { StateStore } from '../store/store.ts';

interface Entry {
  readonly store: StateStore;
  readonly users: Set<Gateway>;
}

/**
 * The server's state stores, shared by the gateways compiled from configs with the same
 * `store:` section. A reload that keeps the section keeps the store, and with it every counter,
 * replay guard and lockout. One that changes it gets a new store, and the old one closes when
 * the last gateway using it has drained. A store made for a compile that failed is closed at once.
 */
export class StoreKeeper {
  readonly #entries = new Map<string, Entry>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  storeFor(spec: StoreSpec): StateStore {
    const found = this.#entries.get(spec.fingerprint);
    if (found !== undefined) return found.store;
    const store = spec.create((state, error) => {
      if (state === 'ready') this.#log.info({ store: spec.type }, 'state store connected');
      else if (state === 'unavailable')
        this.#log.warn(
          { store: spec.type, err: error?.message },
          'state store unavailable: limits apply their onStoreFailure mode until it returns',
        );
    });
    this.#entries.set(spec.fingerprint, { store, users: new Set() });
    return store;
  }

  /** `gateway` compiled and uses its store until `release`. */
  adopt(gateway: Gateway): void {
    for (const entry of this.#entries.values()) if (entry.store === gateway.store) entry.users.add(gateway);
  }

  /** `gateway` is closed: close its store if no other gateway uses it. */
  release(gateway: Gateway): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const [key, entry] of this.#entries) {
      entry.users.delete(gateway);
      if (entry.users.size === 0) {
        this.#entries.delete(key);
        closing.push(entry.store.close());
      }
    }
    return Promise.all(closing).then(() => undefined);
  }

  /** A compile failed: close the stores no gateway adopted. */
  discard(): void {
    for (const [key, entry] of this.#entries) {
      if (entry.users.size > 0) continue;
      this.#entries.delete(key);
      void entry.store.close();
    }
  }

  async close(): Promise<void> {
    const all = [...this.#entries.values()].map((e) => e.store.close());
    this.#entries.clear();
    await Promise.all(all);
  }
}
