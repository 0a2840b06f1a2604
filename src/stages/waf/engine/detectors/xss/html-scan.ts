/**
 * A scanner for the part of the HTML5 tokenizer (WHATWG HTML §13.2.5) that decides whether a
 * value can start script: the data state, tag open, tag name, attribute name and value in the
 * three quoting styles, end tags, comments, `<!…>` and `<?…>`. It does not build tokens; it
 * walks the bytes once and stops at the first dangerous construct (danger.ts).
 *
 * Where browsers are lenient the scanner is too: `/` separates attributes (`<svg/onload=…>`),
 * an attribute may follow a closing quote with no space (`"onmouseover=…`), an unclosed tag
 * still counts (the application's markup may close it), and tag names may carry a namespace
 * prefix (`<x:script>`). A `<` not followed by a letter, `/`, `!` or `?` is text — so
 * `a < b`, `5<6` and `<3` are prose, as they are to a browser.
 */

import { dangerousStyle, dangerousTag, dangerousUrl, eventHandler, nameIs } from './danger.ts';

/** Returned instead of a position when the scan found script. */
export const FOUND = -2;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d;
}

function isLetter(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

/** The data state from `i`: true when a dangerous construct appears. */
export function scanData(s: string, i: number): boolean {
  const end = s.length;
  while (i < end) {
    const lt = s.indexOf('<', i);
    if (lt < 0) return false;
    const c = s.charCodeAt(lt + 1);
    if (isLetter(c)) {
      i = scanTag(s, lt + 1);
      if (i === FOUND) return true;
    } else if (c === 0x2f && isLetter(s.charCodeAt(lt + 2))) {
      // An end tag's attributes are ignored by browsers; skip to its `>`.
      const gt = s.indexOf('>', lt + 2);
      if (gt < 0) return false;
      i = gt + 1;
    } else if (c === 0x21) {
      i = scanMarkup(s, lt + 2);
      if (i === FOUND) return true;
    } else if (c === 0x3f) {
      // To HTML, `<?…` is a bogus comment that ends at the first `>`, quotes or not. IE's
      // `<?import>` loads a behaviour; XML's `<?xml-stylesheet href=…?>` loads a stylesheet.
      if (nameIs(s, lt + 2, lt + 8, 'import')) return true;
      if (nameIs(s, lt + 2, lt + 16, 'xml-stylesheet') && scanAttributes(s, lt + 16) === FOUND) return true;
      const gt = s.indexOf('>', lt + 2);
      if (gt < 0) return false;
      i = gt + 1;
    } else i = lt + 1;
  }
  return false;
}

/**
 * `<!` at `i - 2`: a comment up to `-->`, or a declaration up to `>`. IE conditional comments
 * (`<!--[if …]>`, `<![if …]>`) run their body as markup, so they count as dangerous.
 */
function scanMarkup(s: string, i: number): number {
  if (s.charCodeAt(i) === 0x2d && s.charCodeAt(i + 1) === 0x2d) {
    if (s.charCodeAt(i + 2) === 0x5b && nameIs(s, i + 3, i + 5, 'if')) return FOUND;
    // `<!-->` and `<!--->` close at once (§13.2.5.43); otherwise the comment runs to `-->`.
    if (s.charCodeAt(i + 2) === 0x3e) return i + 3;
    if (s.charCodeAt(i + 2) === 0x2d && s.charCodeAt(i + 3) === 0x3e) return i + 4;
    // A comment also ends at `--!>` (§13.2.5.52, a parse error browsers accept).
    const close = s.indexOf('-->', i + 2);
    const bang = s.indexOf('--!>', i + 2);
    if (bang >= 0 && (close < 0 || bang < close)) return bang + 4;
    return close < 0 ? s.length : close + 3;
  }
  if (s.charCodeAt(i) === 0x5b && nameIs(s, i + 1, i + 3, 'if')) return FOUND;
  const gt = s.indexOf('>', i);
  return gt < 0 ? s.length : gt + 1;
}

/** A start tag whose name begins at `i`: FOUND, or the position after it. */
function scanTag(s: string, i: number): number {
  const end = s.length;
  const name = i;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (isSpace(c) || c === 0x2f || c === 0x3e) break;
    i++;
  }
  if (dangerousTag(s, name, i)) return FOUND;
  return scanAttributes(s, i);
}

/**
 * The attributes of a tag from `i` (the before-attribute-name state): FOUND, the position
 * after the tag's `>`, or the end of the input when the tag is not closed.
 */
export function scanAttributes(s: string, i: number): number {
  const end = s.length;
  while (i < end) {
    let c = s.charCodeAt(i);
    if (isSpace(c) || c === 0x2f) {
      i++;
      continue;
    }
    if (c === 0x3e) return i + 1;
    // An attribute name; a leading `=` belongs to it (§13.2.5.32).
    const name = i++;
    while (i < end) {
      c = s.charCodeAt(i);
      if (isSpace(c) || c === 0x2f || c === 0x3e || c === 0x3d) break;
      i++;
    }
    const nameEnd = i;
    while (i < end && isSpace(s.charCodeAt(i))) i++;
    if (s.charCodeAt(i) !== 0x3d) continue;
    i++;
    while (i < end && isSpace(s.charCodeAt(i))) i++;
    const q = s.charCodeAt(i);
    let value: number;
    let valueEnd: number;
    if (q === 0x22 || q === 0x27) {
      value = i + 1;
      const close = s.indexOf(q === 0x22 ? '"' : "'", value);
      valueEnd = close < 0 ? end : close;
      i = close < 0 ? end : close + 1;
    } else {
      value = i;
      while (i < end && !isSpace(s.charCodeAt(i)) && s.charCodeAt(i) !== 0x3e) i++;
      valueEnd = i;
    }
    if (dangerousAttribute(s, name, nameEnd, value, valueEnd)) return FOUND;
  }
  return end;
}

/** An attribute that runs script: an event handler, a script URL, a scripting style, srcdoc. */
export function dangerousAttribute(
  s: string,
  name: number,
  nameEnd: number,
  value: number,
  valueEnd: number,
) {
  // An empty handler (`onerror=`) runs nothing.
  if (eventHandler(s, name, nameEnd)) return valueEnd > value;
  if (nameIs(s, name, nameEnd, 'style')) return dangerousStyle(s, value, valueEnd);
  // `<iframe srcdoc="…">` renders its value as a document.
  if (nameIs(s, name, nameEnd, 'srcdoc')) {
    const lt = s.indexOf('<', value);
    return lt >= 0 && lt < valueEnd;
  }
  return dangerousUrl(s, value, valueEnd);
}
