/**
 * multipart/form-data bodies (RFC 7578, RFC 2046 §5.1.1). Fields go to ARGS_POST, files to
 * FILES / FILES_NAMES / FILES_SIZES, every part header line to MULTIPART_PART_HEADERS (keyed
 * by the part's name), and the irregularities evasion techniques rely on (data around the
 * boundaries, LF-only lines, header folding, bad quoting) raise ModSecurity's MULTIPART_*
 * flags, with MULTIPART_STRICT_ERROR as their union.
 */
import { addArg, type BodyState } from './index.ts';

interface Flags {
  BOUNDARY_QUOTED: boolean;
  BOUNDARY_WHITESPACE: boolean;
  DATA_BEFORE: boolean;
  DATA_AFTER: boolean;
  HEADER_FOLDING: boolean;
  LF_LINE: boolean;
  CRLF_LINE: boolean;
  MISSING_SEMICOLON: boolean;
  INVALID_QUOTING: boolean;
  INVALID_PART: boolean;
  INVALID_HEADER_FOLDING: boolean;
  UNMATCHED_BOUNDARY: boolean;
  FILE_LIMIT_EXCEEDED: boolean;
}

export function multipartBoundary(
  contentType: string,
): { boundary: string; quoted: boolean; whitespace: boolean } | undefined {
  const m = /;\s*boundary(\s*)=(\s*)("?)([^";,]*)("?)/i.exec(contentType);
  if (m === null) return undefined;
  const boundary = (m[4] ?? '').replace(/\s+$/, '');
  if (boundary === '') return undefined;
  return { boundary, quoted: m[3] === '"', whitespace: m[1] !== '' || m[2] !== '' || /\s/.test(m[4] ?? '') };
}

export function processMultipart(body: string, contentType: string, state: BodyState): string | undefined {
  const b = multipartBoundary(contentType);
  if (b === undefined) return 'multipart: no boundary in Content-Type';
  const f: Flags = {
    BOUNDARY_QUOTED: b.quoted,
    BOUNDARY_WHITESPACE: b.whitespace,
    DATA_BEFORE: false,
    DATA_AFTER: false,
    HEADER_FOLDING: false,
    LF_LINE: false,
    CRLF_LINE: false,
    MISSING_SEMICOLON: false,
    INVALID_QUOTING: false,
    INVALID_PART: false,
    INVALID_HEADER_FOLDING: false,
    UNMATCHED_BOUNDARY: false,
    FILE_LIMIT_EXCEEDED: false,
  };
  const delim = `--${b.boundary}`;
  let pos = body.indexOf(delim);
  if (pos < 0) {
    setFlags(state, f, true);
    return 'multipart: boundary not found';
  }
  if (pos > 0 && body.slice(0, pos).trim() !== '') f.DATA_BEFORE = true;
  let combined = 0;
  let finished = false;
  let error: string | undefined;
  while (pos >= 0) {
    let p = pos + delim.length;
    if (body.startsWith('--', p)) {
      finished = true;
      const rest = body.slice(p + 2).replace(/^\r?\n/, '');
      if (rest.trim() !== '') f.DATA_AFTER = true;
      break;
    }
    // The boundary line ends with CRLF (or a bare LF, which ModSecurity flags).
    while (body[p] === ' ' || body[p] === '\t') p++;
    if (body.startsWith('\r\n', p)) {
      f.CRLF_LINE = true;
      p += 2;
    } else if (body[p] === '\n') {
      f.LF_LINE = true;
      p += 1;
    } else {
      f.UNMATCHED_BOUNDARY = true;
    }
    const next = findDelimiter(body, delim, p);
    const end = next < 0 ? body.length : next;
    const partRaw = body.slice(p, end);
    const part = parsePart(partRaw, f);
    if (part === undefined) f.INVALID_PART = true;
    else combined += addPart(part, state, f);
    if (next < 0) break;
    pos = next + (body.startsWith('\r\n', next) ? 2 : 1);
  }
  if (!finished) {
    f.UNMATCHED_BOUNDARY = true;
    error = 'multipart: final boundary missing';
  }
  state.set('FILES_COMBINED_SIZE', String(combined));
  setFlags(state, f, false);
  return error;
}

/** The next `\r\n--boundary` (or `\n--boundary`), as the index of its line break. */
function findDelimiter(body: string, delim: string, from: number): number {
  let i = body.indexOf(`\n${delim}`, from);
  if (i < 0) return -1;
  if (i > 0 && body[i - 1] === '\r') i--;
  return i;
}

interface Part {
  readonly headers: [string, string, string][];
  readonly name: string | undefined;
  readonly filename: string | undefined;
  readonly content: string;
}

function parsePart(raw: string, f: Flags): Part | undefined {
  let sep = raw.indexOf('\r\n\r\n');
  let sepLen = 4;
  const lf = raw.indexOf('\n\n');
  if (sep < 0 || (lf >= 0 && lf < sep)) {
    sep = lf;
    sepLen = 2;
    if (sep >= 0) f.LF_LINE = true;
  }
  if (sep < 0) return undefined;
  const lines = raw.slice(0, sep).split(/\r?\n/);
  const headers: [string, string, string][] = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line)) {
      f.HEADER_FOLDING = true;
      const last = headers.at(-1);
      if (last === undefined) f.INVALID_HEADER_FOLDING = true;
      else {
        last[1] += ` ${line.trim()}`;
        last[2] += line;
      }
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      f.INVALID_PART = true;
      continue;
    }
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim(), line]);
  }
  const cd = headers.find((h) => h[0].toLowerCase() === 'content-disposition');
  if (cd === undefined) return undefined;
  const disp = parseDisposition(cd[1], f);
  if (disp === undefined) return undefined;
  return { headers, name: disp.name, filename: disp.filename, content: raw.slice(sep + sepLen) };
}

/** `form-data; name="a"; filename="b"` (RFC 7578 §4.2). */
function parseDisposition(value: string, f: Flags): { name?: string; filename?: string } | undefined {
  if (!/^form-data\s*(?:;|$)/i.test(value)) return undefined;
  const out: { name?: string; filename?: string } = {};
  // An index-based scan: linear in the header's length whatever it holds.
  const n = value.length;
  const ws = (c: string | undefined) => c === ' ' || c === '\t';
  let i = 9;
  for (;;) {
    while (ws(value[i])) i++;
    let semicolon = false;
    if (value[i] === ';') {
      semicolon = true;
      i++;
      while (ws(value[i])) i++;
    }
    if (i >= n) break;
    const start = i;
    while (i < n && /[A-Za-z0-9_*-]/.test(value[i] ?? '')) i++;
    const key = value.slice(start, i).toLowerCase();
    while (ws(value[i])) i++;
    if (key === '' || value[i] !== '=') {
      f.INVALID_PART = true;
      break;
    }
    i++;
    while (ws(value[i])) i++;
    if (!semicolon) f.MISSING_SEMICOLON = true;
    let v = '';
    if (value[i] === '"') {
      i++;
      while (i < n && value[i] !== '"') {
        // As ModSecurity: only \" and \\ are escapes; `..\1.php` keeps its backslash.
        if (value[i] === '\\' && (value[i + 1] === '"' || value[i + 1] === '\\')) i++;
        v += value[i];
        i++;
      }
      if (i >= n) f.INVALID_QUOTING = true;
      i++;
    } else {
      const start = i;
      while (i < n && value[i] !== ';' && !ws(value[i])) i++;
      v = value.slice(start, i);
      if (v.includes("'") || v.includes('"')) f.INVALID_QUOTING = true;
    }
    if (key === 'name') out.name = v;
    else if (key === 'filename' || key === 'filename*') out.filename = v;
  }
  return out;
}

function addPart(part: Part, state: BodyState, f: Flags): number {
  const name = part.name ?? '';
  for (const [, , line] of part.headers) state.add('MULTIPART_PART_HEADERS', name, line);
  state.set('MULTIPART_NAME', name);
  if (part.filename !== undefined) {
    state.set('MULTIPART_FILENAME', part.filename);
    state.add('FILES', name, part.filename);
    state.add('FILES_NAMES', name, name);
    state.add('FILES_SIZES', name, String(part.content.length));
    state.add('FILES_TMPNAMES', name, '');
    return part.content.length;
  }
  if (part.name === undefined) f.INVALID_PART = true;
  addArg(state, name, part.content);
  return 0;
}

function setFlags(state: BodyState, f: Flags, strict: boolean): void {
  const bit = (b: boolean) => (b ? '1' : '0');
  state.set('MULTIPART_BOUNDARY_QUOTED', bit(f.BOUNDARY_QUOTED));
  state.set('MULTIPART_BOUNDARY_WHITESPACE', bit(f.BOUNDARY_WHITESPACE));
  state.set('MULTIPART_DATA_BEFORE', bit(f.DATA_BEFORE));
  state.set('MULTIPART_DATA_AFTER', bit(f.DATA_AFTER));
  state.set('MULTIPART_HEADER_FOLDING', bit(f.HEADER_FOLDING));
  state.set('MULTIPART_LF_LINE', bit(f.LF_LINE));
  state.set('MULTIPART_CRLF_LF_LINES', bit(f.LF_LINE && f.CRLF_LINE));
  state.set('MULTIPART_MISSING_SEMICOLON', bit(f.MISSING_SEMICOLON));
  state.set('MULTIPART_INVALID_QUOTING', bit(f.INVALID_QUOTING));
  state.set('MULTIPART_INVALID_PART', bit(f.INVALID_PART));
  state.set('MULTIPART_INVALID_HEADER_FOLDING', bit(f.INVALID_HEADER_FOLDING));
  state.set('MULTIPART_UNMATCHED_BOUNDARY', bit(f.UNMATCHED_BOUNDARY));
  state.set('MULTIPART_FILE_LIMIT_EXCEEDED', bit(f.FILE_LIMIT_EXCEEDED));
  const any =
    strict ||
    f.DATA_BEFORE ||
    f.DATA_AFTER ||
    f.HEADER_FOLDING ||
    f.LF_LINE ||
    f.MISSING_SEMICOLON ||
    f.INVALID_QUOTING ||
    f.INVALID_PART ||
    f.INVALID_HEADER_FOLDING ||
    f.UNMATCHED_BOUNDARY ||
    f.FILE_LIMIT_EXCEEDED;
  state.set('MULTIPART_STRICT_ERROR', bit(any));
}
