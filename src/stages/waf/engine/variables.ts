/**
 * SecLang targets: `ARGS|!ARGS:foo|&TX:x|REQUEST_COOKIES:/^__utm/|XML:/*`.
 *
 * A target names a variable; collections take a key (exact, case-insensitive, or a `/regex/`);
 * `&` counts the selected values instead of returning them; `!` excludes keys from the
 * collection of the same name in the same rule. The names are ModSecurity's reference
 * manual's (v2/v3) as CRS v4 uses them.
 */

/**
 * Collections: addressed by key, or all values when no key is given. Persistent collections
 * (IP, GLOBAL, SESSION, ...) and GEO/ENV are not offered: a rule naming them fails to load
 * rather than silently reading nothing.
 */
export const COLLECTIONS: ReadonlySet<string> = new Set([
  'ARGS',
  'ARGS_GET',
  'ARGS_POST',
  'ARGS_NAMES',
  'ARGS_GET_NAMES',
  'ARGS_POST_NAMES',
  'REQUEST_HEADERS',
  'REQUEST_HEADERS_NAMES',
  'REQUEST_COOKIES',
  'REQUEST_COOKIES_NAMES',
  'RESPONSE_HEADERS',
  'RESPONSE_HEADERS_NAMES',
  'FILES',
  'FILES_NAMES',
  'FILES_SIZES',
  'FILES_TMPNAMES',
  'MULTIPART_PART_HEADERS',
  'TX',
  'XML',
  'MATCHED_VARS',
  'MATCHED_VARS_NAMES',
]);

/** Scalar variables: one value each (the empty string when the request has none). */
export const SCALARS: ReadonlySet<string> = new Set([
  'ARGS_COMBINED_SIZE',
  'AUTH_TYPE',
  'FILES_COMBINED_SIZE',
  'FULL_REQUEST_LENGTH',
  'MATCHED_VAR',
  'MATCHED_VAR_NAME',
  'MULTIPART_BOUNDARY_QUOTED',
  'MULTIPART_BOUNDARY_WHITESPACE',
  'MULTIPART_CRLF_LF_LINES',
  'MULTIPART_DATA_AFTER',
  'MULTIPART_DATA_BEFORE',
  'MULTIPART_FILE_LIMIT_EXCEEDED',
  'MULTIPART_FILENAME',
  'MULTIPART_HEADER_FOLDING',
  'MULTIPART_INVALID_HEADER_FOLDING',
  'MULTIPART_INVALID_PART',
  'MULTIPART_INVALID_QUOTING',
  'MULTIPART_LF_LINE',
  'MULTIPART_MISSING_SEMICOLON',
  'MULTIPART_NAME',
  'MULTIPART_STRICT_ERROR',
  'MULTIPART_UNMATCHED_BOUNDARY',
  'PATH_INFO',
  'QUERY_STRING',
  'REMOTE_ADDR',
  'REMOTE_HOST',
  'REMOTE_PORT',
  'REQBODY_ERROR',
  'REQBODY_ERROR_MSG',
  'REQBODY_PROCESSOR',
  'REQBODY_PROCESSOR_ERROR',
  'REQUEST_BASENAME',
  'REQUEST_BODY',
  'REQUEST_BODY_LENGTH',
  'REQUEST_FILENAME',
  'REQUEST_LINE',
  'REQUEST_METHOD',
  'REQUEST_PROTOCOL',
  'REQUEST_URI',
  'REQUEST_URI_RAW',
  'RESPONSE_BODY',
  'RESPONSE_CONTENT_LENGTH',
  'RESPONSE_CONTENT_TYPE',
  'RESPONSE_PROTOCOL',
  'RESPONSE_STATUS',
  'SERVER_ADDR',
  'SERVER_NAME',
  'SERVER_PORT',
  'STATUS_LINE',
  'TIME',
  'TIME_DAY',
  'TIME_EPOCH',
  'TIME_HOUR',
  'TIME_MIN',
  'TIME_MON',
  'TIME_SEC',
  'TIME_WDAY',
  'TIME_YEAR',
  'UNIQUE_ID',
]);

export type KeySelector =
  | { readonly kind: 'all' }
  | { readonly kind: 'exact'; readonly key: string; readonly lower: string }
  | { readonly kind: 'regex'; readonly source: string; readonly regex: RegExp };

export interface VariableSpec {
  /** Upper-case variable name (`ARGS`). */
  readonly name: string;
  readonly selector: KeySelector;
  /** `&VAR`: the number of selected values. */
  readonly count: boolean;
  /** `!VAR:key`: an exclusion from the collection `name` in the same rule. */
  readonly exclude: boolean;
}

const ALL: KeySelector = { kind: 'all' };

/** Parses one `|`-separated target list. Throws an Error naming the bad target. */
export function parseVariables(text: string): VariableSpec[] {
  const specs: VariableSpec[] = [];
  let pos = 0;
  const s = text.trim();
  while (pos < s.length) {
    let exclude = false;
    let count = false;
    if (s[pos] === '!') {
      exclude = true;
      pos++;
    }
    if (s[pos] === '&') {
      count = true;
      pos++;
    }
    let j = pos;
    while (j < s.length && s[j] !== ':' && s[j] !== '|') j++;
    const name = s.slice(pos, j).trim().toUpperCase();
    pos = j;
    let selector = ALL;
    if (s[pos] === ':') {
      pos++;
      const parsed = parseKey(s, pos, name);
      selector = parsed.selector;
      pos = parsed.end;
    }
    if (pos < s.length && s[pos] !== '|') throw new Error(`bad target near "${s.slice(pos, pos + 20)}"`);
    pos++;
    if (!COLLECTIONS.has(name) && !SCALARS.has(name)) throw new Error(`unknown variable ${name}`);
    if (selector.kind !== 'all' && SCALARS.has(name)) throw new Error(`variable ${name} takes no key`);
    if (exclude && selector.kind === 'all') throw new Error(`exclusion !${name} needs a key`);
    // The XML body processor provides the two XPath views CRS uses; any other expression
    // would silently select nothing.
    if (
      name === 'XML' &&
      !(selector.kind === 'exact' && (selector.key === '/*' || selector.key === '//@*'))
    ) {
      throw new Error('XML supports the XPath expressions /* (text) and //@* (attribute values) only');
    }
    specs.push({ name, selector, count, exclude });
  }
  if (specs.length === 0) throw new Error('empty target list');
  return specs;
}

function parseKey(s: string, pos: number, name: string): { selector: KeySelector; end: number } {
  // XML keys are XPath expressions (`/*`, `//@*`), never regexes.
  if (s[pos] === '/' && name !== 'XML') {
    let j = pos + 1;
    while (j < s.length && s[j] !== '/') j += s[j] === '\\' ? 2 : 1;
    if (j >= s.length) throw new Error(`unterminated regex key in ${name}`);
    const source = s.slice(pos + 1, j);
    // ModSecurity compiles key regexes case-insensitively, as keys are matched case-insensitively.
    return { selector: { kind: 'regex', source, regex: new RegExp(source, 'is') }, end: j + 1 };
  }
  if (s[pos] === "'") {
    const j = s.indexOf("'", pos + 1);
    if (j < 0) throw new Error(`unterminated quoted key in ${name}`);
    const key = s.slice(pos + 1, j);
    return { selector: exactKey(key), end: j + 1 };
  }
  let j = pos;
  while (j < s.length && s[j] !== '|') j++;
  return { selector: exactKey(s.slice(pos, j).trim()), end: j };
}

export function exactKey(key: string): KeySelector {
  return { kind: 'exact', key, lower: key.toLowerCase() };
}

/** Whether `key` is selected by `selector` (keys compare case-insensitively). */
export function keyMatches(selector: KeySelector, key: string): boolean {
  switch (selector.kind) {
    case 'all':
      return true;
    case 'exact':
      return key.toLowerCase() === selector.lower;
    case 'regex':
      return selector.regex.test(key);
  }
}

/** Printable form, as logs and `SecRuleUpdateTarget` comparisons use it. */
export function formatVariable(spec: VariableSpec): string {
  const prefix = (spec.exclude ? '!' : '') + (spec.count ? '&' : '');
  switch (spec.selector.kind) {
    case 'all':
      return prefix + spec.name;
    case 'exact':
      return `${prefix}${spec.name}:${spec.selector.key}`;
    case 'regex':
      return `${prefix}${spec.name}:/${spec.selector.source}/`;
  }
}
