import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SIMPLE_OPENAPI, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { waitFor } from './support/wait-for.ts';

/**
 * A throwaway CA and a server certificate for 127.0.0.1/localhost, made with openssl in a temp
 * folder at test time and deleted afterwards: no key is ever committed.
 */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=Rampart Test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  run(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  run([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '1',
    '-extfile',
    'server.ext',
  ]);
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

describe('HTTPS upstream', () => {
  let certDir: string;
  let upstream: Server;
  let upstreamUrl: string;
  let gw: TestGateway;
  let served = 0;

  before(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'rampart-tls-'));
    const pem = makeCertificates(certDir);
    upstream = createServer({ cert: readFileSync(pem.cert), key: readFileSync(pem.key) }, (req, res) => {
      served++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: req.url, secure: true }));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    upstreamUrl = `https://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    // One gateway, one API per trust setting (selected by base path).
    gw = await startTestGateway({
      config: `version: 1
server:
  listen: [{ host: 127.0.0.1, port: 0 }]
log:
  access:
    destination: \${dir}/access.log
upstreams:
  systemTrust:
    url: ${upstreamUrl}
  withCa:
    url: ${upstreamUrl}
    tls: { ca: ${pem.ca} }
  wrongName:
    url: ${upstreamUrl}
    tls: { ca: ${pem.ca}, servername: orders.internal }
  noVerify:
    url: ${upstreamUrl}
    tls: { rejectUnauthorized: false }
apis:
  plain:
    openapi: openapi.yaml
    basePath: /system
    stripBasePath: true
    upstream: systemTrust
  ca:
    openapi: openapi.yaml
    basePath: /ca
    stripBasePath: true
    upstream: withCa
  name:
    openapi: openapi.yaml
    basePath: /name
    stripBasePath: true
    upstream: wrongName
  insecure:
    openapi: openapi.yaml
    basePath: /insecure
    stripBasePath: true
    upstream: noVerify
`,
      files: { 'openapi.yaml': SIMPLE_OPENAPI },
    });
  });
  after(async () => {
    await gw?.stop();
    upstream?.closeAllConnections();
    await new Promise<void>((r) => (upstream ? upstream.close(() => r()) : r()));
    rmSync(certDir, { recursive: true, force: true });
  });

  async function reasonOf(res: Response): Promise<unknown> {
    const id = res.headers.get('x-request-id');
    const line = await waitFor('the access log line', async () =>
      (await gw.readAccessLog()).find((l) => l.reqId === id),
    );
    return line.reason;
  }

  it('refuses an upstream certificate from a CA it was not told to trust: 502 upstream_tls_error', async () => {
    const before = served;
    const res = await fetch(`${gw.url}/system/items/1`);
    assert.equal(res.status, 502);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.title, 'Bad Gateway');
    assert.doesNotMatch(JSON.stringify(body), /certificate|CERT|UNABLE/);
    assert.equal(await reasonOf(res), 'upstream_tls_error');
    assert.equal(served, before, 'no request may reach an unverified upstream');
  });

  it('verifies the upstream against tls.ca and proxies: 200', async () => {
    const res = await fetch(`${gw.url}/ca/items/1?x=1`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { url: '/items/1?x=1', secure: true });
  });

  it('checks the certificate name too: a trusted CA with the wrong servername is 502', async () => {
    const res = await fetch(`${gw.url}/name/items/1`);
    assert.equal(res.status, 502);
    await res.arrayBuffer();
    assert.equal(await reasonOf(res), 'upstream_tls_error');
  });

  it('proxies without verification when tls.rejectUnauthorized is false: 200', async () => {
    const res = await fetch(`${gw.url}/insecure/items/1`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { url: '/items/1', secure: true });
  });
});
