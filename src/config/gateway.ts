import type { SourceLocation } from '../core/errors.ts';
import type { OperationInfo } from '../core/operation.ts';
import type { Pipeline } from '../core/pipeline.ts';
import type { AccessLog } from '../observe/access-log.ts';
import type { AuditSettings } from '../observe/audit/settings.ts';
import type { EventBus } from '../observe/events/bus.ts';
import type { ListenerRuntime } from '../server/listener.ts';
import type { RouteTable } from '../stages/route/stage.ts';
import type { StateStore } from '../store/store.ts';
import type { Config } from './schema.ts';

/** A finding of `rampart check`: not an error, but something an operator should look at. */
export interface Finding {
  readonly id: string;
  readonly severity: 'critical' | 'high' | 'medium' | 'low';
  readonly message: string;
  readonly location: SourceLocation;
}

/**
 * The compiled, immutable gateway: what a config becomes. A reload compiles a new one and
 * swaps it in; requests keep the one they started with until they end.
 */
export interface Gateway {
  /** Short content hash of the config and every file it references. */
  readonly version: string;
  readonly configFile: string;
  /** Every file this gateway was compiled from (watched when `server.watch` is on). */
  readonly files: readonly string[];
  readonly config: Readonly<Config>;
  readonly listener: ListenerRuntime;
  /** The entry chain: listener, client, route (+ the response and log stages for unrouted requests). */
  readonly entry: Pipeline;
  readonly operations: readonly OperationInfo[];
  /** Host + method + path → operation, as the `route` stage matches (used by `rampart authz test`). */
  readonly routes: RouteTable;
  readonly findings: readonly Finding[];
  readonly accessLog: AccessLog | null;
  /** The security-event sinks (webhooks), or null when none are configured. */
  readonly events: EventBus | null;
  /** Where configuration changes are recorded (`audit.file`), or null. */
  readonly audit: AuditSettings | null;
  /** The state store (counters, replay guards, lockouts) this gateway's stages use. */
  readonly store: StateStore;
  /** Start background work: key set refreshes, key store watching. `check` never calls it. */
  start(): void;
  /** Close upstream pools once no request uses this gateway any more. */
  close(): Promise<void>;
}
