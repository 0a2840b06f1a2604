import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Readable, Transform, type TransformCallback, type Writable } from 'node:stream';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { Decision } from './decision.ts';
import type { RouteMatch } from './operation.ts';
import type { Reply } from './outcome.ts';
import type { Pipeline } from './pipeline.ts';
import { PROBLEM_CONTENT_TYPE, problemBody } from './problem.ts';
import type { ReasonCode } from './reasons.ts';
import type { Stage } from './stage.ts';

/** Where a response head comes from: the response stage treats each differently. */
export type ResponseOrigin = 'gateway' | 'upstream' | 'mock';

export interface ResponseHead {
  status: number;
  headers: OutgoingHttpHeaders;
  readonly origin: ResponseOrigin;
}

/** The verified identity of the caller (filled by `authn`, read by later stages). */
export interface Principal {
  readonly id: string;
  readonly kind: string;
  readonly scheme: string;
  readonly scopes: readonly string[];
  readonly attributes: Readonly<Record<string, unknown>>;
}

/** The verified client certificate of an mTLS connection (listener `tls.clientAuth`). */
export interface ClientCertificate {
  readonly subject: Readonly<Record<string, string>>;
  readonly issuer: Readonly<Record<string, string>>;
  /** subjectAltName entries by type: `DNS`, `URI`, `email`, `IP Address`. */
  readonly san: Readonly<Record<string, readonly string[]>>;
  readonly serialNumber: string;
  /** SHA-256 fingerprint, colon-separated hex as node prints it. */
  readonly fingerprint256: string;
  readonly validTo: string;
}

/** Header edits for the upstream request, made by `transform` and applied by the proxy. */
export interface UpstreamHeaderEdits {
  /** Lowercase names removed (and their `_` spellings). */
  readonly strip: ReadonlySet<string>;
  readonly set: Readonly<Record<string, string>>;
}

/**
 * What the limit stages (`edge-limit`, `quota`) found for this request, written as the
 * `RateLimit-Policy` and `RateLimit` response headers: one structured-field item per limit.
 */
export interface LimitReport {
  readonly policies: string[];
  readonly current: string[];
}

/** What the client stage resolved about the client and the hop it came through. */
export interface ClientInfo {
  /** The real client IP: the socket peer, or from X-Forwarded-For when the peer is a trusted proxy. */
  readonly ip: string;
  /** The X-Forwarded-For chain to send upstream (trusted entries kept, peer appended). */
  readonly forwardedFor: string;
  readonly forwardedProto: string;
  readonly forwardedHost: string;
  /** True when the socket peer is a configured trusted proxy. */
  readonly viaTrustedProxy: boolean;
}

/**
 * The per-request context: the narrow, typed surface through which stages read and write the
 * request. Stages never touch `req`/`res`; the body and the response go through the methods
 * below, so the response phase and logging cannot be bypassed.
 */
export class RequestContext {
  readonly startTime: number;
  readonly method: string;
  /** The raw request target as received. */
  readonly target: string;
  readonly headers: Readonly<IncomingHttpHeaders>;
  readonly remoteAddress: string;
  readonly scheme: 'http' | 'https';
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  /** Header lines as received, names and values alternating (repeats and case kept). */
  readonly rawHeaders: readonly string[];
  /** Number of header lines received (node drops those past `maxHeadersCount`). */
  readonly headerCount: number;
  /** Largest request body accepted, set by the listener stage. */
  bodyLimit = Number.POSITIVE_INFINITY;

  /** Request id: generated, or accepted from a trusted proxy's `x-request-id`. */
  id = '';
  client: ClientInfo | null = null;
  /** Valid W3C `traceparent` / `tracestate` to pass on, if the client sent them. */
  traceparent: string | undefined = undefined;
  tracestate: string | undefined = undefined;
  /** Normalized path, percent-encoded canonically: what routing saw and what the upstream gets. */
  path = '';
  /** Raw query string without `?` (validation belongs to the validate stage). */
  query = '';
  route: RouteMatch | null = null;
  principal: Principal | null = null;
  /**
   * Public id of the credential presented (API key id, access key id, login username), once a
   * verifier has read it: brute-force protection counts failures per credential as well as per IP.
   */
  credentialId: string | null = null;
  upstreamHeaders: UpstreamHeaderEdits | null = null;
  /** Rate limits and quotas that applied, for the response headers (filled by the limit stages). */
  limitReport: LimitReport | null = null;
  /** Request headers (lowercase) holding a credential the gateway consumed: the proxy never sends them upstream. */
  consumedHeaders: string[] | null = null;
  /** The pipeline in effect: the gateway's entry pipeline, then the matched operation's. */
  pipeline: Pipeline;

  // Filled as the exchange proceeds; read by `log`.
  decisions: Decision[] | null = null;
  reason: ReasonCode | null = null;
  status = 0;
  upstreamMs = -1;
  bytesIn = 0;
  error: unknown = undefined;

  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  // Kept from the start: node detaches `req.socket` once the exchange is over (e.g. after a
  // request body was consumed), which is exactly when the log stage reads `bytesWritten`.
  readonly #socket: IncomingMessage['socket'];
  readonly #socketBytesAtStart: number;
  #bodyTaken = false;
  #buffered: Buffer | null = null;
  #unfinished: ((error: Error | null) => void) | null = null;

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    pipeline: Pipeline,
    scheme: 'http' | 'https',
    now: number,
  ) {
    this.#req = req;
    this.#res = res;
    this.pipeline = pipeline;
    this.scheme = scheme;
    this.startTime = now;
    this.method = req.method ?? 'GET';
    this.target = req.url ?? '';
    this.headers = req.headers;
    this.remoteAddress = req.socket.remoteAddress ?? '';
    this.httpVersionMajor = req.httpVersionMajor;
    this.httpVersionMinor = req.httpVersionMinor;
    this.rawHeaders = req.rawHeaders;
    this.headerCount = req.rawHeaders.length >> 1;
    this.#socket = req.socket;
    this.#socketBytesAtStart = req.socket.bytesWritten;
  }

  /** Bytes written to the client for this exchange (status line, headers and body). */
  get bytesWritten(): number {
    return this.#socket.bytesWritten - this.#socketBytesAtStart;
  }

  /** Record a stage decision (enforced or shadowed). */
  record(stage: Stage, outcome: Reply): void {
    const decision: Decision = {
      stage: stage.name,
      reason: outcome.reason,
      status: outcome.status,
      mode: stage.mode,
      detail: outcome.detail,
      ...(outcome.policies === undefined ? {} : { policies: outcome.policies }),
    };
    if (this.decisions === null) this.decisions = [decision];
    else this.decisions.push(decision);
    if (stage.mode === 'enforce') this.reason = outcome.reason;
  }

  /**
   * Record a decision that lets the request through but must be explainable afterwards (a Cedar
   * allow and the policies that made it). It does not set the request's `reason`.
   */
  recordAllow(stage: Stage, reason: ReasonCode, detail: string, policies: readonly string[]): void {
    const decision: Decision = { stage: stage.name, reason, status: 0, mode: stage.mode, detail, policies };
    if (this.decisions === null) this.decisions = [decision];
    else this.decisions.push(decision);
  }

  /**
   * The request body stream, once; null when the request has no body. A body with a declared
   * length was checked against the limit by the listener stage and is length-exact (llhttp);
   * a chunked body is counted as it streams and fails with `BodyTooLargeError` past the limit.
   */
  takeBody(): Readable | null {
    if (this.#bodyTaken) throw new Error('request body taken twice');
    this.#bodyTaken = true;
    if (this.#buffered !== null) return this.#buffered.length === 0 ? null : Readable.from([this.#buffered]);
    const h = this.#req.headers;
    if (h['transfer-encoding'] === undefined) {
      if (h['content-length'] === undefined || h['content-length'] === '0') return null;
      this.bytesIn = Number(h['content-length']);
      return this.#req;
    }
    const counter = new BodyCounter(this, this.bodyLimit);
    this.#req.on('error', (err) => counter.destroy(err));
    return this.#req.pipe(counter);
  }

  /**
   * The whole request body in memory (at most `bodyLimit` bytes), for stages that must see it
   * before the upstream does (SigV4 payload hash, a login's username). `takeBody` then streams
   * the same bytes on. Rejects with `BodyTooLargeError` past the limit, or if the client aborts.
   */
  async readBody(): Promise<Buffer> {
    if (this.#buffered !== null) return this.#buffered;
    const stream = this.takeBody();
    // 'data'/'end' events rather than `for await`: the async iterator's promise per chunk was
    // most of what validating a 1 KiB body cost (measured in bench/validate.ts).
    this.#buffered =
      stream === null
        ? Buffer.alloc(0)
        : await new Promise<Buffer>((resolve, reject) => {
            const chunks: Buffer[] = [];
            stream.on('data', (chunk: Buffer) => chunks.push(chunk));
            stream.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
            stream.once('error', reject);
            // A client that goes away mid-body ends the request stream without 'end'.
            stream.once('close', () => reject(new Error('the client closed the connection mid-body')));
          });
    this.#bodyTaken = false;
    return this.#buffered;
  }

  /**
   * The body as `readBody` buffered it, taken once like `takeBody`: the proxy hands the Buffer
   * to undici as is instead of wrapping it in a stream. Undefined when nothing was buffered
   * (then `takeBody` streams it); null when the buffered body is empty.
   */
  takeBufferedBody(): Buffer | null | undefined {
    if (this.#buffered === null) return undefined;
    if (this.#bodyTaken) throw new Error('request body taken twice');
    this.#bodyTaken = true;
    return this.#buffered.length === 0 ? null : this.#buffered;
  }

  /**
   * The client certificate of this connection if the listener verified one against its client
   * CA, else null (plain HTTP, no certificate, or one that did not verify under `optional`).
   */
  clientCertificate(): ClientCertificate | null {
    const socket = this.#socket as TLSSocket;
    if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return null;
    let cert = certificates.get(socket);
    if (cert === undefined) {
      cert = describeCertificate(socket.getPeerCertificate());
      certificates.set(socket, cert);
    }
    return cert;
  }

  /**
   * Why the client certificate presented on this connection did not verify (`optional` client
   * auth lets such a handshake through), or null when none was presented or it verified.
   */
  clientCertificateRejection(): string | null {
    const socket = this.#socket as TLSSocket;
    if (typeof socket.getPeerCertificate !== 'function' || socket.authorized) return null;
    const peer = socket.getPeerCertificate();
    if (!peer || Object.keys(peer).length === 0) return null;
    return String(socket.authorizationError ?? 'not verified');
  }

  get responseStarted(): boolean {
    return this.#res.headersSent;
  }

  /** Client went away before we finished. */
  get aborted(): boolean {
    return this.#res.destroyed && !this.#res.writableFinished;
  }

  /**
   * Run the response phase over a head, then write it. Returns the writable for the body, or
   * null when a response stage replaced the response with a gateway reply (discard the body).
   */
  sendHead(status: number, headers: OutgoingHttpHeaders, origin: ResponseOrigin): Writable | null {
    const head: ResponseHead = { status, headers, origin };
    const stages = this.pipeline.responseStages;
    for (let i = 0; i < stages.length; i++) {
      const replaced = stages[i]!.response!(this, head);
      if (replaced !== undefined && origin !== 'gateway') {
        this.record(stages[i]!, replaced);
        if (stages[i]!.mode === 'enforce') {
          this.sendReply(replaced);
          return null;
        }
      }
    }
    this.status = head.status;
    this.#res.writeHead(head.status, head.headers);
    return this.#res;
  }

  /** Answer with a gateway-made problem+json reply. */
  sendReply(outcome: Reply): void {
    if (this.#res.headersSent) {
      // Too late to change the status: cut the connection so the client sees a failure.
      this.#res.destroy();
      return;
    }
    if (this.reason === null) this.reason = outcome.reason;
    if (outcome.headers?.connection === 'close') refusedConnections.add(this.#socket);
    const body = problemBody(outcome.status, this.id || '-', outcome.errors);
    const headers: OutgoingHttpHeaders = {
      'content-type': PROBLEM_CONTENT_TYPE,
      'content-length': Buffer.byteLength(body),
      ...outcome.headers,
    };
    const out = this.sendHead(outcome.status, headers, 'gateway');
    out?.end(body);
  }

  /** Send a complete response whose body is already in memory (mock integration). */
  sendBody(
    status: number,
    headers: OutgoingHttpHeaders,
    body: Buffer | string,
    origin: ResponseOrigin,
  ): void {
    const out = this.sendHead(status, headers, origin);
    out?.end(body);
  }

  /** Destroy the client connection (response already started and cannot be completed). */
  abort(error?: Error): void {
    this.#res.destroy(error);
  }

  /**
   * Call `listener` once if the exchange ends before the response was complete: the client went
   * away, or the response was destroyed with `error` (e.g. by the upstream client mid-body). It
   * runs before the log stage's completion, so it can still name the reason.
   */
  onUnfinished(listener: (error: Error | null) => void): void {
    this.#unfinished = listener;
  }

  /** The server calls this when the response closed, before the complete phase runs. */
  closed(): void {
    const res = this.#res;
    if (this.#unfinished !== null && !res.writableFinished) this.#unfinished(res.errored);
  }
}

const refusedConnections = new WeakSet<object>();
/** Parsed once per connection: every request on it shares the handshake's certificate. */
const certificates = new WeakMap<object, ClientCertificate | null>();

function describeCertificate(peer: PeerCertificate): ClientCertificate | null {
  if (!peer || Object.keys(peer).length === 0) return null;
  const san: Record<string, string[]> = {};
  // `DNS:a.example, URI:spiffe://x/y, email:a@b, IP Address:10.0.0.1`. Values containing `, `
  // are quoted by node (JSON strings) since the CVE-2021-44532 fix.
  for (const part of (peer.subjectaltname ?? '').match(/(?:[^,"]|"(?:[^"\\]|\\.)*")+/g) ?? []) {
    const entry = part.trim();
    const colon = entry.indexOf(':');
    if (colon < 0) continue;
    const type = entry.slice(0, colon);
    let value = entry.slice(colon + 1);
    if (value.startsWith('"')) value = JSON.parse(value) as string;
    const list = san[type];
    if (list === undefined) san[type] = [value];
    else list.push(value);
  }
  const flat = (o: unknown): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries((o ?? {}) as Record<string, unknown>)) {
      out[k] = Array.isArray(v) ? v.join(',') : String(v);
    }
    return out;
  };
  return Object.freeze({
    subject: flat(peer.subject),
    issuer: flat(peer.issuer),
    san,
    serialNumber: peer.serialNumber,
    fingerprint256: peer.fingerprint256,
    validTo: peer.valid_to,
  });
}

/**
 * Whether a gateway reply on this connection said `Connection: close`. node goes on parsing
 * and dispatching requests pipelined behind it; after a refusal those bytes are what a desync
 * would smuggle, so the server runs none of them (the socket closes once the reply is out).
 */
export function isConnectionRefused(socket: object): boolean {
  return refusedConnections.has(socket);
}

/** Thrown into the body stream when a chunked body passes the limit. */
export class BodyTooLargeError extends Error {
  readonly code = 'RAMPART_BODY_TOO_LARGE';
  constructor(limit: number) {
    super(`request body over ${limit} bytes`);
  }
}

class BodyCounter extends Transform {
  readonly #ctx: RequestContext;
  readonly #limit: number;

  constructor(ctx: RequestContext, limit: number) {
    super();
    this.#ctx = ctx;
    this.#limit = limit;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#ctx.bytesIn += chunk.length;
    if (this.#ctx.bytesIn > this.#limit) callback(new BodyTooLargeError(this.#limit));
    else callback(null, chunk);
  }
}
