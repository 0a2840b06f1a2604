// C-locale whitespace (isspace), as ModSecurity v3 trims; not JS's, which includes NBSP.
const LEFT = /^[\t\n\v\f\r ]+/;
const RIGHT = /[\t\n\v\f\r ]+$/;

/** `t:trimLeft`. */
export function trimLeft(input: string): string {
  return input.replace(LEFT, '');
}

/** `t:trimRight`. */
export function trimRight(input: string): string {
  return input.replace(RIGHT, '');
}

/** `t:trim`. */
export function trim(input: string): string {
  return trimRight(trimLeft(input));
}
