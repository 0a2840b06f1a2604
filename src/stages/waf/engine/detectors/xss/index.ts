/**
 * `@detectXSS`: can this value, placed in an HTML page, start script?
 *
 * A value lands in one of four places, so it is read in each (html-scan.ts):
 * - as text (the data state): `<script>`, `<img src=x onerror=…>`, `<!--[if …]>`;
 * - inside a double-quoted, a single-quoted or an unquoted attribute value: the value may
 *   close the attribute (`" onmouseover="…`, `' autofocus onfocus='…`, `x onerror=…`) or the
 *   tag (`"><script>…`), and whatever follows is read as the rest of that tag, then as text.
 *   A quoted context is skipped when the value holds no such quote; the unquoted one when it
 *   holds neither whitespace nor `>`;
 * - as a whole attribute value or URL of unknown name: `javascript:…`, `vbscript:…` or an
 *   active `data:` document, after the obfuscations browsers tolerate.
 *
 * The scan is linear in the value per context, reads it in place, and allocates nothing.
 * What it does not read: JavaScript contexts (a value inside `<script>` or an `on*` handler
 * is JavaScript, not HTML, and `';alert(1)//` is not HTML), nor CSS beyond `style`.
 */

import { dangerousUrl, eventHandler, nameIs } from './danger.ts';
import { FOUND, scanAttributes, scanData } from './html-scan.ts';

export function detectXSS(input: string): boolean {
  const end = input.length;
  if (end === 0) return false;
  if (dangerousUrl(input, 0, end)) return true;
  const lt = input.indexOf('<');
  // Without `<` no tag can start, and without `=` no attribute gets a value.
  if (lt < 0 && input.indexOf('=') < 0) return false;
  if (lt >= 0 && scanData(input, lt)) return true;
  if (fromQuotedValue(input, '"') || fromQuotedValue(input, "'")) return true;
  return fromUnquotedValue(input);
}

/** The value starts inside `attr="…` (or `'…`): the first such quote closes it. */
function fromQuotedValue(s: string, quote: string): boolean {
  const close = s.indexOf(quote);
  return close >= 0 && afterValue(s, close + 1);
}

/** The value starts inside `attr=…` unquoted: whitespace or `>` ends it. */
function fromUnquotedValue(s: string): boolean {
  const end = s.length;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x3e) return scanData(s, i + 1);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d) return afterValue(s, i);
  }
  return false;
}

/** The rest of the tag the value was in, then the text after it. */
function afterValue(s: string, i: number): boolean {
  if (!worthScanning(s, i)) return false;
  const next = scanAttributes(s, i);
  return next === FOUND || (next < s.length && scanData(s, next));
}

/**
 * Whether the tag scan from `i` can find anything, decided with `indexOf` jumps: a tag start
 * (`<` and a letter, `/`, `!` or `?`) may follow the tag's end; otherwise only an attribute
 * with a value can run script, and each `=` is checked for a dangerous name before it or a
 * script URL after it. Quotes are ignored, so this says yes whenever the full scan could.
 */
function worthScanning(s: string, i: number): boolean {
  for (let lt = s.indexOf('<', i); lt >= 0; lt = s.indexOf('<', lt + 1)) {
    const c = s.charCodeAt(lt + 1) | 0x20;
    if ((c >= 0x61 && c <= 0x7a) || c === 0x2f || c === 0x21 || c === 0x3f) return true;
  }
  for (let eq = s.indexOf('=', i); eq >= 0; eq = s.indexOf('=', eq + 1)) {
    let nameEnd = eq;
    while (nameEnd > i && isSpace(s.charCodeAt(nameEnd - 1))) nameEnd--;
    let name = nameEnd;
    while (name > i && isNameByte(s.charCodeAt(name - 1))) name--;
    if (
      eventHandler(s, name, nameEnd) ||
      nameIs(s, name, nameEnd, 'style') ||
      nameIs(s, name, nameEnd, 'srcdoc')
    )
      return true;
    let value = eq + 1;
    while (value < s.length && isSpace(s.charCodeAt(value))) value++;
    const q = s.charCodeAt(value);
    if (q === 0x22 || q === 0x27) value++;
    if (dangerousUrl(s, value, s.length)) return true;
  }
  return false;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d;
}

/** The bytes of a name `eventHandler`, `style` or `srcdoc` can accept. */
function isNameByte(c: number): boolean {
  const l = c | 0x20;
  return (l >= 0x61 && l <= 0x7a) || c === 0x2d || c === 0x5f || c === 0;
}
