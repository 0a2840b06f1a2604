import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Dispatcher, Pool } from 'undici';
import { onStop, ready } from './child.ts';

/**
 * The baseline: the least a node:http + undici proxy can do (ARCHITECTURE §6, "Rampart's
 * floor"). One keep-alive `Pool` sized and timed like Rampart's default upstream
 * (`connections: 128`, `keepAliveTimeout: 4s`), `pool.stream()` handing undici the
 * ServerResponse right after writeHead. No routing, no checks, no logging. It drops only the
 * hop-by-hop headers that undici refuses on a request or that would be wrong on a response.
 *
 * Usage: node --experimental-strip-types bench/baseline-proxy.ts http://127.0.0.1:<port>
 */
const origin = process.argv[2];
if (origin === undefined) throw new Error('usage: baseline-proxy.ts <upstream origin>');

const pool = new Pool(origin, { connections: 128, pipelining: 1, keepAliveTimeout: 4000 });

function onHead({
  statusCode,
  headers,
  opaque,
}: Dispatcher.StreamFactoryData<ServerResponse>): ServerResponse {
  delete headers.connection;
  delete headers['keep-alive'];
  delete headers['transfer-encoding'];
  opaque.writeHead(statusCode, headers as Record<string, string | string[]>);
  return opaque;
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const headers = req.headers;
  const hasBody =
    (headers['content-length'] !== undefined && headers['content-length'] !== '0') ||
    headers['transfer-encoding'] !== undefined;
  delete headers.connection;
  delete headers['keep-alive'];
  delete headers['transfer-encoding'];
  pool
    .stream(
      {
        path: req.url ?? '/',
        method: req.method as Dispatcher.HttpMethod,
        headers,
        body: hasBody ? req : null,
        opaque: res,
      },
      onHead,
    )
    .catch(() => {
      if (res.headersSent) res.destroy();
      else res.writeHead(502, { 'content-length': 0 }).end();
    });
}

const server = createServer({ keepAliveTimeout: 5000, noDelay: true }, handle);
server.listen(0, '127.0.0.1', () => ready((server.address() as AddressInfo).port));
onStop(() => {
  server.close();
  server.closeAllConnections();
  void pool.destroy();
});
