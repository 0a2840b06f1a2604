import { vectors } from './vectors.test-helper.ts';

vectors('cmdLine', [
  ['', ''],
  ['c^md /c "dir"', 'cmd/c dir'],
  ["w'h'o\\am\"i", 'whoami'],
  ['cat ,; /etc/passwd', 'cat/etc/passwd'],
  ['ls\t-la;id', 'ls -la id'],
  ['PING  (x)', 'ping(x)'],
  ['A\xc0B', 'a\xc0b'],
  [' a', ' a'],
]);
