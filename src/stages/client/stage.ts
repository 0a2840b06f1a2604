import { isIP } from 'node:net';
import type { RequestContext } from '../../core/context.ts';
import { CONTINUE, type Outcome } from '../../core/outcome.ts';
import type { Stage } from '../../core/stage.ts';
import { type CidrSet, canonicalIp } from './engine/ip.ts';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
// W3C Trace Context §3.2: version 00, non-zero trace and parent ids.
const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;
const HOST_VALUE = /^[A-Za-z0-9.:[\]-]{1,255}$/;

/**
 * Who is calling: the real client IP, believed from X-Forwarded-For only when the socket peer
 * is a trusted proxy (walking the chain right to left past trusted hops), the request id, and
 * valid trace context. Everything it believes is recomputed toward the upstream, so a client
 * cannot forge its address, scheme or host by sending the headers itself.
 */
export function createClientStage(trustedProxies: CidrSet): Stage {
  return {
    name: 'client',
    mode: 'enforce',
    summary:
      trustedProxies.size > 0
        ? `X-Forwarded-* trusted from ${trustedProxies.size} CIDR block(s)`
        : 'no trusted proxies: peer address is the client',
    request(ctx: RequestContext): Outcome {
      const peer = canonicalIp(ctx.remoteAddress);
      const h = ctx.headers;
      const host = typeof h.host === 'string' ? h.host : '';
      if (!trustedProxies.has(peer)) {
        ctx.client = {
          ip: peer,
          forwardedFor: peer,
          forwardedProto: ctx.scheme,
          forwardedHost: host,
          viaTrustedProxy: false,
        };
      } else {
        const xff = h['x-forwarded-for'];
        const ip = typeof xff === 'string' ? clientFromChain(xff, peer, trustedProxies) : peer;
        const proto = h['x-forwarded-proto'];
        const fwdHost = h['x-forwarded-host'];
        ctx.client = {
          ip,
          forwardedFor: typeof xff === 'string' && xff.trim() !== '' ? `${xff}, ${peer}` : peer,
          forwardedProto: proto === 'http' || proto === 'https' ? proto : ctx.scheme,
          forwardedHost: typeof fwdHost === 'string' && HOST_VALUE.test(fwdHost) ? fwdHost : host,
          viaTrustedProxy: true,
        };
        const id = h['x-request-id'];
        if (typeof id === 'string' && REQUEST_ID.test(id)) ctx.id = id;
      }
      const traceparent = h.traceparent;
      if (typeof traceparent === 'string' && TRACEPARENT.test(traceparent)) {
        ctx.traceparent = traceparent;
        const tracestate = h.tracestate;
        if (typeof tracestate === 'string' && tracestate.length <= 512) ctx.tracestate = tracestate;
      }
      return CONTINUE;
    },
  };
}

/**
 * The right-most address in X-Forwarded-For that is not a trusted proxy. An entry that is not
 * an IP address ends the walk: the hop to its right is the last one we can vouch for.
 */
export function clientFromChain(xff: string, peer: string, trusted: CidrSet): string {
  const hops = xff.split(',');
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = canonicalIp(hops[i]!.trim());
    if (isIP(hop) === 0) break;
    client = hop;
    if (!trusted.has(hop)) break;
  }
  return client;
}
