/**
 * Splits a SecLang action list (`id:1,phase:2,msg:'a, b',t:none`) into name/value pairs.
 * Values may be single-quoted (commas inside are kept); `\'` inside a quoted value is a quote.
 */

export interface ActionSpec {
  /** Lower-case action name. */
  readonly name: string;
  /** The value after the first `:`, unquoted; '' when the action takes none. */
  readonly value: string;
}

export function parseActionList(text: string): ActionSpec[] {
  const out: ActionSpec[] = [];
  let pos = 0;
  while (pos < text.length) {
    while (pos < text.length && (text[pos] === ',' || /\s/.test(text[pos] ?? ''))) pos++;
    if (pos >= text.length) break;
    let j = pos;
    while (j < text.length && text[j] !== ':' && text[j] !== ',') j++;
    const name = text.slice(pos, j).trim().toLowerCase();
    if (name === '' || !/^[a-z0-9_]+$/.test(name))
      throw new Error(`bad action name near "${text.slice(pos, pos + 20)}"`);
    pos = j;
    let value = '';
    if (text[pos] === ':') {
      pos++;
      while (pos < text.length && (text[pos] === ' ' || text[pos] === '\t')) pos++;
      if (text[pos] === "'") {
        let k = pos + 1;
        let v = '';
        let closed = false;
        while (k < text.length) {
          const c = text[k];
          if (c === '\\' && text[k + 1] === "'") {
            v += "'";
            k += 2;
            continue;
          }
          if (c === "'") {
            closed = true;
            k++;
            break;
          }
          v += c;
          k++;
        }
        if (!closed) throw new Error(`unterminated quote in action ${name}`);
        value = v;
        pos = k;
        while (pos < text.length && text[pos] !== ',') {
          if (!/\s/.test(text[pos] ?? '')) throw new Error(`unexpected text after quoted value of ${name}`);
          pos++;
        }
      } else {
        let k = pos;
        while (k < text.length && text[k] !== ',') k++;
        value = text.slice(pos, k).trim();
        pos = k;
      }
    }
    out.push({ name, value });
  }
  return out;
}
