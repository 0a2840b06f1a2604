import { vectors } from './vectors.test-helper.ts';

vectors('lowercase', [
  ['', ''],
  ['SELECT * FROM Users', 'select * from users'],
  ['already lower 123', 'already lower 123'],
  ['\xc0\xc9\xde ABC', '\xc0\xc9\xde abc'],
  ['caf\xc3\x89', 'caf\xc3\x89'],
]);
