import { vectors } from './vectors.test-helper.ts';

vectors('length', [
  ['', '0'],
  ['abc', '3'],
  ['caf\xc3\xa9', '5'],
  ['x'.repeat(70000), '70000'],
]);
