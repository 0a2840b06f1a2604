import { Pool } from 'undici';
import type { UpstreamConfig } from '../../config/schema.ts';
import type { Secret } from '../../config/secrets.ts';
import { parseDuration } from '../../config/units.ts';
import { type CallChain, type CallChainOptions, createCallChain } from './call-chain.ts';

export interface UpstreamTlsMaterial {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Secret;
}

export interface Upstream {
  readonly name: string;
  readonly origin: string;
  /** Path prefix from the upstream URL, without trailing `/` (`''` for none). */
  readonly pathPrefix: string;
  readonly host: string;
  readonly pool: Pool;
  /** How calls are made: the pool's dispatch, wrapped by the configured resilience concerns. */
  readonly calls: CallChain;
}

/** One keep-alive undici pool per upstream (ARCHITECTURE §6: `Pool.stream` is the fast path). */
export function createUpstream(
  name: string,
  config: UpstreamConfig,
  tls: UpstreamTlsMaterial,
  options: CallChainOptions = {},
): Upstream {
  const url = new URL(config.url);
  const pool = new Pool(url.origin, {
    connections: config.connections,
    pipelining: 1,
    keepAliveTimeout: parseDuration(config.keepAliveTimeout),
    headersTimeout: parseDuration(config.timeouts.headers),
    bodyTimeout: parseDuration(config.timeouts.body),
    connect: {
      timeout: parseDuration(config.timeouts.connect),
      ...(url.protocol === 'https:'
        ? {
            rejectUnauthorized: config.tls.rejectUnauthorized,
            ...(config.tls.servername ? { servername: config.tls.servername } : {}),
            ...(tls.ca ? { ca: tls.ca } : {}),
            ...(tls.cert ? { cert: tls.cert } : {}),
            ...(tls.key ? { key: tls.key.reveal() } : {}),
          }
        : {}),
    },
  });
  return {
    name,
    origin: url.origin,
    pathPrefix: url.pathname.replace(/\/+$/, ''),
    host: url.host,
    pool,
    calls: createCallChain(name, config, pool, options),
  };
}
