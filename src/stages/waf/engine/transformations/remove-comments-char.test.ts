import { vectors } from './vectors.test-helper.ts';

vectors('removeCommentsChar', [
  ['', ''],
  ['plain', 'plain'],
  ['UNION/**/SELECT', 'UNIONSELECT'],
  ['a<!-- b -->c', 'a b c'],
  ['1--2#3', '123'],
  ['/*/', '/'],
  ['*//*', ''],
  ['<!-', '<!-'],
  ['---', '-'],
]);
