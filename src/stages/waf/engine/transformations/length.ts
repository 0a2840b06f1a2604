/** `t:length`: the input's length in bytes, as a decimal string (CRS compares it with @eq/@gt). */
export function length(input: string): string {
  return String(input.length);
}
