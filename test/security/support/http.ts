import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { connect } from 'node:net';
import type { TestGateway } from '../../helpers/gateway.ts';
import type { SeenRequest, TestUpstream } from '../../helpers/upstream.ts';

/** One HTTP/1.1 response cut out of the bytes a raw socket received. */
export interface ParsedResponse {
  readonly status: number;
  /** Lower-cased names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * Split everything a server sent on one connection into responses (Content-Length or chunked
 * bodies), so a test can count them: a second response where one was expected is the visible
 * sign of a desync.
 */
export function parseResponses(text: string): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let rest = text;
  while (rest.startsWith('HTTP/')) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine = '', ...lines] = rest.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    rest = rest.slice(end + 4);
    let body = '';
    if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const lineEnd = rest.indexOf('\r\n');
        const size = Number.parseInt(rest.slice(0, lineEnd), 16);
        rest = rest.slice(lineEnd + 2);
        if (!(size > 0)) {
          rest = rest.slice(rest.indexOf('\r\n') + 2);
          break;
        }
        body += rest.slice(0, size);
        rest = rest.slice(size + 2);
      }
    } else {
      const length = Number(headers['content-length'] ?? 0);
      body = rest.slice(0, length);
      rest = rest.slice(length);
    }
    out.push({ status: Number(statusLine.split(' ')[1]), headers, body });
  }
  return out;
}

/**
 * The gateway's refusals are RFC 9457 problem+json with the generic status text and the request
 * id — nothing that names the rule, the parser error or the offending bytes.
 */
export function assertGenericProblem(response: ParsedResponse, status: number): void {
  assert.equal(response.status, status);
  assert.equal(response.headers['content-type'], 'application/problem+json');
  const body = JSON.parse(response.body) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['requestId', 'status', 'title', 'type']);
  assert.equal(body.type, 'about:blank');
  assert.equal(body.title, STATUS_CODES[status]);
  assert.equal(body.status, status);
  assert.equal(body.requestId, response.headers['x-request-id']);
  assert.match(String(body.requestId), /^[0-9a-f-]{36}$/);
}

const SENTINEL = '/items/sentinel-';
let sentinels = 0;

/**
 * Wait until the upstream has seen everything the gateway will send it: a fresh request
 * through the gateway must arrive, then a short grace for anything still in flight on other
 * pooled connections. Only then is "the upstream never received X" a finding.
 */
export async function settle(gw: TestGateway, upstream: TestUpstream): Promise<void> {
  const path = `${SENTINEL}${++sentinels}`;
  const res = await fetch(`${gw.url}${path}`);
  await res.arrayBuffer();
  const deadline = Date.now() + 5000;
  while (!upstream.seen.some((s) => s.url === path) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(
    upstream.seen.some((s) => s.url === path),
    'the gateway must still be serving after the attack',
  );
  await new Promise((r) => setTimeout(r, 50));
}

/** What the upstream received, minus the sentinels `settle` sent. */
export function attackTraffic(upstream: TestUpstream): SeenRequest[] {
  return upstream.seen.filter((s) => !s.url.startsWith(SENTINEL));
}

export interface TimedResponse {
  readonly text: string;
  /** True when the server closed the connection before `giveUpMs`. */
  readonly closed: boolean;
  /** Milliseconds from connecting to the server closing (or to giving up). */
  readonly elapsedMs: number;
}

/**
 * Send `parts` one after another, `gapMs` apart, then keep writing `drip` every `gapMs` (when
 * given) until the server closes or `giveUpMs` passes: a head split over several packets, or
 * a slowloris client.
 */
export function sendSlowly(
  port: number,
  options: { parts: readonly string[]; gapMs: number; drip?: string; giveUpMs: number },
): Promise<TimedResponse> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let next = 0;
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearInterval(writer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed, elapsedMs: Date.now() - started });
    };
    const write = () => {
      if (socket.destroyed || !socket.writable) return;
      if (next < options.parts.length) socket.write(options.parts[next++]!);
      else if (options.drip !== undefined) socket.write(options.drip);
    };
    const writer = setInterval(write, options.gapMs);
    const giveUp = setTimeout(() => finish(false), options.giveUpMs);
    socket.on('connect', write);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => finish(true));
    socket.on('error', (err) => {
      if (chunks.length > 0 || settled) finish(true);
      else {
        settled = true;
        clearInterval(writer);
        clearTimeout(giveUp);
        reject(err);
      }
    });
  });
}
