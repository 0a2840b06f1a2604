/**
 * A SecLang transformation (`t:name`): a pure function over a byte string — one JS char per
 * byte (latin1), never UTF-16 text — so results match ModSecurity v3 / Coraza byte for byte.
 */
export type Transformation = (input: string) => string;
