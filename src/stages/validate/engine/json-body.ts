/**
 * Strict parsing of JSON request bodies (RFC 8259). Three things JSON.parse alone lets through,
 * each refused here before a value is built:
 *
 * - bytes that are not UTF-8 (§8.1): decoded with a fatal decoder, never replaced by U+FFFD, so
 *   the gateway and the upstream cannot read different strings from the same bytes;
 * - nesting deeper than a bound: V8's JSON.parse is iterative, but every recursive consumer after
 *   it (schema validation, the upstream's own parser) is not — a 100 000-deep `[[[…]]]` is a
 *   stack-exhaustion bomb for them;
 * - duplicate member names (§4 "SHOULD be unique"): parsers disagree on which one wins
 *   (first, last, error), so `{"role":"user","role":"admin"}` can validate as one and be
 *   processed as the other (a JSON interoperability attack). Names are compared after escapes
 *   are decoded (`"\u0072ole"` is `"role"`).
 *
 * `__proto__` needs nothing here: JSON.parse defines it as an own data property, never as the
 * prototype, and nothing downstream merges the value into another object.
 */

export type JsonBody =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly problem: string };

const decoder = new TextDecoder('utf-8', { fatal: true });

export function parseJsonBody(bytes: Uint8Array, maxDepth: number): JsonBody {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { ok: false, problem: 'body is not valid UTF-8' };
  }
  const members = checkShape(text, maxDepth);
  if (typeof members === 'string') return { ok: false, problem: members };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // V8's message quotes the input around the error; only the position is kept.
    const at = /position (\d+)/.exec((err as Error).message);
    return { ok: false, problem: `body is not valid JSON${at ? ` (at position ${at[1]})` : ''}` };
  }
  // A repeated name leaves one member where the text had two: the totals differ.
  if (members !== countMembers(value)) return { ok: false, problem: 'duplicate member name in an object' };
  return { ok: true, value };
}

/** Own members of every object in a parsed value, without recursion. */
function countMembers(value: unknown): number {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (typeof v[i] === 'object' && v[i] !== null) stack.push(v[i]);
      continue;
    }
    for (const key in v) {
      total++;
      const child = (v as Record<string, unknown>)[key];
      if (typeof child === 'object' && child !== null) stack.push(child);
    }
  }
  return total;
}

/**
 * One pass over the text: container depth, and the number of object members it spells (a
 * string in key position: after `{` or after `,` inside an object). Returns that count, or a
 * problem. Syntax errors are left to JSON.parse (the count only has to be right on text that
 * parses); comparing it with the parsed value's members finds duplicates (`"\u0072ole"` is
 * `"role"` once JSON.parse has decoded it) without building a set per object.
 */
export function checkShape(text: string, maxDepth: number): number | string {
  // Per open container: true for an object, false for an array.
  const stack: boolean[] = [];
  let expectKey = false;
  let members = 0;
  const n = text.length;
  // Strings are skipped with indexOf (native) rather than char by char: most of a body's bytes
  // are string content. `backslash` caches the next `\\` so escapes cost one search per string.
  let backslash = text.indexOf('\\');
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let j = text.indexOf('"', i + 1);
      if (backslash !== -1 && backslash < i) backslash = text.indexOf('\\', i);
      while (j !== -1 && backslash !== -1 && backslash < j) {
        // Skip the escaped character, then look again for the closing quote.
        const after = backslash + 2;
        if (after > j) j = text.indexOf('"', after);
        backslash = text.indexOf('\\', after);
      }
      if (j === -1) return members; // unterminated: JSON.parse reports it
      if (expectKey) {
        members++;
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      if (stack.length >= maxDepth) return `nesting deeper than ${maxDepth}`;
      stack.push(c === 0x7b);
      expectKey = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      expectKey = stack.length > 0 && stack[stack.length - 1]!;
    } else if (c === 0x3a) {
      expectKey = false;
    }
  }
  return members;
}
