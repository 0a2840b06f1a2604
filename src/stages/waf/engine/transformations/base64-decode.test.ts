import { vectors } from './vectors.test-helper.ts';

vectors('base64Decode', [
  ['', ''],
  ['VGVzdENhc2U=', 'TestCase'],
  ['VGVzdENhc2U', 'TestCase'],
  ['PHNjcmlwdD4=', '<script>'],
  ['YQ==', 'a'],
  ['YWI', 'ab'],
  ['Y', ''],
  ['VGVz\r\ndA==', 'Test'],
  ['VGVz.dA==', 'Tes'],
  ['/w==', '\xff'],
  ['YQ==YQ==', 'a'],
]);

vectors('base64decode', [['VGVzdENhc2U=', 'TestCase']]);

vectors('base64DecodeExt', [
  ['', ''],
  ['VGVz.dA==', 'Test'],
  ['V G V z d E N h c 2 U', 'TestCase'],
  ['!!YQ', 'a'],
]);
