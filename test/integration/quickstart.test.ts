import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { type RunningGateway, startGateway } from '../../src/server/lifecycle.ts';

describe('the quick start example', () => {
  let gw: RunningGateway;
  let url: string;

  before(async () => {
    // Same config as `npm start`, on a free port so the test does not collide with a running gateway.
    const { readFileSync, writeFileSync, mkdtempSync, copyFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'rampart-quickstart-'));
    copyFileSync('examples/quickstart/openapi.yaml', join(dir, 'openapi.yaml'));
    const config = readFileSync('examples/quickstart/rampart.yaml', 'utf8').replace('port: 8080', 'port: 0');
    writeFileSync(join(dir, 'rampart.yaml'), `${config}\nlog:\n  access:\n    enabled: false\n`);
    gw = await startGateway(join(dir, 'rampart.yaml'), pino({ level: 'silent' }));
    url = gw.urls[0]!;
  });
  after(() => gw.shutdown());

  it('lists books from the OpenAPI example', async () => {
    const res = await fetch(`${url}/v1/books`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    const books = (await res.json()) as { title: string }[];
    assert.equal(books.length, 2);
    assert.equal(books[0]!.title, 'The Left Hand of Darkness');
  });

  it('answers a templated path from the named example', async () => {
    const res = await fetch(`${url}/v1/books/b-2`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      id: 'b-2',
      title: 'A Wizard of Earthsea',
      author: 'Ursula K. Le Guin',
    });
  });

  it('creates a book with 201 and the example Location header', async () => {
    const res = await fetch(`${url}/v1/books`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'The Dispossessed', author: 'Ursula K. Le Guin' }),
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('location'), '/books/b-3');
  });

  it('denies an undeclared path with a generic problem+json 404', async () => {
    const res = await fetch(`${url}/v1/authors`);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['requestId', 'status', 'title', 'type']);
    assert.equal(body.requestId, res.headers.get('x-request-id'));
  });

  it('answers an undeclared method with 405 and Allow', async () => {
    const res = await fetch(`${url}/v1/books/b-2`, { method: 'DELETE' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET');
  });
});
