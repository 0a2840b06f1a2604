import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type RunningGateway, startGateway } from '../../src/server/lifecycle.ts';
import { startUpstream, type TestUpstream } from './upstream.ts';

export interface TestGateway {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly running: RunningGateway;
  /** Path of the access log file (JSON lines), when `accessLog` was requested. */
  readonly accessLogFile: string;
  readAccessLog(): Promise<Record<string, unknown>[]>;
  /** The access log line of one request, waiting for it to be flushed (bounded). */
  logLine(requestId: string): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export interface TestGatewayOptions {
  /** The config YAML. `${dir}` is replaced by the temp folder; port 0 gets a free port. */
  readonly config: string;
  /** Files to write beside the config (name → content), e.g. `{ 'openapi.yaml': ... }`. */
  readonly files?: Record<string, string>;
}

/** Replaced in a config by the test's temp folder. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a literal placeholder in YAML, not a template
const DIR_PLACEHOLDER = '${dir}';

export const SIMPLE_OPENAPI = `openapi: 3.0.3
info: { title: test, version: '1' }
security: [{}]
paths:
  /items:
    get:
      operationId: listItems
      responses:
        '200':
          description: ok
          content:
            application/json:
              example: [{ id: 1 }]
    post:
      operationId: createItem
      responses:
        '201': { description: created }
  /items/{id}:
    get:
      operationId: getItem
      parameters:
        - { name: id, in: path, required: true, schema: { type: string } }
      responses:
        '200': { description: ok }
  /admin/{id}:
    get:
      operationId: adminOnly
      parameters:
        - { name: id, in: path, required: true, schema: { type: string } }
      responses:
        '200': { description: ok }
`;

/**
 * Start a real gateway in this process on 127.0.0.1 with a free port, from a config written
 * to a temp folder. The access log goes to `${dir}/access.log` unless the config says otherwise.
 */
export async function startTestGateway(options: TestGatewayOptions): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-test-'));
  for (const [name, content] of Object.entries(options.files ?? {})) writeFileSync(join(dir, name), content);
  const configFile = join(dir, 'rampart.yaml');
  writeFileSync(configFile, options.config.replaceAll(DIR_PLACEHOLDER, dir));
  const running = await startGateway(configFile, pino({ level: 'silent' }));
  const url = running.urls[0]!;
  const accessLogFile = join(dir, 'access.log');
  const gateway: TestGateway = {
    url,
    port: Number(new URL(url).port),
    dir,
    running,
    accessLogFile,
    async readAccessLog() {
      const { flushLogs } = await import('../../src/observe/logger.ts');
      await flushLogs();
      const { readFileSync, existsSync } = await import('node:fs');
      if (!existsSync(accessLogFile)) return [];
      return readFileSync(accessLogFile, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    async logLine(requestId) {
      const deadline = Date.now() + 5000;
      for (;;) {
        const line = (await gateway.readAccessLog()).find((l) => l.reqId === requestId);
        if (line !== undefined) return line;
        if (Date.now() > deadline) throw new Error(`no access log line for ${requestId}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop: () => running.shutdown(),
  };
  return gateway;
}

/** A config for one API over `openapi.yaml`, proxied to `upstreamUrl` (or mocked when omitted). */
export function simpleConfig(options: { upstreamUrl?: string; extra?: string; api?: string } = {}): string {
  const integration = options.upstreamUrl ? 'upstream: backend' : 'mock: true';
  return `version: 1
server:
  listen: [{ host: 127.0.0.1, port: 0 }]
${options.extra ?? ''}
log:
  access:
    destination: \${dir}/access.log
${options.upstreamUrl ? `upstreams:\n  backend:\n    url: ${options.upstreamUrl}\n` : ''}
apis:
  test:
    openapi: openapi.yaml
    ${integration}
${options.api ?? ''}
`;
}

/**
 * The most common fixture: a recording upstream (answering with `handler`, or an echo) and a
 * gateway proxying SIMPLE_OPENAPI to it. Pair with `stopProxied` in `after`.
 */
export async function startProxiedGateway(
  handler?: Parameters<typeof startUpstream>[0],
): Promise<{ gw: TestGateway; upstream: TestUpstream }> {
  const upstream = await startUpstream(handler);
  const gw = await startTestGateway({
    config: simpleConfig({ upstreamUrl: upstream.url }),
    files: { 'openapi.yaml': SIMPLE_OPENAPI },
  });
  return { gw, upstream };
}

export async function stopProxied(gw: TestGateway, upstream: TestUpstream): Promise<void> {
  await gw.stop();
  await upstream.close();
}
