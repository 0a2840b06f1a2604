import { vectors } from './vectors.test-helper.ts';

vectors('unconditionalMatch', '', [
  ['', true],
  ['anything', true],
]);
vectors('noMatch', '', [
  ['', false],
  ['anything', false],
]);
