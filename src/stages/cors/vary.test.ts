import assert from 'node:assert/strict';
import type { OutgoingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { appendVary } from './vary.ts';

describe('appendVary', () => {
  const cases: [string | string[] | undefined, string | undefined][] = [
    [undefined, 'Origin'],
    ['Accept-Encoding', 'Accept-Encoding, Origin'],
    ['accept-encoding, origin', 'accept-encoding, origin'],
    ['ORIGIN', 'ORIGIN'],
    [['Accept-Encoding', 'Accept'], 'Accept-Encoding, Accept, Origin'],
    ['*', '*'],
    ['', 'Origin'],
  ];
  for (const [before, after] of cases) {
    it(`${JSON.stringify(before)} → ${JSON.stringify(after)}`, () => {
      const h = (before === undefined ? {} : { vary: before }) as OutgoingHttpHeaders;
      appendVary(h, ['Origin']);
      assert.equal(h.vary, after);
    });
  }
});
