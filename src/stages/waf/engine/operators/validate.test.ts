import { rejects, vectors } from './vectors.test-helper.ts';

vectors('validateByteRange', '9,10,13,32-126,128-255', [
  ['normal text\r\n', false],
  ['caf\xc3\xa9', false],
  ['a\x00b', true],
  ['\x7f', true],
  ['', false],
]);
vectors('validateByteRange', '1-255', [
  ['abc', false],
  ['\x00', true],
]);
rejects('validateByteRange', '1-256', /bad range/);
rejects('validateByteRange', '10-5', /bad range/);
rejects('validateByteRange', 'x', /not a byte or a range/);
rejects('validateByteRange', '', /not a byte or a range/);

vectors('validateUrlEncoding', '', [
  ['a%20b', false],
  ['plain', false],
  ['100%', true],
  ['%4', true],
  ['%zz', true],
  ['%41%4g', true],
  ['%%41', true],
]);

vectors('validateUtf8Encoding', '', [
  ['ascii', false],
  ['caf\xc3\xa9', false],
  ['\xf0\x9f\x98\x80', false],
  ['\xc3', true],
  ['\xc0\xaf', true],
  ['\xe0\x80\xaf', true],
  ['\xed\xa0\x80', true],
  ['\xf4\x90\x80\x80', true],
  ['\xff', true],
  ['\x80', true],
]);
