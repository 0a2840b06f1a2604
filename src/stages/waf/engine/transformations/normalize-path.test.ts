import { vectors } from './vectors.test-helper.ts';

vectors('normalizePath', [
  ['', ''],
  ['/a/b/c', '/a/b/c'],
  ['/a/./b', '/a/b'],
  ['/a/b/../c', '/a/c'],
  ['/a//b///c', '/a/b/c'],
  ['/../../etc/passwd', '/etc/passwd'],
  ['../../etc/passwd', '../../etc/passwd'],
  ['./a', 'a'],
  ['a/../../b', '../b'],
  ['/a/b/', '/a/b/'],
  ['/a/b/..', '/a'],
  ['/a/.', '/a'],
  ['/..', ''], // as ModSecurity: the root slash goes with the no-trailing-slash rule
  ['/', '/'],
  ['a\\..\\b', 'a\\..\\b'],
]);

vectors('normalizePathWin', [
  ['', ''],
  ['c:\\windows\\..\\boot.ini', 'c:/boot.ini'],
  ['\\a\\.\\b\\\\c', '/a/b/c'],
  ['..\\..\\x', '../../x'],
]);
