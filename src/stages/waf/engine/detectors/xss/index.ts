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

import { dangerousUrl } from './danger.ts';
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
  // Only an attribute with a value, or a tag after the `>`, can be dangerous from here. With
  // no `=` left there are no values (so no quotes to respect): go straight to the `>`.
  if (s.indexOf('=', i) < 0) {
    const gt = s.indexOf('>', i);
    return gt >= 0 && s.indexOf('<', gt) >= 0 && scanData(s, gt + 1);
  }
  const next = scanAttributes(s, i);
  return next === FOUND || (next < s.length && scanData(s, next));
}
