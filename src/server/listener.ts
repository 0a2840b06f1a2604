import { randomUUID } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Gateway } from '../config/gateway.ts';
import type { Secret } from '../config/secrets.ts';
import { isConnectionRefused, RequestContext } from '../core/context.ts';
import { completeRequest, runRequest } from '../core/pipeline.ts';
import { PROBLEM_CONTENT_TYPE, problemBody } from '../core/problem.ts';
import type { ReasonCode } from '../core/reasons.ts';
import { canonicalIp } from '../stages/client/engine/ip.ts';

export interface ListenerSpec {
  readonly host: string;
  readonly port: number;
  readonly tls?: ListenerTls;
}

export interface ListenerTls {
  readonly cert: Buffer;
  readonly key: Secret;
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  /** Mutual TLS: client certificates must chain to `ca`; `require` fails the handshake without one. */
  readonly clientAuth?: { readonly ca: Buffer; readonly mode: 'require' | 'optional' };
}

/** TLS options of a listener (also used to rotate them on reload). */
export function secureContextOptions(tls: ListenerTls) {
  return {
    cert: tls.cert,
    key: tls.key.reveal(),
    minVersion: tls.minVersion,
    ...(tls.clientAuth
      ? {
          ca: tls.clientAuth.ca,
          requestCert: true,
          // `optional` lets a handshake without a valid certificate through; `authn` then refuses
          // it where `mutualTLS` is required (ctx.clientCertificate() is null for it).
          rejectUnauthorized: tls.clientAuth.mode === 'require',
        }
      : {}),
  };
}

/** Listener settings in runtime units (bytes, milliseconds). */
export interface ListenerRuntime {
  readonly listeners: readonly ListenerSpec[];
  readonly limits: {
    readonly maxUrlSize: number;
    readonly maxHeaderSize: number;
    readonly maxHeaderCount: number;
    readonly maxBodySize: number;
  };
  readonly headersTimeout: number;
  readonly requestTimeout: number;
  readonly keepAliveTimeout: number;
  readonly drainTimeout: number;
}

/** The mutable cell a reload swaps: requests read `current` once, at their start. */
export interface GatewayHolder {
  current: Gateway;
  readonly inflight: Map<Gateway, number>;
  /** Called when a replaced gateway has no request left. */
  onIdle(gateway: Gateway): void;
}

/**
 * A hardened node:http(s) server: strict parsing (no `insecureHTTPParser`: conflicting or
 * duplicate Content-Length, obfuscated Transfer-Encoding and bad header bytes are 400), a
 * head size cap (431), header and request timeouts (408) checked every second, and parse
 * errors answered with a generic problem+json instead of node's bare 400.
 */
export function createListener(spec: ListenerSpec, runtime: ListenerRuntime, holder: GatewayHolder): Server {
  const scheme = spec.tls ? 'https' : 'http';
  const options = {
    maxHeaderSize: runtime.limits.maxHeaderSize,
    requestTimeout: runtime.requestTimeout,
    headersTimeout: runtime.headersTimeout,
    keepAliveTimeout: runtime.keepAliveTimeout,
    connectionsCheckingInterval: Math.min(1000, Math.max(100, runtime.headersTimeout / 4)),
    // Host is checked by strictHttpProblem, so a missing one gets the same problem+json 400 as
    // every other refusal (node's own check answers a bare 400 that is neither logged nor typed).
    requireHostHeader: false,
    joinDuplicateHeaders: false,
    insecureHTTPParser: false,
    noDelay: true,
  };
  const handler = (req: IncomingMessage, res: ServerResponse) => handle(req, res, holder, scheme);
  const server = spec.tls
    ? createHttpsServer({ ...options, ...secureContextOptions(spec.tls) }, handler)
    : createHttpServer(options, handler);
  // node drops headers past maxHeadersCount silently; admit one more so the listener stage sees it and answers 431.
  server.maxHeadersCount = runtime.limits.maxHeaderCount + 1;
  // CONNECT (a forward-proxy tunnel) is never an operation of an API: node would drop the
  // socket without a word; answer 405 like any undeclared method, and log it.
  server.on('connect', (req: IncomingMessage, socket: Socket) =>
    refuseOnSocket(socket, holder, 405, 'method_not_allowed', {
      method: req.method,
      target: req.url?.slice(0, 256),
    }),
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) =>
    onClientError(err, socket, holder),
  );
  return server;
}

function handle(
  req: IncomingMessage,
  res: ServerResponse,
  holder: GatewayHolder,
  scheme: 'http' | 'https',
): void {
  // Requests pipelined behind a reply that closed the connection are never run.
  if (isConnectionRefused(req.socket)) return;
  const gateway = holder.current;
  holder.inflight.set(gateway, (holder.inflight.get(gateway) ?? 0) + 1);
  const ctx = new RequestContext(req, res, gateway.entry, scheme, performance.now());
  ctx.id = randomUUID();
  const h = req.headers;
  if (
    h['transfer-encoding'] !== undefined ||
    (h['content-length'] !== undefined && h['content-length'] !== '0')
  ) {
    const socket = req.socket;
    res.on('finish', () => {
      // Answered before the body was read (413, or an upstream that replied early): node goes on
      // reading the body, and a timeout or parse error in it would answer this request a second
      // time (a 408 after the 413). Until the body ends, such errors just close the connection.
      if (req.complete) return;
      answeredEarly.add(socket);
      req.once('end', () => answeredEarly.delete(socket));
    });
  }
  res.on('close', () => {
    ctx.closed();
    completeRequest(ctx);
    const left = holder.inflight.get(gateway)! - 1;
    holder.inflight.set(gateway, left);
    if (left === 0 && gateway !== holder.current) holder.onIdle(gateway);
  });
  void runRequest(ctx, gateway.entry);
}

const answeredEarly = new WeakSet<Socket>();

const REQUEST_START = /^[A-Z]{1,20} \//;

const PARSE_ERRORS: Record<string, { status: number; reason: ReasonCode }> = {
  HPE_HEADER_OVERFLOW: { status: 431, reason: 'headers_too_large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, reason: 'request_timeout' },
};

/**
 * node:http calls this for requests its parser refuses and for header/request timeouts.
 * Answer with a problem+json (431 split into 414 when the request line alone is too long),
 * log the decision, and close the connection: after a framing error, nothing more on this
 * socket can be trusted (request smuggling).
 */
function onClientError(err: NodeJS.ErrnoException, socket: Socket, holder: GatewayHolder): void {
  const code = err.code ?? '';
  if (code === 'ECONNRESET' || !socket.writable || answeredEarly.has(socket)) {
    socket.destroy();
    return;
  }
  // The request this error belongs to is already being answered (a refusal sent before the
  // parser reached the bad bytes of its body): a second response would desynchronize the
  // client. Let the first one out, then close — node's default handler makes the same check.
  const inFlight = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inFlight?.headersSent) {
    inFlight.once('close', () => socket.destroy());
    return;
  }
  let { status, reason } = PARSE_ERRORS[code] ?? { status: 400, reason: 'bad_request' as ReasonCode };
  const raw = (err as { rawPacket?: Buffer }).rawPacket;
  // Only a packet that starts a request shows its request line. A head that arrived in several
  // packets overflows in a later one, whose first line is a header, not the URL: that is a 431.
  if (status === 431 && raw && REQUEST_START.test(raw.subarray(0, 24).toString('latin1'))) {
    const lineEnd = raw.indexOf('\r\n');
    if ((lineEnd < 0 ? raw.length : lineEnd) > holder.current.listener.limits.maxUrlSize) {
      // the limit in force now, after any reload
      status = 414;
      reason = 'uri_too_long';
    }
  }
  refuseOnSocket(socket, holder, status, reason, { parseError: code });
}

/**
 * Answer on the raw socket (no request object exists, or node will not hand us one) with a
 * generic problem+json, log it, and close.
 */
function refuseOnSocket(
  socket: Socket,
  holder: GatewayHolder,
  status: number,
  reason: ReasonCode,
  extra: Record<string, unknown>,
): void {
  const id = randomUUID();
  const body = problemBody(status, id);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\ncontent-type: ${PROBLEM_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-content-type-options: nosniff\r\nx-request-id: ${id}\r\nconnection: close\r\n\r\n${body}`,
  );
  holder.current.accessLog?.write({
    reqId: id,
    client: canonicalIp(socket.remoteAddress ?? ''),
    status,
    reason,
    ...extra,
  });
}
