/**
 * XML bodies for the two XPath targets CRS uses: `XML:/*` (the document's text content, one
 * value per text node) and `XML://@*` (every attribute value). A small well-formedness-checking
 * tokenizer: no DTD processing and no external entities (XXE is impossible by construction);
 * the five predefined entities and character references are decoded.
 */
import { type BodyState, toByteString } from './index.ts';

const MAX_DEPTH = 1024;

export function processXml(body: string, state: BodyState): string | undefined {
  const stack: string[] = [];
  let i = 0;
  let rootSeen = false;
  const n = body.length;
  while (i < n) {
    const lt = body.indexOf('<', i);
    const text = body.slice(i, lt < 0 ? n : lt);
    if (text.trim() !== '') {
      if (stack.length === 0) return 'XML: text outside the root element';
      state.add('XML', '/*', decode(text));
    }
    if (lt < 0) break;
    if (body.startsWith('<!--', lt)) {
      const end = body.indexOf('-->', lt + 4);
      if (end < 0) return 'XML: unterminated comment';
      i = end + 3;
      continue;
    }
    if (body.startsWith('<![CDATA[', lt)) {
      const end = body.indexOf(']]>', lt + 9);
      if (end < 0) return 'XML: unterminated CDATA section';
      state.add('XML', '/*', body.slice(lt + 9, end));
      i = end + 3;
      continue;
    }
    if (body.startsWith('<?', lt)) {
      const end = body.indexOf('?>', lt + 2);
      if (end < 0) return 'XML: unterminated processing instruction';
      i = end + 2;
      continue;
    }
    if (body.startsWith('<!', lt)) {
      // DOCTYPE and declarations are skipped, never processed (no entity expansion).
      const bracket = body.indexOf('[', lt + 2);
      const close = body.indexOf('>', lt + 2);
      const end = bracket >= 0 && bracket < close ? body.indexOf(']>', bracket) + 1 : close;
      if (end <= 0) return 'XML: unterminated declaration';
      i = end + 1;
      continue;
    }
    const gt = findTagEnd(body, lt + 1);
    if (gt < 0) return 'XML: unterminated tag';
    const tag = body.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      if (stack.pop() !== name) return `XML: mismatched end tag </${name}>`;
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const inner = selfClosing ? tag.slice(0, -1) : tag;
    const m = /^([^\s/>]+)/.exec(inner);
    if (m === null) return 'XML: bad tag';
    const name = m[1] ?? '';
    if (stack.length === 0 && rootSeen) return 'XML: more than one root element';
    rootSeen = true;
    const attrs = /([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
    const rest = inner.slice(name.length);
    for (let a = attrs.exec(rest); a !== null; a = attrs.exec(rest)) {
      state.add('XML', '//@*', decode(a[2] ?? a[3] ?? ''));
    }
    if (!selfClosing) {
      stack.push(name);
      if (stack.length > MAX_DEPTH) return `XML: nesting deeper than ${MAX_DEPTH}`;
    }
  }
  if (!rootSeen) return 'XML: no root element';
  if (stack.length > 0) return `XML: unclosed element <${stack.at(-1)}>`;
  return undefined;
}

function findTagEnd(s: string, from: number): number {
  let quote = '';
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (quote !== '') {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '>') return i;
  }
  return -1;
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(s: string): string {
  if (!s.includes('&')) return s;
  return toByteString(
    s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (all, ref: string) => {
      if (ref.startsWith('#x')) return safeCp(Number.parseInt(ref.slice(2), 16)) ?? all;
      if (ref.startsWith('#')) return safeCp(Number.parseInt(ref.slice(1), 10)) ?? all;
      return NAMED[ref] ?? all;
    }),
  );
}

function safeCp(cp: number): string | undefined {
  return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : undefined;
}
