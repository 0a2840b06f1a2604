/**
 * `t:lowercase`: ASCII A–Z to a–z, as C `tolower` in ModSecurity. Bytes ≥ 0x80 stay as they
 * are: JS `toLowerCase` would also lower 0xC0–0xDE (Latin-1 capitals), changing UTF-8 bytes.
 */
export function lowercase(input: string): string {
  if (!/[\xc0-\xde]/.test(input)) return input.toLowerCase();
  return input.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}
