import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildMockResponse } from './mock.ts';

describe('buildMockResponse: which declared response the mock answers with', () => {
  it('takes a 2XX range as its lowest code, ahead of an explicit 4xx', () => {
    const r = buildMockResponse({
      responses: {
        '400': { description: 'bad', content: { 'application/json': { example: { error: 1 } } } },
        '2XX': { description: 'ok', content: { 'application/json': { example: { ok: true } } } },
      },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), '{"ok":true}');
  });

  it('prefers an explicit code to the range that contains it', () => {
    const r = buildMockResponse({
      responses: {
        '2XX': { description: 'ok', content: { 'application/json': { example: 'range' } } },
        '200': { description: 'ok', content: { 'application/json': { example: 'explicit' } } },
      },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), '"explicit"');
  });

  it('falls back to default when only default is declared', () => {
    const r = buildMockResponse({
      responses: { default: { description: 'x', content: { 'text/plain': { example: 'hi' } } } },
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/plain');
    assert.equal(r.body.toString(), 'hi');
  });
});
