import type { OutgoingHttpHeaders } from 'node:http';
import type { RequestContext } from '../../core/context.ts';
import { DONE, type Outcome } from '../../core/outcome.ts';
import type { Stage } from '../../core/stage.ts';
import { upstreamErrorReply } from './errors.ts';

type Json = Record<string, unknown>;

export interface MockResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/**
 * The mock integration: answer from the operation's OpenAPI document, with no upstream.
 * The response is the lowest 2xx (else the lowest declared status), its first media type
 * (JSON preferred), and its example — `example`, else the first of `examples`, else the
 * schema's `example`. Built once at load; the request path only copies bytes.
 */
export function buildMockResponse(operation: Json): MockResponse {
  const responses = (operation.responses ?? {}) as Json;
  // Explicit codes, and OpenAPI ranges (`2XX`) standing for their lowest code; an explicit code
  // wins over the range that contains it.
  const byCode = new Map<number, string>();
  for (const key of Object.keys(responses)) {
    const range = /^([1-5])XX$/i.exec(key);
    if (range) {
      const code = Number(range[1]) * 100;
      if (!byCode.has(code)) byCode.set(code, key);
    } else if (/^[1-5][0-9][0-9]$/.test(key)) byCode.set(Number(key), key);
  }
  const codes = [...byCode.keys()].sort((a, b) => a - b);
  const status = codes.find((c) => c >= 200 && c < 300) ?? codes[0] ?? 200;
  const response = (responses[byCode.get(status) ?? ''] ?? responses.default ?? {}) as Json;
  const headers: Record<string, string> = {};
  for (const [name, header] of Object.entries((response.headers ?? {}) as Json)) {
    const value = exampleOf(header as Json);
    if (value !== undefined && name.toLowerCase() !== 'content-type')
      headers[name.toLowerCase()] = String(value);
  }
  const content = (response.content ?? {}) as Json;
  const types = Object.keys(content);
  const type = types.find((t) => /[/+]json\b/i.test(t)) ?? types[0];
  if (type === undefined || status === 204 || status === 304) {
    return { status, headers, body: Buffer.alloc(0) };
  }
  const example = exampleOf(content[type] as Json);
  const isJson = /[/+]json\b/i.test(type);
  const text =
    example === undefined ? (isJson ? 'null' : '') : isJson ? JSON.stringify(example) : String(example);
  headers['content-type'] = type;
  return { status, headers, body: Buffer.from(text) };
}

function exampleOf(holder: Json | undefined): unknown {
  if (!holder || typeof holder !== 'object') return undefined;
  if (holder.example !== undefined) return holder.example;
  const examples = holder.examples as Json | undefined;
  if (examples && typeof examples === 'object') {
    const first = Object.values(examples)[0] as Json | undefined;
    if (first && typeof first === 'object' && 'value' in first) return first.value;
  }
  const schema = holder.schema as Json | undefined;
  if (schema && typeof schema === 'object') {
    if (schema.example !== undefined) return schema.example;
    if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  }
  return undefined;
}

export function createMockStage(response: MockResponse): Stage {
  return {
    name: 'upstream',
    mode: 'enforce',
    summary: `mock: ${response.status} from the OpenAPI example (${response.body.length} B)`,
    request(ctx: RequestContext): Outcome | Promise<Outcome> {
      const send = (): Outcome => {
        const headers: OutgoingHttpHeaders = { ...response.headers };
        // RFC 9110 §8.6: a server must not send Content-Length on a 204 (nor, usefully, on a 304).
        if (response.status !== 204 && response.status !== 304)
          headers['content-length'] = response.body.length;
        ctx.sendBody(response.status, headers, response.body, 'mock');
        return DONE;
      };
      const body = ctx.takeBody();
      if (body === null) return send();
      // Read a request body to the end first: it is held to the same size limit as a proxied
      // one, and the connection stays usable for the next request.
      return new Promise<Outcome>((resolve) => {
        body.on('error', (err) => {
          if (ctx.aborted) {
            ctx.reason ??= 'client_aborted';
            resolve(DONE);
          } else {
            resolve(upstreamErrorReply(err));
          }
        });
        body.on('end', () => resolve(send()));
        body.resume();
      });
    },
  };
}
