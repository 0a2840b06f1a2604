/**
 * A strict JSON (RFC 8259) parser for security-relevant documents: JWS headers, JWT claims,
 * JWKS and discovery documents.
 *
 * `JSON.parse` keeps the last of two members with the same name. RFC 8259 §4 leaves duplicate
 * names undefined and RFC 7515 §5.2 / RFC 7519 §7.2 say a JOSE parser MUST reject them (or use
 * a parser that only returns the lexically last): two parsers on the path (this gateway and the
 * upstream, or a WAF) could each read a different `sub`. We refuse them outright, comparing names
 * after unescaping (`"a"` and `"\u0061"` are the same name).
 *
 * Also refused: nesting deeper than {@link MAX_DEPTH} (stack exhaustion) and a `__proto__`
 * member (prototype pollution in code that later copies the object with `Object.assign` or a
 * merge). One pass, no backtracking: linear in the length of the text.
 */

export const MAX_DEPTH = 32;

export class StrictJsonError extends Error {
  override readonly name = 'StrictJsonError';
}

// RFC 8259 §6; the sticky flag anchors each match at the cursor (no scanning ahead).
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
// A run of string characters that need no unescaping: not `"`, `\` or a control character.
// biome-ignore lint/suspicious/noControlCharactersInRegex: RFC 8259 §7 forbids raw U+0000-U+001F in strings
const PLAIN = /[^"\\\u0000-\u001f]*/y;
const HEX4 = /^[0-9A-Fa-f]{4}$/;
const ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

export function parseStrictJson(text: string): unknown {
  const parser = new Parser(text);
  const value = parser.value(0);
  parser.end();
  return value;
}

class Parser {
  readonly #text: string;
  #pos = 0;

  constructor(text: string) {
    this.#text = text;
  }

  value(depth: number): unknown {
    this.#ws();
    const c = this.#text[this.#pos];
    switch (c) {
      case '{':
        return this.#object(depth + 1);
      case '[':
        return this.#array(depth + 1);
      case '"':
        return this.#string();
      case 't':
        return this.#literal('true', true);
      case 'f':
        return this.#literal('false', false);
      case 'n':
        return this.#literal('null', null);
      default:
        return this.#number();
    }
  }

  end(): void {
    this.#ws();
    if (this.#pos !== this.#text.length) this.#fail('unexpected data after the JSON value');
  }

  #object(depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) this.#fail(`nesting deeper than ${MAX_DEPTH}`);
    this.#pos++;
    const out: Record<string, unknown> = {};
    const names = new Set<string>();
    this.#ws();
    if (this.#text[this.#pos] === '}') {
      this.#pos++;
      return out;
    }
    for (;;) {
      this.#ws();
      if (this.#text[this.#pos] !== '"') this.#fail('expected a member name');
      const at = this.#pos;
      const name = this.#string();
      if (name === '__proto__') this.#fail('member "__proto__" is not accepted', at);
      if (names.has(name)) this.#fail(`duplicate member ${quote(name)}`, at);
      names.add(name);
      this.#ws();
      if (this.#text[this.#pos] !== ':') this.#fail('expected ":"');
      this.#pos++;
      out[name] = this.value(depth);
      this.#ws();
      const c = this.#text[this.#pos++];
      if (c === '}') return out;
      if (c !== ',') this.#fail('expected "," or "}"', this.#pos - 1);
    }
  }

  #array(depth: number): unknown[] {
    if (depth > MAX_DEPTH) this.#fail(`nesting deeper than ${MAX_DEPTH}`);
    this.#pos++;
    const out: unknown[] = [];
    this.#ws();
    if (this.#text[this.#pos] === ']') {
      this.#pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth));
      this.#ws();
      const c = this.#text[this.#pos++];
      if (c === ']') return out;
      if (c !== ',') this.#fail('expected "," or "]"', this.#pos - 1);
    }
  }

  #string(): string {
    const text = this.#text;
    this.#pos++; // opening quote
    let out = '';
    for (;;) {
      PLAIN.lastIndex = this.#pos;
      PLAIN.test(text);
      out += text.slice(this.#pos, PLAIN.lastIndex);
      this.#pos = PLAIN.lastIndex;
      const c = text[this.#pos];
      if (c === '"') {
        this.#pos++;
        return out;
      }
      if (c !== '\\') this.#fail(c === undefined ? 'unterminated string' : 'control character in string');
      const e = text[this.#pos + 1];
      if (e === 'u') {
        const hex = text.slice(this.#pos + 2, this.#pos + 6);
        if (!HEX4.test(hex)) this.#fail('invalid \\u escape');
        // Lone surrogates are kept, as JSON.parse does (RFC 8259 §8.2 leaves them undefined).
        out += String.fromCharCode(Number.parseInt(hex, 16));
        this.#pos += 6;
      } else {
        const r = e === undefined ? undefined : ESCAPES[e];
        if (r === undefined) this.#fail('invalid escape');
        out += r;
        this.#pos += 2;
      }
    }
  }

  #number(): number {
    NUMBER.lastIndex = this.#pos;
    const m = NUMBER.exec(this.#text);
    if (m === null)
      this.#fail(this.#pos >= this.#text.length ? 'unexpected end of JSON' : 'unexpected character');
    this.#pos = NUMBER.lastIndex;
    return Number(m[0]);
  }

  #literal<T>(word: string, value: T): T {
    if (!this.#text.startsWith(word, this.#pos)) this.#fail('unexpected character');
    this.#pos += word.length;
    return value;
  }

  // RFC 8259 §2: only these four; a BOM or NBSP is not whitespace.
  #ws(): void {
    const text = this.#text;
    for (;;) {
      const c = text.charCodeAt(this.#pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      this.#pos++;
    }
  }

  #fail(message: string, at = this.#pos): never {
    throw new StrictJsonError(`${message} at offset ${at}`);
  }
}

/** A member name for a message: quoted and cut short (it may come from an attacker). */
function quote(name: string): string {
  return JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name);
}
