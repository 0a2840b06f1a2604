/**
 * Headers a header rule may not name, each with the reason the load error gives. The rules
 * are configuration, but a rule that rewrites framing or a header the gateway computed from
 * what it verified would undo a defence the pipeline already paid for.
 */

const HOP_BY_HOP =
  'is hop-by-hop (RFC 9110 §7.6.1): it describes one connection and is never forwarded; rewriting it is request-smuggling material';
const FRAMING =
  'frames the message: the gateway and node compute it, and a configured value would desynchronize the connection (request smuggling)';

const COMMON: Readonly<Record<string, string>> = {
  connection: HOP_BY_HOP,
  'keep-alive': HOP_BY_HOP,
  'proxy-connection': HOP_BY_HOP,
  'proxy-authenticate': HOP_BY_HOP,
  'proxy-authorization': HOP_BY_HOP,
  te: HOP_BY_HOP,
  trailer: HOP_BY_HOP,
  upgrade: HOP_BY_HOP,
  'http2-settings': HOP_BY_HOP,
  'transfer-encoding': FRAMING,
  'content-length': FRAMING,
  'x-request-id': 'is the request id the gateway assigns and logs: a rule would break tracing',
};

const OWNED_REQUEST =
  'is computed by the gateway from what it verified (client address, scheme, host, trace): a rule could spoof it';

const REQUEST: Readonly<Record<string, string>> = {
  ...COMMON,
  host: 'is set by the gateway from the upstream URL: the upstream must see the host the gateway routed',
  expect: 'is handled by the gateway (100-continue) and is not forwarded',
  // A parser differential: the WAF and validation read the body as its declared type; an
  // upstream told otherwise would parse bytes nobody inspected that way.
  'content-type':
    'says how the body is parsed: the WAF and validation inspected it as the client declared it, and the upstream must parse it the same way',
  'content-encoding':
    "describes the body's bytes as the WAF and validation saw them: the upstream must decode them the same way",
  'x-forwarded-for': OWNED_REQUEST,
  'x-forwarded-proto': OWNED_REQUEST,
  'x-forwarded-host': OWNED_REQUEST,
  'x-forwarded-port': OWNED_REQUEST,
  'x-real-ip': OWNED_REQUEST,
  'true-client-ip': OWNED_REQUEST,
  'x-client-ip': OWNED_REQUEST,
  'cf-connecting-ip': OWNED_REQUEST,
  'fastly-client-ip': OWNED_REQUEST,
  'x-cluster-client-ip': OWNED_REQUEST,
  'x-original-forwarded-for': OWNED_REQUEST,
  forwarded: OWNED_REQUEST,
  traceparent: OWNED_REQUEST,
  tracestate: OWNED_REQUEST,
  'x-http-method-override': 'would make the upstream run another method than the one routed and authorized',
  'x-method-override': 'would make the upstream run another method than the one routed and authorized',
  'x-http-method': 'would make the upstream run another method than the one routed and authorized',
};

const RESPONSE: Readonly<Record<string, string>> = {
  ...COMMON,
  'content-encoding': "describes the body's bytes, which a header rule does not change",
  'strict-transport-security': 'is set from `server.hsts` and `response.hsts`',
  'x-content-type-options': 'is always `nosniff` on every response',
};

/** Why `name` (lowercase, `_` spelled as `-`) cannot be named by a rule, or null when it can. */
export function reservedReason(name: string, side: 'request' | 'response'): string | null {
  const dashed = name.replaceAll('_', '-');
  const table = side === 'request' ? REQUEST : RESPONSE;
  if (Object.hasOwn(table, dashed)) return table[dashed]!;
  if (side === 'response' && dashed.startsWith('access-control-')) {
    return "belongs to the API's CORS policy (`cors`), which sets and strips it";
  }
  return null;
}
