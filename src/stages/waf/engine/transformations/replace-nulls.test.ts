import { vectors } from './vectors.test-helper.ts';

vectors('replaceNulls', [
  ['', ''],
  ['abc', 'abc'],
  ['\x00a\x00\x00b', ' a  b'],
]);
