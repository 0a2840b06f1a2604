import { x2c } from './bytes.ts';

/** `t:hexEncode`: each byte as two lowercase hex digits. */
export function hexEncode(input: string): string {
  return Buffer.from(input, 'latin1').toString('hex');
}

/**
 * `t:hexDecode`: pairs of hex digits to bytes, as ModSecurity v3 (no validation: its `x2c`
 * arithmetic on whatever is there; an odd last digit is dropped).
 */
export function hexDecode(input: string): string {
  let out = '';
  for (let i = 0; i + 1 < input.length; i += 2) out += String.fromCharCode(x2c(input, i));
  return out;
}
