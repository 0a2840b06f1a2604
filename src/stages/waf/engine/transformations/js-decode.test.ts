import { vectors } from './vectors.test-helper.ts';

vectors('jsDecode', [
  ['', ''],
  ['no escapes', 'no escapes'],
  ['\\u0061lert(1)', 'alert(1)'],
  ['\\uff1cscript\\uff1e', '<script>'],
  ['\\u20ac', '\xac'],
  ['\\x3cb\\x3E', '<b>'],
  ['\\x3', 'x3'],
  ['\\141\\142', 'ab'],
  ['\\477', '\x277'],
  ['\\0', '\x00'],
  ['\\08', '\x008'],
  ['\\n\\t\\r\\a\\b\\f\\v', '\n\t\r\x07\x08\x0c\x0b'],
  ['\\"\\\'\\\\\\q', '"\'\\q'],
  ['end\\', 'end\\'],
  ['\\u00', 'u00'],
]);
