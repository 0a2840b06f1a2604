import { vectors } from './vectors.test-helper.ts';

vectors('trim', [
  ['', ''],
  [' \t\n\v\f\rab c \r\n', 'ab c'],
  ['\xa0x\xa0', '\xa0x\xa0'],
]);
vectors('trimLeft', [[' \t ab ', 'ab ']]);
vectors('trimRight', [[' ab \t ', ' ab']]);
