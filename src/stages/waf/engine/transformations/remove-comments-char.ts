/**
 * `t:removeCommentsChar`: deletes the comment markers `/*`, `*\/`, `<!--`, `-->`, `--` and `#`
 * (not the text between them), re-examining the same position after each deletion, as
 * ModSecurity v3 does.
 */
export function removeCommentsChar(input: string): string {
  if (!/\/\*|\*\/|<!--|--|#/.test(input)) return input;
  let s = input;
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    const next = s[i + 1];
    let drop = 0;
    if ((c === '/' && next === '*') || (c === '*' && next === '/')) drop = 2;
    else if (c === '<' && next === '!' && s[i + 2] === '-' && s[i + 3] === '-') drop = 4;
    else if (c === '-' && next === '-' && s[i + 2] === '>') drop = 3;
    else if (c === '-' && next === '-') drop = 2;
    else if (c === '#') drop = 1;
    if (drop === 0) i++;
    else s = s.slice(0, i) + s.slice(i + drop);
  }
  return s;
}
