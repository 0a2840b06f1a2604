import type { ClientCertificate, Principal, RequestContext } from '../../core/context.ts';
import { ABSENT, fail, type Verdict, type Verifier } from './verifier.ts';

export type PrincipalFrom = 'subject.CN' | 'san.dns' | 'san.uri' | 'san.email' | 'fingerprint256';

/**
 * The OpenAPI `mutualTLS` scheme: the listener verified the client certificate against its
 * client CA during the handshake (`tls.clientAuth`); this turns it into a principal. A
 * connection without a verified certificate (plain HTTP, none sent, or one that failed under
 * `optional`) is refused here, never treated as anonymous.
 */
export function createMutualTlsVerifier(scheme: string, principalFrom: PrincipalFrom): Verifier {
  return {
    scheme,
    kind: 'mtls',
    summary: `${scheme}: client certificate (principal from ${principalFrom})`,
    verify(ctx: RequestContext): Verdict {
      const cert = ctx.clientCertificate();
      if (cert === null) {
        // No certificate is an absence (another requirement may be met); one that did not verify
        // against the client CA is a refused credential.
        const rejection = ctx.clientCertificateRejection();
        return rejection === null
          ? ABSENT
          : fail('client_cert_required', `client certificate refused: ${rejection}`);
      }
      const id = principalId(cert, principalFrom);
      if (id === undefined) {
        return fail(
          'client_cert_required',
          `the client certificate has no ${principalFrom}`,
          cert.fingerprint256,
        );
      }
      ctx.credentialId = `cert:${cert.fingerprint256}`;
      const principal: Principal = Object.freeze({
        id,
        kind: 'mtls',
        scheme,
        scopes: [],
        attributes: Object.freeze({
          subject: cert.subject,
          issuer: cert.issuer,
          san: cert.san,
          serialNumber: cert.serialNumber,
          fingerprint256: cert.fingerprint256,
        }),
      });
      return { ok: true, principal };
    },
  };
}

function principalId(cert: ClientCertificate, from: PrincipalFrom): string | undefined {
  switch (from) {
    case 'subject.CN':
      return cert.subject.CN || undefined;
    case 'san.dns':
      return cert.san.DNS?.[0];
    case 'san.uri':
      return cert.san.URI?.[0];
    case 'san.email':
      return cert.san.email?.[0];
    case 'fingerprint256':
      return cert.fingerprint256;
  }
}
