import { vectors } from './vectors.test-helper.ts';

vectors('hexEncode', [
  ['', ''],
  ['abc', '616263'],
  ['\x00\xff<', '00ff3c'],
]);

vectors('hexDecode', [
  ['', ''],
  ['616263', 'abc'],
  ['3C3e', '<>'],
  ['00ff', '\x00\xff'],
  ['616', 'a'],
]);
