import { vectors } from './vectors.test-helper.ts';

vectors('removeWhitespace', [
  ['', ''],
  ['abc', 'abc'],
  [' s e\tl\ne\rc\vt\f \xa0x ', 'selectx'],
  ['\xc3\xa0', '\xc3'],
]);
