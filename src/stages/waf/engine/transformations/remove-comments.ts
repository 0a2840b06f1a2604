/**
 * `t:removeComments`, as ModSecurity's `remove_comments_inplace`: deletes `/* ... *\/` and
 * `<!-- ... -->` comments (an unterminated one runs to the end and leaves one space), and
 * treats `--` and `#` outside a comment as end-of-line comments that cut the rest.
 */
export function removeComments(input: string): string {
  let out = '';
  const n = input.length;
  let i = 0;
  let inComment = false;
  while (i < n) {
    const c = input[i];
    if (inComment) {
      if (c === '*' && input[i + 1] === '/') {
        inComment = false;
        i += 2;
      } else if (c === '-' && input[i + 1] === '-' && input[i + 2] === '>') {
        inComment = false;
        i += 3;
      } else i++;
      continue;
    }
    if (c === '/' && input[i + 1] === '*') {
      inComment = true;
      i += 2;
    } else if (c === '<' && input.startsWith('!--', i + 1)) {
      inComment = true;
      i += 4;
    } else if ((c === '-' && input[i + 1] === '-') || c === '#') {
      return out;
    } else {
      out += c;
      i++;
    }
  }
  return inComment ? `${out} ` : out;
}
