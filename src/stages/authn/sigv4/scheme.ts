import { createHash, timingSafeEqual } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
import { resolveSecret, type Secret } from '../../../config/secrets.ts';
import { parseDuration } from '../../../config/units.ts';
import { fieldPath } from '../../../config/validate.ts';
import type { YamlSource } from '../../../config/yaml-source.ts';
import type { Principal, RequestContext } from '../../../core/context.ts';
import type { StateStore } from '../../../store/store.ts';
import type { KeyStoreHandle } from '../apikey/scheme.ts';
import { keyStatus } from '../apikey/store.ts';
import { unsealSigV4Secret } from '../apikey/verify.ts';
import { consumeHeaders, consumeQueryParams } from '../credentials.ts';
import type { SigV4Scheme } from '../schema.ts';
import { ABSENT, fail, type Verdict, type Verifier } from '../verifier.ts';
import { parseSigV4, payloadHashOf, replayKey, verifySigV4 } from './engine.ts';

interface Credential {
  readonly secret: string;
  readonly principal: string;
  readonly scopes: readonly string[];
  readonly sessionToken?: Secret;
  readonly plan?: string;
}

export interface SigV4Context {
  readonly source: YamlSource;
  readonly at: (string | number)[];
  readonly dir: string;
  readonly store: StateStore;
  readonly keyStore: KeyStoreHandle | null;
}

const UNSIGNED = 'UNSIGNED-PAYLOAD';

/**
 * SigV4-signed requests (`Authorization: AWS4-HMAC-SHA256 ...` or a presigned query), so
 * standard AWS clients can call Rampart with credentials it issued. The body is read before
 * verification: its SHA-256 is part of what is signed, and a claimed `x-amz-content-sha256`
 * must match the bytes that will reach the upstream. A verified signature is accepted once
 * (replay guard in the state store, for as long as it could still verify).
 */
export function createSigV4Verifier(
  scheme: string,
  config: Static<typeof SigV4Scheme>,
  sc: SigV4Context,
): Verifier {
  const credentials = new Map<string, Credential>();
  for (const [id, c] of Object.entries(config.credentials)) {
    const at = [...sc.at, 'credentials', id];
    credentials.set(id, {
      secret: resolveSecret(
        c.secret,
        sc.dir,
        fieldPath([...at, 'secret']),
        sc.source.locate([...at, 'secret']),
      ).reveal(),
      principal: c.principal,
      scopes: c.scopes,
      sessionToken: c.sessionToken
        ? resolveSecret(
            c.sessionToken,
            sc.dir,
            fieldPath([...at, 'sessionToken']),
            sc.source.locate([...at, 'sessionToken']),
          )
        : undefined,
    });
  }
  const clockSkewMs = parseDuration(config.clockSkew);
  const maxPresignedExpirySec = Math.floor(parseDuration(config.maxPresignedExpiry) / 1000);
  const keyStore = sc.keyStore;

  /** The credential, null when unknown, or 'unavailable' when the key store cannot answer. */
  const lookup = (accessKeyId: string, nowMs: number): Credential | null | 'unavailable' => {
    const configured = credentials.get(accessKeyId);
    if (configured) return configured;
    if (keyStore === null) return null;
    const store = keyStore.watcher.current();
    if (store === null) return 'unavailable';
    const record = store?.get(accessKeyId);
    if (record?.kind !== 'sigv4') return null;
    const status = keyStatus(record, nowMs);
    if (status === 'revoked' || status === 'expired') return null;
    let secret: string;
    try {
      secret = unsealSigV4Secret(record, keyStore.pepper.reveal());
    } catch {
      // A record that does not decrypt (another pepper, a tampered file) is the store's fault.
      return 'unavailable';
    }
    return {
      secret,
      principal: record.owner,
      scopes: record.scopes,
      plan: record.plan,
    };
  };

  return {
    scheme,
    kind: 'sigv4',
    summary: `${scheme}: SigV4 (${config.region}/${config.service}, skew ${config.clockSkew}${config.replayGuard ? ', replay guard' : ''})`,
    challenge: 'AWS4-HMAC-SHA256',
    needsBody: true,
    async verify(ctx: RequestContext): Promise<Verdict> {
      const input = { method: ctx.method, target: ctx.target, rawHeaders: ctx.rawHeaders };
      const parsed = parseSigV4(input);
      if (!parsed.ok) return parsed.absent ? ABSENT : fail(parsed.reason, `${scheme}: ${parsed.detail}`);
      const auth = parsed.auth;
      const credentialId = `akid:${auth.accessKeyId}`;
      ctx.credentialId = credentialId;
      const now = Date.now();
      const credential = lookup(auth.accessKeyId, now);
      if (credential === 'unavailable') {
        return fail(
          'key_store_unavailable',
          `${scheme}: the key store cannot answer for ${auth.accessKeyId}`,
          credentialId,
        );
      }
      if (credential === null) {
        return fail(
          'signature_credential_unknown',
          `${scheme}: unknown access key id ${auth.accessKeyId}`,
          credentialId,
        );
      }
      const token = auth.securityToken;
      const expected = credential.sessionToken?.reveal();
      if (expected !== undefined || token !== undefined) {
        if (expected === undefined || token === undefined || !sameText(token, expected)) {
          return fail(
            'signature_invalid',
            `${scheme}: session token missing, unexpected or wrong`,
            credentialId,
          );
        }
      }
      const body = await ctx.readBody();
      const bodyHash = payloadHashOf(body);
      let payloadHash: string;
      const claimed = auth.contentSha256;
      if (claimed === UNSIGNED || (claimed === undefined && auth.presigned && body.length > 0)) {
        if (!config.allowUnsignedPayload) {
          return fail(
            'signature_invalid',
            `${scheme}: unsigned payload refused (allowUnsignedPayload is off)`,
            credentialId,
          );
        }
        payloadHash = UNSIGNED;
      } else if (claimed !== undefined) {
        if (claimed !== bodyHash)
          return fail(
            'signature_invalid',
            `${scheme}: x-amz-content-sha256 does not match the body`,
            credentialId,
          );
        payloadHash = claimed;
      } else {
        payloadHash = bodyHash;
      }
      const options = {
        secret: credential.secret,
        nowMs: now,
        clockSkewMs,
        maxPresignedExpirySec,
        region: config.region,
        service: config.service,
      };
      let verdict = verifySigV4(input, auth, { ...options, payloadHash });
      // Presigned URLs of most clients sign the literal UNSIGNED-PAYLOAD; with no body there is
      // nothing left unsigned, so that form is accepted too.
      if (!verdict.ok && verdict.reason === 'signature_invalid' && auth.presigned && body.length === 0) {
        verdict = verifySigV4(input, auth, { ...options, payloadHash: UNSIGNED });
      }
      if (!verdict.ok) return fail(verdict.reason, `${scheme}: ${verdict.detail}`, credentialId);
      if (config.replayGuard) {
        const ttl = auth.presigned ? (auth.expiresSec ?? 0) * 1000 + clockSkewMs : 2 * clockSkewMs;
        if (!(await sc.store.setIfAbsent(replayKey(auth), ttl))) {
          return fail('signature_replayed', `${scheme}: signature already used`, credentialId);
        }
      }
      // The signature is the gateway's to check: the upstream gets neither it nor the session token.
      consumeHeaders(ctx, 'authorization', 'x-amz-security-token');
      if (auth.presigned) consumeQueryParams(ctx, (name) => PRESIGN_PARAMS.has(name));
      const principal: Principal = Object.freeze({
        id: credential.principal,
        kind: 'sigv4',
        scheme,
        scopes: Object.freeze([...credential.scopes]),
        attributes: Object.freeze({ accessKeyId: auth.accessKeyId, plan: credential.plan }),
      });
      return { ok: true, principal };
    },
  };
}

function sameText(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

const PRESIGN_PARAMS = new Set([
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
]);
