import { vectors } from './vectors.test-helper.ts';

vectors('escapeSeqDecode', [
  ['', ''],
  ['plain', 'plain'],
  ['\\n\\t\\r\\a\\b\\f\\v', '\n\t\r\x07\x08\x0c\x0b'],
  ['\\\\\\?\\\'\\"', '\\?\'"'],
  ['\\x41\\X42', 'AB'],
  ['\\x4', 'x4'],
  ['\\101\\7\\0', 'A\x07\x00'],
  ['\\777', '\xff'],
  ['\\1234', 'S4'],
  ['\\q', 'q'],
  ['end\\', 'end\\'],
]);
