import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';

/** The bench identity provider's key set, served on 127.0.0.1 from the bench process. */
export interface JwksServer {
  readonly url: string;
  /** GETs of the key set answered so far. */
  fetches(): number;
  close(): void;
}

/** The identity provider's key set on 127.0.0.1, in this process (it is idle while measuring). */
export function serveJwks(jwks: { readonly keys: readonly JWK[] }): Promise<JwksServer> {
  const body = Buffer.from(JSON.stringify(jwks));
  let fetches = 0;
  const server = createServer((req, res) => {
    req.resume();
    if (req.method === 'GET' && req.url === '/jwks.json') {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(body);
      return;
    }
    res.writeHead(404, { 'content-length': 0 });
    res.end();
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolvePromise({
        url: `http://127.0.0.1:${port}/jwks.json`,
        fetches: () => fetches,
        close: () => {
          server.close();
          server.closeAllConnections();
        },
      });
    });
  });
}
