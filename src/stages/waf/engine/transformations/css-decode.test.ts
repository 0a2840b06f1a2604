import { vectors } from './vectors.test-helper.ts';

vectors('cssDecode', [
  ['', ''],
  ['color: red', 'color: red'],
  ['\\6a\\61vascript', 'javascript'],
  ['\\6a avascript', 'javascript'],
  ['\\00006a', 'j'],
  ['\\a', '\x0a'],
  ['\\ff1c', '<'],
  ['\\0ff1c', '<'],
  ['\\00ff1c', '<'],
  ['\\1ff1c', '\x1c'],
  ['\\123456', 'V'],
  ['\\1234567', 'V7'],
  ['a\\\nb', 'ab'],
  ['\\"\\q', '"q'],
  ['end\\', 'end'],
  ['\\6a\t\tx', 'j\tx'],
]);
