import { vectors } from './vectors.test-helper.ts';

vectors('htmlEntityDecode', [
  ['', ''],
  ['&lt;script&gt;', '<script>'],
  ['&LT;b&Gt', '<b>'],
  ['&quot;&amp;&nbsp;', '"&\xa0'],
  ['&#60;&#x3c;&#X3C', '<<<'],
  ['&#0000060;', '<'],
  ['&#x20ac;', '\xac'],
  ['&#99999999999999999999999;', '\xff'],
  ['&#;&#x;&;', '&#;&#x;&;'],
  ['&copy; &foo;', '&copy; &foo;'],
  ['a&', 'a&'],
  ['&#', '&#'],
  ['&#x', '&#x'],
  ['&#65&#66x', 'ABx'],
]);
