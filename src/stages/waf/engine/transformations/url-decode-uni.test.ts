import { vectors } from './vectors.test-helper.ts';

vectors('urlDecodeUni', [
  ['', ''],
  ['a%20b+c', 'a b c'],
  ['%u0041%u0042', 'AB'],
  ['%U0041', 'A'],
  ['%u2215etc', '\x15etc'],
  ['%uff1cscript%uFF1E', '<script>'],
  ['%uff00', '\x00'],
  ['%uff5f', '\x5f'],
  ['%u004', '%u004'],
  ['%u00zz', '%u00zz'],
  ['%uffff', '\xff'],
  ['%', '%'],
  ['%4', '%4'],
  ['%41%', 'A%'],
  ['%c3%a9', '\xc3\xa9'],
]);
