import { vectors } from './vectors.test-helper.ts';

vectors('replaceComments', [
  ['', ''],
  ['no comment */', 'no comment */'],
  ['UNION/**/SELECT', 'UNION SELECT'],
  ['a/* x */b/*y*/c', 'a b c'],
  ['a/* open', 'a '],
  ['/*/', ' '],
  ['/**/', ' '],
]);
