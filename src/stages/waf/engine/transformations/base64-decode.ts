const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUE = new Int8Array(256).fill(-1);
for (let k = 0; k < ALPHABET.length; k++) VALUE[ALPHABET.charCodeAt(k)] = k;

/**
 * Decodes base64 (RFC 4648 §4) into a byte string. `forgiving`: skip every byte outside the
 * alphabet (`t:base64DecodeExt`); otherwise stop at the first one (`t:base64Decode`, which
 * returns what decoded up to there, as Coraza does) — except CR/LF, which both skip (MIME line
 * breaks). `=` ends the data; padding is optional; a lone trailing sextet is dropped.
 */
export function decodeBase64(input: string, forgiving: boolean): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c === 0x3d) break;
    const v = c < 256 ? (VALUE[c] as number) : -1;
    if (v < 0) {
      if (c === 0x0a || c === 0x0d || forgiving) continue;
      break;
    }
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((acc >> bits) & 0xff);
    }
  }
  return out;
}

/** `t:base64Decode` (also spelled `base64decode` in CRS). */
export function base64Decode(input: string): string {
  return decodeBase64(input, false);
}

/** `t:base64DecodeExt`: the forgiving decoder, which ignores bytes outside the alphabet. */
export function base64DecodeExt(input: string): string {
  return decodeBase64(input, true);
}
