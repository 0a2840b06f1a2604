import { vectors } from './vectors.test-helper.ts';

vectors('removeNulls', [
  ['', ''],
  ['abc', 'abc'],
  ['\x00a\x00\x00b\x00', 'ab'],
]);
