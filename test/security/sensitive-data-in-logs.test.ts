import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

/**
 * Sensitive data leaking into logs (OWASP API8, CWE-532): a client puts a card number, a JWT,
 * an API key, an email and a bearer credential where no name-based rule looks — in the path,
 * under innocent query parameter names, in a header the operator chose to log. The access log
 * line must carry none of them, while keeping what operators need (status, route, request id).
 */

const CARD = '4111111111111111';
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJqYW5lIiwiZXhwIjo0MTAyNDQ0ODAwfQ.qM3bZr0yK2x6kI8u8s1p9yFJ3a1rQJmZb1X6e9vY0Ts';
const API_KEY = `rk_abcdefghijklmnop_${'Zx9'.repeat(14)}Q`;
const EMAIL = 'jane.doe@example.com';

const OPENAPI = `openapi: 3.1.0
info: { title: t, version: '1' }
security: [{}]
paths:
  /notes/{text}:
    get:
      operationId: getNote
      parameters: [{ name: text, in: path, required: true, schema: { type: string } }]
      responses: { '200': { description: ok } }
`;

describe('sensitive data in logs', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: `version: 1
server: { listen: [{ host: 127.0.0.1, port: 0 }] }
log:
  access:
    destination: \${dir}/access.log
    requestHeaders: [x-note, user-agent]
upstreams: { backend: { url: ${upstream.url} } }
apis: { t: { openapi: openapi.yaml, upstream: backend } }
`,
      files: { 'openapi.yaml': OPENAPI },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  it('keeps a card number, a JWT, an API key, an email and a bearer token the request carried out of the access log', async () => {
    const path = `/notes/${CARD}?memo=${JWT}&ref=${API_KEY}&who=${encodeURIComponent(EMAIL)}`;
    const res = await fetch(`${gw.url}${path}`, {
      headers: {
        'x-note': `card ${CARD.replace(/(\d{4})/g, '$1 ').trim()}, Bearer ${JWT.slice(0, 30)}`,
        'user-agent': EMAIL,
      },
    });
    assert.equal(res.status, 200);
    const requestId = res.headers.get('x-request-id')!;
    let line = '';
    for (let i = 0; i < 50 && line === ''; i++) {
      await gw.readAccessLog();
      line =
        readFileSync(gw.accessLogFile, 'utf8')
          .split('\n')
          .find((l) => l.includes(requestId)) ?? '';
      if (line === '') await sleep(20);
    }
    assert.notEqual(line, '', 'the request was logged');
    for (const [what, secret] of [
      ['card number', CARD],
      ['card number (grouped)', '4111 1111 1111 1111'],
      ['JWT', JWT],
      ['JWT header', JWT.slice(0, 30)],
      ['API key secret', API_KEY.slice(20)],
      ['email', EMAIL],
      ['email (encoded)', encodeURIComponent(EMAIL)],
    ] as const) {
      assert.ok(!line.includes(secret), `the access log carries the ${what}: ${line}`);
    }
    const record = JSON.parse(line) as Record<string, unknown>;
    assert.equal(record.status, 200);
    assert.equal(record.route, '/notes/{text}');
    assert.match(String(record.path), /\[REDACTED:card\]/);
    assert.match(
      String(record.query),
      /rk_abcdefghijklmnop_\[REDACTED\]/,
      'the key id stays for investigations',
    );
  });
});
