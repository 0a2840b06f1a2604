import type { Principal, RequestContext } from '../../core/context.ts';
import type { ReasonCode } from '../../core/reasons.ts';

/** A scheme's verdict on one request. */
export type Verdict =
  | { readonly ok: true; readonly principal: Principal }
  /** The request carries no credential for this scheme: another requirement may still match. */
  | { readonly ok: false; readonly absent: true }
  | Failure;

/** A credential was presented and refused. */
export interface Failure {
  readonly ok: false;
  readonly absent: false;
  readonly reason: ReasonCode;
  /** Operator-facing detail (logs only, never the client). Never contains a secret. */
  readonly detail: string;
  /**
   * The credential's public id when known (API key id, token subject, access key id, login
   * username): brute-force protection counts failures per credential id as well as per IP.
   */
  readonly credentialId?: string;
}

export const ABSENT: Verdict = Object.freeze({ ok: false, absent: true });

export function fail(reason: ReasonCode, detail: string, credentialId?: string): Failure {
  return { ok: false, absent: false, reason, detail, credentialId };
}

/**
 * Verifies one OpenAPI security scheme. Built once per config load from the scheme's config;
 * `verify` never throws to deny (a throw is a bug; the stage turns it into a denial).
 */
export interface Verifier {
  /** The scheme's name in `components.securitySchemes`. */
  readonly scheme: string;
  /** What kind of principal it produces (`jwt`, `apiKey`, `sigv4`, `mtls`, `external`). */
  readonly kind: string;
  /** One line for `rampart explain`. */
  readonly summary: string;
  /** The `WWW-Authenticate` challenge for a 401 (scheme only, no detail), if the scheme has one. */
  readonly challenge?: string;
  /** Whether `verify` needs the request body (SigV4 payload hash). */
  readonly needsBody?: boolean;
  verify(ctx: RequestContext, op: VerifyContext): Verdict | Promise<Verdict>;
  /** Start background work (key set refresh, key store watch); idempotent. Not called by `check`. */
  start?(): void;
  /** Stop background work. */
  close?(): void;
}

/** What a verifier knows about the operation being called. */
export interface VerifyContext {
  /** `METHOD /template` and operationId, for authorizers and messages. */
  readonly operationId: string;
  readonly method: string;
  readonly route: string;
  readonly api: string;
}
