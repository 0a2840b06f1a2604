/**
 * JSON bodies, flattened as Coraza names them: `json.a.b` for object members,
 * `json.a.0` for array elements and `json.a` (the length) for the array; scalars as their JSON text (`true`, `12`), null as ''.
 * Nesting is bounded so a deeply nested body cannot exhaust the stack.
 */
import { addArg, type BodyState, toByteString } from './index.ts';

const MAX_DEPTH = 1024;

export function processJson(body: string, state: BodyState): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(escapesAsBytes(body));
  } catch (err) {
    return `JSON parse error: ${(err as Error).message}`;
  }
  try {
    walk(doc, 'json', 0, state);
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

/**
 * The body is a byte string, so a raw `é` arrives as the two chars C3 A9; a `\u00e9` escape
 * must yield the same bytes. Escapes above U+007F are rewritten to their UTF-8 bytes
 * (`\u00c3\u00a9`) before parsing, so every parsed value stays a byte string.
 */
export function escapesAsBytes(body: string): string {
  if (!body.includes('\\u')) return body;
  return body.replace(
    /\\(?:u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|[^u])/g,
    (all, hi, lo, one) => {
      let cp: number;
      if (hi !== undefined)
        cp = 0x10000 + ((Number.parseInt(hi, 16) - 0xd800) << 10) + (Number.parseInt(lo, 16) - 0xdc00);
      else if (one !== undefined) cp = Number.parseInt(one, 16);
      else return all;
      if (cp < 0x80) return all;
      let out = '';
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8'))
        out += `\\u00${b.toString(16).padStart(2, '0')}`;
      return out;
    },
  );
}

function walk(v: unknown, prefix: string, depth: number, state: BodyState): void {
  if (depth > MAX_DEPTH) throw new Error(`JSON nesting deeper than ${MAX_DEPTH}`);
  if (Array.isArray(v)) {
    // As Coraza: the array itself is an argument holding its length, so rules on names see
    // `json.roles__in` and not only `json.roles__in.0`.
    addArg(state, prefix, String(v.length));
    for (let i = 0; i < v.length; i++) walk(v[i], `${prefix}.${i}`, depth + 1, state);
    return;
  }
  if (v !== null && typeof v === 'object') {
    for (const [k, item] of Object.entries(v)) walk(item, `${prefix}.${toByteString(k)}`, depth + 1, state);
    return;
  }
  const text = v === null ? '' : typeof v === 'string' ? toByteString(v) : String(v);
  addArg(state, prefix, text);
}
