// A stand-in identity provider for trying the JWT and authz examples on one machine. Not for
// production. It makes a fresh P-256 key pair at start (nothing is written to disk),
// publishes the public key as a JWKS, and signs access tokens on request:
//   GET /.well-known/jwks.json                                   the key set
//   GET /token?sub=alice&scope=orders:read&groups=staff,admin&tenant=acme
//                                                                a token valid for 5 minutes
// `groups` is a comma-separated list; leave `groups` or `tenant` out for a token without it.
// Run: node examples/jwt/dev-idp.mjs (listens on 127.0.0.1:9000). Needs only Node.js.
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { createServer } from 'node:http';

const ISSUER = 'https://idp.example.com/';
const AUDIENCE = 'https://api.example.com/orders';
const kid = randomUUID();
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwks = JSON.stringify({
  keys: [{ ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'ES256' }],
});

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');

function token(params) {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: params.get('sub') ?? 'alice',
    scope: params.get('scope') ?? '',
    iat: now,
    exp: now + 300,
  };
  if (params.has('groups')) claims.groups = params.get('groups').split(',').filter(Boolean);
  if (params.has('tenant')) claims.tenant = params.get('tenant');
  const input = `${b64({ alg: 'ES256', typ: 'at+jwt', kid })}.${b64(claims)}`;
  // JWS wants the raw r || s signature (RFC 7518 §3.4), not DER.
  const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (url.pathname === '/.well-known/jwks.json') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
  } else if (url.pathname === '/token') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end(token(url.searchParams));
  } else {
    res.writeHead(404).end();
  }
}).listen(9000, '127.0.0.1', () => console.log('dev IdP on http://127.0.0.1:9000'));
