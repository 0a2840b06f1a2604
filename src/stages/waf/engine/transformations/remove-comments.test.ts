import { vectors } from './vectors.test-helper.ts';

vectors('removeComments', [
  ['', ''],
  ['plain', 'plain'],
  ['UNION/**/SELECT', 'UNIONSELECT'],
  ['a<!-- b -->c', 'ac'],
  ["1' OR 1=1-- x", "1' OR 1=1"],
  ['x#rest', 'x'],
  ['a/* open', 'a '],
  ['a/* -- */b', 'ab'],
]);
