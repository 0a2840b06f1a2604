import { BodyTooLargeError, type RequestContext } from '../../core/context.ts';
import { CONTINUE, DONE, type Outcome, type Reply, reply } from '../../core/outcome.ts';
import type { ReasonCode } from '../../core/reasons.ts';
import type { Stage } from '../../core/stage.ts';
import type { CompiledMedia, CompiledParam, OperationValidation } from './compile.ts';
import { coerceScalar, itemsOf, propertyOf, schemaTypes, setOwn } from './engine/coerce.ts';
import { describeErrors, type FieldError, fieldErrors } from './engine/field-errors.ts';
import { parseJsonBody } from './engine/json-body.ts';
import { charsetOf, matchMediaType, mediaTypeOf } from './engine/media-type.ts';
import { decodeComponent, parsePairs } from './engine/pairs.ts';
import {
  type ParamRead,
  parseCookies,
  readCookie,
  readHeader,
  readPath,
  readQuery,
} from './engine/styles.ts';

/** Bodies up to this size are validated again with every error collected once found invalid. */
const FULL_REPORT_LIMIT = 64 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The `validate` stage: the request's parameters and body against the operation's OpenAPI
 * description, with validators compiled at load (compile.ts). The body is read (buffered up to
 * the body limit) only when its content type has a schema to check; the upstream then gets the
 * same bytes, unchanged — validation never rewrites a request.
 */
export function createValidateStage(v: OperationValidation, mode: 'enforce' | 'shadow'): Stage {
  const stage: Stage = {
    name: 'validate',
    mode,
    summary: summarize(v),
    request(ctx: RequestContext): Outcome | Promise<Outcome> {
      const errors: FieldError[] = [];
      let reason: ReasonCode = 'request_invalid';
      if (v.params.length > 0 && checkParams(ctx, v, errors)) reason = 'parameter_repeated';
      if (!v.checkBody) return verdict(errors, reason);
      const hasBody =
        ctx.headers['transfer-encoding'] !== undefined ||
        (ctx.headers['content-length'] !== undefined && ctx.headers['content-length'] !== '0');
      if (v.body === null) {
        if (hasBody && v.strict) {
          return reply(415, 'unsupported_media_type', {
            detail: 'a body was sent to an operation that declares no requestBody (strict)',
          });
        }
        return verdict(errors, reason);
      }
      if (!hasBody) {
        if (v.body.required) errors.push({ path: 'body', rule: 'required', detail: 'is required' });
        return verdict(errors, reason);
      }
      const mediaType = mediaTypeOf(ctx.headers['content-type']);
      const media = mediaType === null ? undefined : matchMediaType(v.body.content, mediaType);
      if (media === undefined) {
        return reply(415, 'unsupported_media_type', {
          detail: `content type ${mediaType ?? '(none or malformed)'} is not declared (declared: ${[...v.body.content.keys()].join(', ') || 'none'})`,
        });
      }
      if (media.fast === null) return verdict(errors, reason);
      if (media.kind === 'json') {
        const charset = charsetOf(ctx.headers['content-type']);
        if (charset !== null && charset !== 'utf-8') {
          return reply(415, 'unsupported_media_type', {
            detail: `JSON in charset ${charset} (RFC 8259 §8.1: UTF-8 only)`,
          });
        }
      }
      return checkBody(ctx, v, media, errors, reason, unreadable);
    },
  };
  // A body that could not be read (over the limit, or the client left) ends the request in
  // either mode: it is not a validation verdict, and nothing is left to send upstream.
  const enforcing: Stage = { ...stage, mode: 'enforce' };
  const unreadable = (ctx: RequestContext, r: Reply): Outcome => {
    if (mode === 'enforce') return r;
    ctx.record(enforcing, r);
    ctx.sendReply(r);
    return DONE;
  };
  return stage;
}

function verdict(errors: FieldError[], reason: ReasonCode): Outcome {
  if (errors.length === 0) return CONTINUE;
  return reply(400, reason, { errors, detail: describeErrors(errors) });
}

/** Check every parameter; true when one was repeated (parameter pollution). */
function checkParams(ctx: RequestContext, v: OperationValidation, errors: FieldError[]): boolean {
  const pairs = v.query ? parsePairs(ctx.query, false) : null;
  const cookies = v.cookies ? parseCookies(ctx.headers.cookie) : null;
  let repeated = false;
  for (const p of v.params) {
    const read = readParam(ctx, p, pairs, cookies);
    if (!read.ok) {
      errors.push({ path: read.path, rule: read.rule, detail: read.detail });
      if (read.rule === 'repeated') repeated = true;
      continue;
    }
    const path = `${p.spec.in}/${p.spec.name}`;
    let value = read.value;
    if (value === undefined) {
      if (p.required) errors.push({ path, rule: 'required', detail: 'is required' });
      continue;
    }
    if (value === '' && p.allowEmpty) continue;
    if (p.json) {
      const parsed = parseJsonBody(Buffer.from(String(value)), v.maxDepth);
      if (!parsed.ok) {
        errors.push({ path, rule: 'content', detail: parsed.problem.replace(/^body/, 'value') });
        continue;
      }
      value = parsed.value;
    }
    if (!p.validate(value)) errors.push(...fieldErrors(path, p.validate.errors ?? []));
  }
  return repeated;
}

function readParam(
  ctx: RequestContext,
  p: CompiledParam,
  pairs: ReturnType<typeof parsePairs> | null,
  cookies: ReturnType<typeof parseCookies> | null,
): ParamRead {
  switch (p.spec.in) {
    case 'path':
      return readPath(p.spec, ctx.route?.params[p.spec.name]);
    case 'query':
      return readQuery(p.spec, pairs!);
    case 'cookie':
      return readCookie(p.spec, cookies!);
    default:
      return readHeader(p.spec, headerLines(ctx, p.spec.name));
  }
}

/** Every line of one header as received: node joins repeats, which would hide a second copy. */
function headerLines(ctx: RequestContext, name: string): string[] {
  const raw = ctx.rawHeaders;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i]!.length === name.length && raw[i]!.toLowerCase() === name) out.push(raw[i + 1]!);
  return out;
}

async function checkBody(
  ctx: RequestContext,
  v: OperationValidation,
  media: CompiledMedia,
  errors: FieldError[],
  reason: ReasonCode,
  unreadable: (ctx: RequestContext, r: Reply) => Outcome,
): Promise<Outcome> {
  let bytes: Buffer;
  try {
    bytes = await ctx.readBody();
  } catch (err) {
    if (err instanceof BodyTooLargeError) {
      return unreadable(
        ctx,
        reply(413, 'body_too_large', { detail: err.message, headers: { connection: 'close' } }),
      );
    }
    // The client went away mid-body: nothing to check, nobody to answer.
    return unreadable(ctx, reply(499, 'client_aborted', { detail: (err as Error).message }));
  }
  if (bytes.length === 0) {
    if (v.body!.required) errors.push({ path: 'body', rule: 'required', detail: 'is required' });
    return verdict(errors, reason);
  }
  let value: unknown;
  if (media.kind === 'json') {
    const parsed = parseJsonBody(bytes, v.maxDepth);
    if (!parsed.ok) return malformed(parsed.problem);
    value = parsed.value;
  } else {
    const form = readForm(bytes, media.schema);
    if (typeof form === 'string') return malformed(form);
    if (form.repeated.length > 0) {
      for (const name of form.repeated)
        errors.push({ path: `body/${name}`, rule: 'repeated', detail: 'given more than once' });
      return verdict(errors, 'parameter_repeated');
    }
    value = form.value;
  }
  if (!media.fast!(value)) {
    const full =
      bytes.length <= FULL_REPORT_LIMIT && media.full!(value) === false ? media.full! : media.fast!;
    errors.push(...fieldErrors('body', full.errors ?? []));
  }
  return verdict(errors, reason);
}

function malformed(problem: string): Outcome {
  const errors: FieldError[] = [{ path: 'body', rule: 'syntax', detail: problem }];
  return reply(400, 'body_malformed', { errors, detail: problem });
}

/**
 * A form body as an object: each field coerced to its property's type, an array property from
 * every copy of its field, and any other field given twice reported (form parameter pollution).
 */
function readForm(
  bytes: Buffer,
  schema: unknown,
): { value: Record<string, unknown>; repeated: string[] } | string {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return 'body is not valid UTF-8';
  }
  const value: Record<string, unknown> = {};
  const repeated: string[] = [];
  for (const [name, raws] of parsePairs(text, true)) {
    const prop = propertyOf(schema, name);
    const decoded: string[] = [];
    for (const r of raws) {
      const d = decodeComponent(r, true);
      if (d === null) return 'malformed percent-encoding or not UTF-8 in a form field';
      decoded.push(d);
    }
    if (schemaTypes(prop).has('array')) {
      const items = itemsOf(prop);
      setOwn(
        value,
        name,
        decoded.map((d) => coerceScalar(d, items)),
      );
    } else if (decoded.length > 1) {
      repeated.push(name.length <= 64 ? name : `${name.slice(0, 64)}…`);
    } else {
      setOwn(value, name, coerceScalar(decoded[0]!, prop));
    }
  }
  return { value, repeated };
}

function summarize(v: OperationValidation): string {
  const parts: string[] = [];
  if (v.params.length > 0) parts.push(`${v.params.length} parameter(s)`);
  if (!v.checkBody) parts.push('body not checked');
  else if (v.body === null) parts.push(v.strict ? 'no body accepted (strict)' : 'no requestBody declared');
  else {
    const types = [...v.body.content.values()].map(
      (m) => `${m.mediaType}${m.fast === null ? ' (type only)' : ''}`,
    );
    parts.push(`body ${types.join(', ')}${v.body.required ? ', required' : ''}; other types 415`);
  }
  if (v.strict) parts.push('strict');
  return parts.join('; ');
}
