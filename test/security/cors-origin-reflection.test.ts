import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SIMPLE_OPENAPI, simpleConfig, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/raw.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { parseResponses } from './support/http.ts';

/**
 * CORS origin reflection: a server that echoes any `Origin` into `Access-Control-Allow-Origin`
 * with `Access-Control-Allow-Credentials: true` lets every website read its users' data (the
 * most common CORS misconfiguration; PortSwigger, "Exploiting CORS misconfigurations"). The
 * gateway echoes only an origin it compared byte for byte with its allowlist: never an
 * arbitrary one, never a suffix/prefix confusable of an allowed one (the regex bypasses
 * `example.com.evil.com` and `evilexample.com`), never `null`, never a non-canonical spelling —
 * and an upstream that reflects origins itself is overridden.
 */

const ALLOWED = 'https://app.example.com';

const CONFUSABLES = [
  'https://app.example.com.evil.com',
  'https://app.example.com.evil.com:443',
  'https://evilapp.example.com',
  'https://app.example.comevil.com',
  'https://app-example.com',
  'https://appexample.com',
  'https://app.example.co',
  'https://app.example.com.',
  'https://app.example.com/',
  'https://app.example.com/.evil.com',
  'https://app.example.com@evil.com',
  'https://evil.com#app.example.com',
  'https://evil.com?app.example.com',
  'https://app.example.com:443',
  'https://APP.example.com',
  'HTTPS://app.example.com',
  'http://app.example.com',
  'https://app.example.com:8443',
  'https://xn--pp-6la.example.com', // a punycode look-alike of a label
  'https://evil.example.org.attacker.net',
  'https://a.b.example.org', // two labels where the pattern allows one
  'https://example.org', // the bare domain of the pattern
  'https://evilexample.org',
  'null',
  'NULL',
  '',
  ' ',
  '*',
  'file://',
];

describe('CORS origin reflection', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    upstream = await startUpstream((req, res) => {
      // The vulnerable upstream: reflect whatever Origin came, with credentials.
      res.writeHead(200, {
        'content-type': 'application/json',
        'access-control-allow-origin': String(req.headers.origin ?? '*'),
        'access-control-allow-credentials': 'true',
      });
      res.end('{"secret":"account data"}');
    });
    gw = await startTestGateway({
      config: simpleConfig({
        upstreamUrl: upstream.url,
        api: `    cors:
      allowOrigins: [${ALLOWED}, 'https://*.example.org']
      allowCredentials: true`,
      }),
      files: { 'openapi.yaml': SIMPLE_OPENAPI },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  async function assertNotReflected(origin: string): Promise<void> {
    const actual = await fetch(`${gw.url}/items`, { headers: { origin } });
    await actual.arrayBuffer();
    assert.equal(actual.status, 200, 'the request is still served (CORS is enforced by the browser)');
    assert.equal(actual.headers.get('access-control-allow-origin'), null, `actual request, Origin ${origin}`);
    assert.equal(
      actual.headers.get('access-control-allow-credentials'),
      null,
      `actual request, Origin ${origin}`,
    );
    const preflight = await fetch(`${gw.url}/items`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'GET' },
    });
    await preflight.arrayBuffer();
    assert.equal(preflight.status, 403, `preflight, Origin ${origin}`);
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
  }

  it('echoes the allowed origin exactly (the control case)', async () => {
    const res = await fetch(`${gw.url}/items`, { headers: { origin: ALLOWED } });
    await res.arrayBuffer();
    assert.equal(res.headers.get('access-control-allow-origin'), ALLOWED);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
  });

  it('never reflects an arbitrary origin, even when the upstream does', async () => {
    for (let i = 0; i < 50; i++) {
      await assertNotReflected(`https://${randomBytes(6).toString('hex')}.attacker.test`);
    }
  });

  it('refuses suffix, prefix and spelling confusables of the allowed origins', async () => {
    for (const origin of CONFUSABLES) {
      if (origin.trim() === '') continue; // fetch drops empty values; covered on the raw socket below
      await assertNotReflected(origin);
    }
  });

  it('refuses an allowed origin repeated or paired with another (two Origin headers)', async () => {
    for (const second of ['https://evil.test', ALLOWED, '']) {
      const raw = await rawRequest(
        gw.port,
        `GET /items HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: ${ALLOWED}\r\nOrigin: ${second}\r\nConnection: close\r\n\r\n`,
      );
      const [res] = parseResponses(raw.text);
      assert.ok(res, raw.text);
      assert.equal(res.headers['access-control-allow-origin'], undefined, `second Origin ${second}`);
    }
  });

  it('refuses an empty Origin', async () => {
    const raw = await rawRequest(
      gw.port,
      'OPTIONS /items HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: \r\nAccess-Control-Request-Method: GET\r\nConnection: close\r\n\r\n',
    );
    const [res] = parseResponses(raw.text);
    assert.equal(res?.status, 403);
    assert.equal(res?.headers['access-control-allow-origin'], undefined);
  });
});
