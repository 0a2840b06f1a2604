/**
 * What makes a tag, an attribute or a URL able to run script — the judgements the HTML scanner
 * (html-scan.ts) asks for. All comparisons are ASCII case-insensitive, skip NUL bytes (old
 * engines ignored them inside names: `<scr\0ipt>`), and read the input in place.
 */

/**
 * Elements that run or load active content, or change how the rest of the page is read:
 * script; frames and plugins; `base` (every relative URL now points elsewhere); `link` and
 * `style` (CSS imports, IE `behavior`); `meta` (refresh to a `javascript:` URL);
 * `import`, `isindex`, `vmlframe`, `layer`, `ilayer`, `bgsound` (legacy IE/Netscape vectors);
 * `svg` and `math`, foreign content with its own parsing rules (`<svg><style>` is not CSS text,
 * `<math><mtext>` re-enters HTML): the usual carriers of parser-differential XSS, and never
 * needed in a value an API takes as text.
 */
const DANGEROUS_TAGS = [
  'script',
  'iframe',
  'frame',
  'frameset',
  'object',
  'embed',
  'applet',
  'base',
  'link',
  'style',
  'meta',
  'import',
  'isindex',
  'svg',
  'math',
  'vmlframe',
  'layer',
  'ilayer',
  'bgsound',
  'portal',
];

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

/** `s[start, end)` equals `word` (lower-case ASCII), ignoring case and NUL bytes. */
export function nameIs(s: string, start: number, end: number, word: string): boolean {
  let k = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) continue;
    if (k >= word.length || lower(c) !== word.charCodeAt(k)) return false;
    k++;
  }
  return k === word.length;
}

/** The tag names as a case-insensitive trie over a-z: one array read per byte of a name. */
function buildTrie(words: readonly string[]): { next: Int32Array; accept: Uint8Array } {
  const next: number[] = new Array(26).fill(0);
  const accept: number[] = [0];
  for (const w of words) {
    let node = 0;
    for (let i = 0; i < w.length; i++) {
      const l = w.charCodeAt(i) - 0x61;
      let to = next[node * 26 + l]!;
      if (to === 0) {
        to = accept.length;
        accept.push(0);
        for (let k = 0; k < 26; k++) next.push(0);
        next[node * 26 + l] = to;
      }
      node = to;
    }
    accept[node] = 1;
  }
  return { next: Int32Array.from(next), accept: Uint8Array.from(accept) };
}
const TAGS = buildTrie(DANGEROUS_TAGS);

/** A dangerous element name; a namespace prefix (`<x:script>`) does not hide it. */
export function dangerousTag(s: string, start: number, end: number): boolean {
  for (let i = end - 1; i > start; i--) {
    if (s.charCodeAt(i) === 0x3a) {
      start = i + 1;
      break;
    }
  }
  let node = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) continue;
    const l = lower(c) - 0x61;
    if (l < 0 || l > 25) return false;
    node = TAGS.next[node * 26 + l]!;
    if (node === 0) return false;
  }
  return TAGS.accept[node] === 1;
}

/**
 * An event-handler attribute: `on` and at least three letters. Any such name counts, not only
 * the events known today — browsers add events, and `<x onbeforeX=…>` costs nothing to flag.
 */
export function eventHandler(s: string, start: number, end: number): boolean {
  let k = 0;
  for (let i = start; i < end; i++) {
    const c = lower(s.charCodeAt(i));
    if (c === 0) continue;
    if (k === 0 && c !== 0x6f) return false;
    if (k === 1 && c !== 0x6e) return false;
    if (k >= 2 && (c < 0x61 || c > 0x7a) && c !== 0x2d && c !== 0x5f) return false;
    k++;
  }
  return k >= 5;
}

/** `word` (lower-case ASCII) starts at `s[i]`, ignoring case. */
function matchesAt(s: string, i: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) if (lower(s.charCodeAt(i + k)) !== word.charCodeAt(k)) return false;
  return true;
}

/** `s[start, end)` contains `word` (lower-case ASCII), ignoring case; quadratic only in `word`. */
export function containsWord(s: string, start: number, end: number, word: string): boolean {
  for (let i = start; i <= end - word.length; i++) if (matchesAt(s, i, word)) return true;
  return false;
}

/**
 * A `style` value that runs script: IE `expression(…)` and `behavior`, Firefox `-moz-binding`,
 * a `javascript:` URL, or an `@import` of a foreign sheet.
 */
export function dangerousStyle(s: string, start: number, end: number): boolean {
  return (
    containsWord(s, start, end, 'expression') ||
    containsWord(s, start, end, 'javascript:') ||
    containsWord(s, start, end, 'vbscript:') ||
    containsWord(s, start, end, '-moz-binding') ||
    behaviorProperty(s, start, end) ||
    containsWord(s, start, end, '@import')
  );
}

/** IE's `behavior:` property itself — not `scroll-behavior` or `overscroll-behavior-x`. */
function behaviorProperty(s: string, start: number, end: number): boolean {
  for (let i = start; i <= end - 8; i++) {
    if (!matchesAt(s, i, 'behavior')) continue;
    const before = i === start ? 0x20 : lower(s.charCodeAt(i - 1));
    const after = s.charCodeAt(i + 8);
    if (before !== 0x2d && !(before >= 0x61 && before <= 0x7a) && after !== 0x2d) return true;
  }
  return false;
}

// The normalised start of a URL: entities decoded, whitespace and control bytes dropped,
// lower-cased. 40 bytes hold the longest scheme and media type compared.
const URL_PREFIX = 40;
const url = new Uint8Array(URL_PREFIX);

/** Decodes a character reference at `s[i]` (`&#x61;`, `&#97;`, `&colon;`, `&Tab;`, ...). */
let refEnd = 0;
function charRef(s: string, i: number, end: number): number {
  let j = i + 1;
  if (s.charCodeAt(j) === 0x23) {
    j++;
    const hex = (s.charCodeAt(j) | 0x20) === 0x78;
    if (hex) j++;
    let v = 0;
    let digits = 0;
    // Browsers accept any number of leading zeros (`&#0000106;`).
    while (j < end && s.charCodeAt(j) === 0x30 && isDigitOrHex(s.charCodeAt(j + 1), hex)) j++;
    for (; j < end && digits < 8; j++, digits++) {
      const c = s.charCodeAt(j);
      const d =
        c >= 0x30 && c <= 0x39
          ? c - 0x30
          : hex && (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66
            ? (c | 0x20) - 87
            : -1;
      if (d < 0) break;
      v = v * (hex ? 16 : 10) + d;
    }
    if (digits === 0) return -1;
    refEnd = s.charCodeAt(j) === 0x3b ? j + 1 : j;
    return v;
  }
  // The named references that spell a scheme's punctuation or the whitespace browsers drop.
  for (const [name, value] of NAMED) {
    if (nameIs(s, j, Math.min(end, j + name.length), name)) {
      refEnd = j + name.length;
      return value;
    }
  }
  return -1;
}
function isDigitOrHex(c: number, hex: boolean): boolean {
  return (c >= 0x30 && c <= 0x39) || (hex && (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

const NAMED: ReadonlyArray<readonly [string, number]> = [
  ['colon;', 0x3a],
  ['tab;', 0x09],
  ['newline;', 0x0a],
  ['nbsp;', 0x20],
  ['sol;', 0x2f],
  ['comma;', 0x2c],
];

const SCHEMES = ['javascript:', 'vbscript:', 'livescript:', 'mocha:'];
/** `data:` URLs a browser renders as a document that runs script (`data:image/png` does not). */
const ACTIVE_DATA = [
  'data:text/html',
  'data:application/xhtml',
  'data:image/svg',
  'data:text/xml',
  'data:application/xml',
];

function startsWith(len: number, word: string): boolean {
  if (len < word.length) return false;
  for (let k = 0; k < word.length; k++) if (url[k] !== word.charCodeAt(k)) return false;
  return true;
}

/**
 * An attribute value (or a whole value used as a URL) that runs script when followed:
 * `javascript:`, `vbscript:`, an active `data:` document — after the obfuscations browsers
 * tolerate: character references (`jav&#x61;script:`, `javascript&colon;`), tab, newline and
 * control bytes anywhere in the scheme (`java\tscript:`), leading spaces, any case.
 */
export function dangerousUrl(s: string, start: number, end: number): boolean {
  let len = 0;
  let scheme = true;
  for (let i = start; i < end && len < URL_PREFIX; ) {
    let c = s.charCodeAt(i);
    if (c === 0x26) {
      const v = charRef(s, i, end);
      if (v >= 0) {
        c = v;
        i = refEnd;
      } else i++;
    } else i++;
    if (c <= 0x20 || c === 0x7f) continue;
    url[len++] = lower(c & 0xff);
    // A scheme is letters up to its colon: anything else first means a relative URL.
    if (!scheme) continue;
    if (c === 0x3a) {
      for (const name of SCHEMES) if (startsWith(len, name)) return true;
      if (!startsWith(len, 'data:')) return false;
      scheme = false;
    } else if (len > 12 || lower(c) < 0x61 || lower(c) > 0x7a) return false;
  }
  for (const d of ACTIVE_DATA) if (startsWith(len, d)) return true;
  return false;
}
