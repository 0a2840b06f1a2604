import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/raw.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import {
  failures,
  logLine,
  send,
  VALIDATION_OPENAPI,
  validationConfig,
} from '../integration/support/validation.ts';
import { parseResponses } from './support/http.ts';

/**
 * HTTP parameter pollution: `?limit=1&limit=100000`. Frameworks disagree on which copy counts
 * (first, last, both joined, an array), so a gateway that validates one copy while the
 * upstream reads the other has validated nothing. A parameter whose schema is not an array may
 * appear once — in the query, as a header line, as a cookie, or as a form field — and a second
 * copy is 400 `parameter_repeated`.
 */
describe('HTTP parameter pollution', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: validationConfig(upstream.url),
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

  it('a repeated query parameter is refused, whichever copy is the valid one', async () => {
    for (const q of [
      'limit=1&limit=100000',
      'limit=100000&limit=1',
      'limit=5&limit=5',
      'status=open&status=closed',
    ]) {
      const res = await send(gw, `/orders?${q}`);
      assert.equal(res.status, 400, q);
      assert.match(failures(res)[0]!, / repeated$/, q);
      assert.equal((await logLine(gw, res.headers.get('x-request-id'))).reason, 'parameter_repeated', q);
    }
    assert.equal(upstream.seen.length, 0);
  });

  it('an encoded name is the same name (li%6Dit)', async () => {
    const res = await send(gw, '/orders?limit=1&li%6Dit=100000');
    assert.deepEqual(failures(res), ['query/limit repeated']);
  });

  it('a repeated deepObject member is refused', async () => {
    const res = await send(gw, '/orders?filter[customer]=a&filter[customer]=b');
    assert.deepEqual(failures(res), ['query/filter/customer repeated']);
  });

  it('an array parameter may repeat where its style says so; unexploded, it may not', async () => {
    // ids is form with explode: false: one `ids=3,4` — two copies are pollution.
    assert.equal((await send(gw, '/orders?ids=3,4')).status, 200);
    assert.deepEqual(failures(await send(gw, '/orders?ids=3&ids=4')), ['query/ids repeated']);
  });

  it('a header parameter sent on two lines is refused (node would join them into one value)', async () => {
    const res = await rawRequest(
      gw.port,
      'GET /orders HTTP/1.1\r\nHost: localhost\r\nX-Tenant: acme\r\nx-tenant: evil\r\nConnection: close\r\n\r\n',
    );
    const [answer] = parseResponses(res.text);
    assert.equal(answer?.status, 400);
    assert.deepEqual(
      (JSON.parse(answer!.body) as { errors: { path: string; rule: string }[] }).errors.map(
        (e) => `${e.path} ${e.rule}`,
      ),
      ['header/x-tenant repeated'],
    );
  });

  it('a repeated form field is refused unless its property is an array', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const bad = await send(gw, '/orders', {
      method: 'POST',
      headers: form,
      body: 'sku=ABC-1234&qty=1&qty=10',
    });
    assert.deepEqual([bad.status, ...failures(bad)], [400, 'body/qty repeated']);
    const ok = await send(gw, '/orders', {
      method: 'POST',
      headers: form,
      body: 'sku=ABC-1234&qty=1&tags=a&tags=b',
    });
    assert.equal(ok.status, 200);
    assert.equal(upstream.seen.length, 1);
  });
});
