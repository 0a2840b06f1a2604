import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OperationResponses } from './responses.ts';

const op = {
  responses: {
    '200': { content: { 'application/json': { schema: { type: 'object', properties: { id: {} } } } } },
    '4XX': {
      content: { 'application/problem+json': { schema: { type: 'object', properties: { title: {} } } } },
    },
    default: { content: { '*/*': { schema: { type: 'object', properties: { error: {} } } } } },
    '204': { description: 'no content' },
  },
};

describe('OperationResponses', () => {
  const responses = new OperationResponses(op);

  it('finds an exact status and media type, ignoring parameters and case', () => {
    const found = responses.lookup(200, 'Application/JSON; charset=utf-8');
    assert.equal(found?.declared, '200 application/json');
    assert.deepEqual(found!.project({ id: 1, secret: 2 }, { dropped: 0, masked: 0 }), { id: 1 });
  });

  it('falls back to status ranges, then default, and wildcard media types', () => {
    assert.equal(responses.lookup(404, 'application/problem+json')?.declared, '4XX application/problem+json');
    assert.equal(responses.lookup(500, 'application/json')?.declared, 'default */*');
  });

  it('gives no shape to non-JSON bodies or undeclared statuses', () => {
    assert.equal(responses.lookup(200, 'text/html'), null);
    assert.equal(
      responses.lookup(204, 'application/json'),
      null,
      'a 204 declared without content does not fall to default',
    );
    assert.equal(new OperationResponses({}).lookup(200, 'application/json'), null);
  });
});

describe('OperationResponses.empty', () => {
  it('is true only when no response declares a schema', () => {
    assert.equal(new OperationResponses(op).empty, false);
    assert.equal(new OperationResponses({ responses: { '204': { description: 'none' } } }).empty, true);
  });
});
