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

export function expandMacros(text: string, lookup: Lookup): string {
  if (!text.includes('%{')) return text;
  return text.replace(MACRO, (_, ref: string) => {
    const dot = ref.indexOf('.');
    const name = (dot < 0 ? ref : ref.slice(0, dot)).trim().toUpperCase();
    const key = dot < 0 ? undefined : ref.slice(dot + 1);
    return lookup(name, key) ?? '';
  });
}
