import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onStop, ready } from './child.ts';

/**
 * The fast upstream shared by every target: GET /hello answers a small JSON document, POST
 * /echo answers the request body back. Fixed Content-Length, no logging, nothing else, so
 * that what the proxies add is what gets measured. bench/authn.ts gets the /hello answer on
 * four more paths (one per security requirement), and bench/authz.ts on its order path.
 */
const HELLO = Buffer.from(JSON.stringify({ message: 'hello', from: 'rampart-bench-upstream' }));
const NOT_FOUND = Buffer.from('{"error":"not found"}');
const AUTHN_PATHS = new Set(['/anon', '/jwt-rs', '/jwt-es', '/key', '/users/alice/orders/o-1']);

function handle(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'GET' && (req.url === '/hello' || AUTHN_PATHS.has(req.url ?? ''))) {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': HELLO.length });
    res.end(HELLO);
    return;
  }
  if (req.method === 'POST' && req.url === '/echo') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(body);
    });
    return;
  }
  req.resume();
  res.writeHead(404, { 'content-type': 'application/json', 'content-length': NOT_FOUND.length });
  res.end(NOT_FOUND);
}

const server = createServer({ keepAliveTimeout: 30_000, noDelay: true }, handle);
server.listen(0, '127.0.0.1', () => ready((server.address() as AddressInfo).port));
onStop(() => {
  server.close();
  server.closeAllConnections();
});
