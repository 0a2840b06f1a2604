import { vectors } from './vectors.test-helper.ts';

vectors('utf8toUnicode', [
  ['', ''],
  ['plain ascii', 'plain ascii'],
  ['caf\xc3\xa9', 'caf%u00e9'],
  ['\xef\xbc\x9cscript\xef\xbc\x9e', '%uff1cscript%uff1e'],
  ['\xe2\x82\xac', '%u20ac'],
  ['\xf0\x9f\x98\x80', '%u1f600'],
  ['a\xc3', 'a'],
  ['\xc3(', '('],
  ['\xff\xfe', '\xff\xfe'],
  ['\x80', '\x80'],
  ['a\x00b', 'ab'],
  ['\xc0\xbc', '%u003c\xc0'],
  ['\xed\xa0\x80', '%ud800\xed'],
]);
