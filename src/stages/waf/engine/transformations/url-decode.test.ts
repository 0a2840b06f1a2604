import { vectors } from './vectors.test-helper.ts';

vectors('urlDecode', [
  ['', ''],
  ['a%20b+c', 'a b c'],
  ['%3Cscript%3e', '<script>'],
  ['100%', '100%'],
  ['%2', '%2'],
  ['%zz%4', '%zz%4'],
  ['%%41', '%A'],
  ['%00x', '\x00x'],
  ['%c3%a9', '\xc3\xa9'],
  ['%u0041', '%u0041'],
]);
