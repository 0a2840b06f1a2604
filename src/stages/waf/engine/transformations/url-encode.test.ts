import { vectors } from './vectors.test-helper.ts';

vectors('urlEncode', [
  ['', ''],
  ['a b*c', 'a+b*c'],
  ['<x>=1&y', '%3cx%3e%3d1%26y'],
  ['\x00\xff.-_~', '%00%ff%2e%2d%5f%7e'],
]);
