/** `t:removeNulls`: drops every NUL byte (NUL injection splits strings in C back ends). */
export function removeNulls(input: string): string {
  return input.indexOf('\x00') === -1 ? input : input.replaceAll('\x00', '');
}
