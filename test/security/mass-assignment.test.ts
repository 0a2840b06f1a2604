import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/raw.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { failures, send, VALIDATION_OPENAPI, validationConfig } from '../integration/support/validation.ts';

/**
 * Mass assignment (OWASP API3:2023, formerly API6:2019): a sign-up body carrying `isAdmin: true`,
 * `role: admin` or the server-owned `id` that the framework behind binds straight onto its user
 * record. NewUser (allOf Person + email) leaves additionalProperties open, as most documents do;
 * `validate.strict` on createUser refuses every property no part of the schema declares, and
 * readOnly ones — while a valid composed body still passes (the allOf trap avoided).
 */
describe('mass assignment: undeclared properties under validate.strict', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  const json = { 'content-type': 'application/json' };

  before(async () => {
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: validationConfig(
        upstream.url,
        '    operations:\n      createUser:\n        validate: { strict: true }',
      ),
      files: { 'openapi.yaml': VALIDATION_OPENAPI },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });
  beforeEach(() => {
    upstream.seen.length = 0;
  });

  it('a valid sign-up (properties of both allOf parts) passes', async () => {
    const res = await send(gw, '/users', {
      method: 'POST',
      headers: json,
      body: '{"name":"Ada","email":"ada@example.com"}',
    });
    assert.equal(res.status, 200);
    assert.equal(upstream.seen.length, 1);
  });

  it('isAdmin: true is refused with 400 naming body/isAdmin, and never reaches the upstream', async () => {
    const res = await send(gw, '/users', {
      method: 'POST',
      headers: json,
      body: '{"name":"Mallory","email":"m@example.com","isAdmin":true}',
    });
    assert.equal(res.status, 400);
    assert.deepEqual(failures(res), ['body/isAdmin undeclared']);
    assert.equal(upstream.seen.length, 0);
  });

  it('a read-only property (the server-assigned id) is refused', async () => {
    const res = await send(gw, '/users', {
      method: 'POST',
      headers: json,
      body: '{"name":"Mallory","email":"m@example.com","id":"u-1"}',
    });
    assert.deepEqual([res.status, ...failures(res)], [400, 'body/id readOnly']);
  });

  it('hidden as __proto__ or with an escaped name, it is still undeclared', async () => {
    for (const body of [
      '{"name":"M","email":"m@example.com","__proto__":{"isAdmin":true}}',
      '{"name":"M","email":"m@example.com","\\u0069sAdmin":true}',
    ]) {
      const res = await send(gw, '/users', { method: 'POST', headers: json, body });
      assert.equal(res.status, 400, body);
    }
    assert.equal(upstream.seen.length, 0);
  });

  it('a body sent to an operation that declares none is refused under strict only', async () => {
    const strictGw = await startTestGateway({
      config: validationConfig(upstream.url, '    validate: { strict: true }'),
      files: { 'openapi.yaml': VALIDATION_OPENAPI },
    });
    try {
      const body = '{"isAdmin":true}';
      const raw = (port: number) =>
        rawRequest(
          port,
          `GET /orders/1 HTTP/1.1\r\nHost: localhost\r\nX-Tenant: acme\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        );
      assert.equal((await raw(strictGw.port)).status, 415);
      assert.equal((await raw(gw.port)).status, 200, 'createUser alone is strict in the main gateway');
    } finally {
      await strictGw.stop();
    }
  });

  it('without strict, the same isAdmin passes: the document alone leaves it open', async () => {
    const lax = await startTestGateway({
      config: validationConfig(upstream.url),
      files: { 'openapi.yaml': VALIDATION_OPENAPI },
    });
    try {
      const res = await send(lax, '/users', {
        method: 'POST',
        headers: json,
        body: '{"name":"Mallory","email":"m@example.com","isAdmin":true}',
      });
      assert.equal(res.status, 200);
    } finally {
      await lax.stop();
    }
  });
});
