// A stand-in external authorizer for trying the example on one machine. Not for production.
// Rampart POSTs {identity, operation, request}; this answers from a fixed table of tokens.
// Run: node examples/external-authorizer/dev-authorizer.mjs (listens on 127.0.0.1:9001).
import { createServer } from 'node:http';

const TOKENS = {
  // Covers two operations only: a cached answer never grants any other one.
  'Bearer demo-acme': {
    principal: { id: 'partner-acme', scopes: ['shipments:read'], attributes: { tier: 'gold' } },
    operations: ['listShipments', 'getShipment'],
  },
  // Covers every operation, but lacks the scope cancelShipment requires.
  'Bearer demo-globex': {
    principal: { id: 'partner-globex', scopes: ['shipments:read'] },
    operations: ['*'],
  },
  // Covers every operation of the API by route, with both scopes.
  'Bearer demo-initech': {
    principal: { id: 'partner-initech', scopes: ['shipments:read', 'shipments:cancel'] },
    operations: ['* /partner/v1/*'],
  },
};

createServer((req, res) => {
  let text = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => {
    text += chunk;
  });
  req.on('end', () => {
    const { identity, operation, request } = JSON.parse(text);
    const entry = TOKENS[identity['header:Authorization']];
    console.log(`${request.clientIp} ${operation.operationId}: ${entry ? 'allow' : 'deny'}`);
    const answer = entry ? { allow: true, ...entry } : { allow: false };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  });
}).listen(9001, '127.0.0.1', () => console.log('dev authorizer on http://127.0.0.1:9001/authorize'));
