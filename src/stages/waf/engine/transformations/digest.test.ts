import { Buffer } from 'node:buffer';
import { vectors } from './vectors.test-helper.ts';

const hex = (h: string): string => Buffer.from(h, 'hex').toString('latin1');

vectors('sha1', [
  ['', hex('da39a3ee5e6b4b0d3255bfef95601890afd80709')],
  ['abc', hex('a9993e364706816aba3e25717850c26c9cd0d89d')],
  ['\xff\x00', hex('da33e41954997c24ad31f6c1845e18510b384f67')], // bytes, not UTF-8 text
]);

vectors('md5', [
  ['', hex('d41d8cd98f00b204e9800998ecf8427e')],
  ['abc', hex('900150983cd24fb0d6963f7d28e17f72')],
]);
