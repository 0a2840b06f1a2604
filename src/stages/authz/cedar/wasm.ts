import { createRequire } from 'node:module';

/** The Cedar engine (`@cedar-policy/cedar-wasm`, its Node.js build): loaded on first use. */
export type CedarWasm = typeof import('@cedar-policy/cedar-wasm/nodejs');
export type {
  AuthorizationAnswer,
  Context,
  DetailedError,
  EntityJson,
  EntityUid,
  PolicyJson,
  SchemaJson,
  Type as CedarType,
} from '@cedar-policy/cedar-wasm/nodejs';

let engine: CedarWasm | null = null;

/**
 * The WebAssembly module is 4 MB and takes tens of milliseconds to instantiate: only configs
 * that use Cedar pay for it, and only once per process (reloads share it).
 */
export function cedar(): CedarWasm {
  engine ??= createRequire(import.meta.url)('@cedar-policy/cedar-wasm/nodejs') as CedarWasm;
  return engine;
}
