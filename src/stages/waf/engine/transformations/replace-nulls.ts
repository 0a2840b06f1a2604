/** `t:replaceNulls`: every NUL byte becomes a space. */
export function replaceNulls(input: string): string {
  return input.indexOf('\x00') === -1 ? input : input.replaceAll('\x00', ' ');
}
