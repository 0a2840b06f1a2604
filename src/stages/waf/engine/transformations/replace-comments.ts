/**
 * `t:replaceComments`: each C comment `/* ... *\/` becomes one space, and an unterminated one
 * runs to the end (ModSecurity's `replace_comments_inplace`) — `UNION/**\/SELECT` is a classic
 * SQL injection evasion. A lone `*\/` stays as it is.
 */
export function replaceComments(input: string): string {
  let start = input.indexOf('/*');
  if (start === -1) return input;
  let out = '';
  let from = 0;
  while (start !== -1) {
    out += `${input.slice(from, start)} `;
    const end = input.indexOf('*/', start + 2);
    if (end === -1) return out;
    from = end + 2;
    start = input.indexOf('/*', from);
  }
  return out + input.slice(from);
}
