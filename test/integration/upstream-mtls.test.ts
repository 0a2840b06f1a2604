import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { createTestPki, type TestPki } from '../helpers/certs.ts';
import { SIMPLE_OPENAPI, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

/**
 * Mutual TLS to the upstream: the gateway presents its client certificate
 * (`upstreams.<name>.tls.cert` / `key`) to an upstream that requires one.
 */
describe('upstream mutual TLS', () => {
  let pki: TestPki;
  let upstream: Server;
  let port: number;
  const seenClients: (string | null)[] = [];

  before(async () => {
    pki = createTestPki('upstream-mtls');
    upstream = createServer(
      {
        cert: pki.server.cert,
        key: pki.server.key,
        ca: pki.caPem,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        seenClients.push(peer?.subject?.CN === undefined ? null : String(peer.subject.CN));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      },
    );
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    port = (upstream.address() as AddressInfo).port;
  });
  after(() => {
    upstream.close();
  });

  const start = (tls: string): Promise<TestGateway> =>
    startTestGateway({
      config: `version: 1
server: { listen: [{ host: 127.0.0.1, port: 0 }] }
log: { access: { destination: \${dir}/access.log } }
upstreams:
  backend:
    url: https://127.0.0.1:${port}
    tls: ${tls}
apis: { test: { openapi: openapi.yaml, upstream: backend } }
`,
      files: { 'openapi.yaml': SIMPLE_OPENAPI },
    });

  it('presents the configured client certificate, and the upstream accepts it', async () => {
    const client = pki.issue('gateway-client', { cn: 'rampart-gateway' });
    const gw = await start(
      `{ ca: ${pki.caFile}, servername: localhost, cert: ${client.certFile}, key: 'file:${client.keyFile}' }`,
    );
    try {
      const res = await fetch(`${gw.url}/items`);
      assert.equal(res.status, 200, await res.text());
      assert.equal(seenClients.at(-1), 'rampart-gateway');
    } finally {
      await gw.stop();
    }
  });

  it('fails with 502 when no client certificate is configured (the upstream refuses the handshake)', async () => {
    const gw = await start(`{ ca: ${pki.caFile}, servername: localhost }`);
    try {
      const before = seenClients.length;
      const res = await fetch(`${gw.url}/items`);
      assert.equal(res.status, 502);
      assert.equal(seenClients.length, before);
    } finally {
      await gw.stop();
    }
  });
});
