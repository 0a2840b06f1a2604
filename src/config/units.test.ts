import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration, parseSize } from './units.ts';

describe('units', () => {
  it('reads durations in ms, s, m and h', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('10s'), 10_000);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('0s'), 0);
  });

  it('reads sizes in binary units (1kb = 1024 bytes)', () => {
    assert.equal(parseSize('512b'), 512);
    assert.equal(parseSize('16kb'), 16_384);
    assert.equal(parseSize('1mb'), 1_048_576);
    assert.equal(parseSize('1gb'), 1_073_741_824);
  });

  it('refuses anything the schema pattern would refuse', () => {
    for (const text of ['10', '1.5s', '10 s', '10S', '-1s', 'ms']) assert.throws(() => parseDuration(text));
    for (const text of ['1', '1.5kb', '1KB', '1 mb', '1tb']) assert.throws(() => parseSize(text));
  });
});
