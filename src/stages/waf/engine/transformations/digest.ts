import { createHash } from 'node:crypto';

/** `t:sha1`: the raw 20-byte SHA-1 digest as a byte string (ModSecurity does not hex it). */
export function sha1(input: string): string {
  return createHash('sha1').update(input, 'latin1').digest().toString('latin1');
}

/** `t:md5`: the raw 16-byte MD5 digest as a byte string. */
export function md5(input: string): string {
  return createHash('md5').update(input, 'latin1').digest().toString('latin1');
}
