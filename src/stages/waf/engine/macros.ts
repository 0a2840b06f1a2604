/**
 * Macro expansion (`%{tx.anomaly_score}`, `%{REQUEST_HEADERS.host}`, `%{MATCHED_VAR}`,
 * `%{rule.id}`): a variable name, optionally `.key` for a collection. An unknown or unset
 * variable expands to the empty string, as in Coraza and libmodsecurity.
 */

const MACRO = /%\{([^}]*)\}/g;

export type Lookup = (name: string, key: string | undefined) => string | undefined;

export function hasMacro(text: string): boolean {
  return text.includes('%{');
}

/** Literal text, or a reference to a variable (and key). */
type Part = string | { readonly name: string; readonly key: string | undefined };

/** Rule texts are few and fixed, so each is split into parts once. */
const compiled = new Map<string, readonly Part[]>();

function compile(text: string): readonly Part[] {
  let parts = compiled.get(text);
  if (parts !== undefined) return parts;
  const out: Part[] = [];
  let last = 0;
  for (const m of text.matchAll(MACRO)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const ref = m[1] ?? '';
    const dot = ref.indexOf('.');
    out.push({
      name: (dot < 0 ? ref : ref.slice(0, dot)).trim().toUpperCase(),
      key: dot < 0 ? undefined : ref.slice(dot + 1),
    });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  parts = out;
  // Bounded: only rule texts are compiled, but never let a caller grow it without limit.
  if (compiled.size < 10_000) compiled.set(text, parts);
  return parts;
}

export function expandMacros(text: string, lookup: Lookup): string {
  if (!text.includes('%{')) return text;
  let out = '';
  for (const p of compile(text)) out += typeof p === 'string' ? p : (lookup(p.name, p.key) ?? '');
  return out;
}
