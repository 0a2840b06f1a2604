/**
 * `t:cmdLine`, as ModSecurity's: undoes the shell and cmd.exe evasions of command injection —
 * deletes `" ' \ ^`, turns runs of ` , ; \t \r \n` into one space, drops a space before `/` or
 * `(`, and lowercases (ASCII), so `c^md /c "dir"` and `cmd/c dir` look alike.
 */
export function cmdLine(input: string): string {
  let out = '';
  let space = false;
  for (let i = 0; i < input.length; i++) {
    const ch = input[i] as string;
    switch (ch) {
      case '"':
      case "'":
      case '\\':
      case '^':
        break;
      case ' ':
      case ',':
      case ';':
      case '\t':
      case '\r':
      case '\n':
        if (!space) {
          out += ' ';
          space = true;
        }
        break;
      case '/':
      case '(':
        if (space) out = out.slice(0, -1);
        space = false;
        out += ch;
        break;
      default: {
        const c = ch.charCodeAt(0);
        out += c >= 0x41 && c <= 0x5a ? String.fromCharCode(c + 0x20) : ch;
        space = false;
      }
    }
  }
  return out;
}
