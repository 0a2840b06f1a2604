import { vectors } from './vectors.test-helper.ts';

vectors('compressWhitespace', [
  ['', ''],
  ['abc', 'abc'],
  ['a  b\t\n c', 'a b c'],
  ['  lead and trail  ', ' lead and trail '],
  ['x\xa0\xa0y\vz', 'x y z'],
  ['one two', 'one two'],
]);
