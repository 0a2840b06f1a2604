import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../../scripts/gen-reference.ts';
import type { TestGateway } from '../../helpers/gateway.ts';

/** The document of examples/validation, used by the validation tests so the example cannot drift. */
export const VALIDATION_OPENAPI = readFileSync(join(REPO_ROOT, 'examples/validation/openapi.yaml'), 'utf8');

export function validationConfig(upstreamUrl: string, api = ''): string {
  return `version: 1
server:
  listen: [{ host: 127.0.0.1, port: 0 }]
  limits: { maxBodySize: 64kb }
log:
  access:
    destination: \${dir}/access.log
upstreams:
  orders:
    url: ${upstreamUrl}
apis:
  orders:
    openapi: openapi.yaml
    upstream: orders
${api}
`;
}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: Record<string, unknown>;
}

export async function send(
  gw: TestGateway,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const res = await fetch(`${gw.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { 'x-tenant': 'acme', ...init.headers },
    body: init.body,
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {}
  return { status: res.status, headers: res.headers, text, body };
}

/** The `path rule` pairs of a 400 body. */
export function failures(answer: Answer): string[] {
  return ((answer.body.errors ?? []) as { path: string; rule: string }[]).map((e) => `${e.path} ${e.rule}`);
}

type LogLine = Record<string, unknown>;

/** The access log line of one request: written once the exchange ends, so it may trail the answer a little. */
export async function logLine(
  gw: TestGateway,
  match: string | null | ((line: LogLine) => boolean),
): Promise<LogLine> {
  const test = typeof match === 'function' ? match : (l: LogLine) => l.reqId === match;
  const deadline = Date.now() + 3000;
  for (;;) {
    const line = (await gw.readAccessLog()).find(test);
    if (line !== undefined) return line;
    if (Date.now() > deadline) throw new Error('no such access log line');
    await new Promise((r) => setTimeout(r, 20));
  }
}
