import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import type { RequestContext } from '../../core/context.ts';
import { CidrSet } from './engine/ip.ts';
import { clientFromChain, createClientStage } from './stage.ts';

const TRUSTED = new CidrSet(['10.0.0.0/8', '127.0.0.1']);

describe('clientFromChain', () => {
  // The right-most X-Forwarded-For entry that is not a trusted proxy; entries left of it are
  // whatever the client wrote and are never believed.
  const vectors: [xff: string, peer: string, client: string][] = [
    ['1.2.3.4', '10.0.0.1', '1.2.3.4'],
    ['1.2.3.4, 10.0.0.2', '10.0.0.1', '1.2.3.4'],
    ['6.6.6.6, 1.2.3.4', '10.0.0.1', '1.2.3.4'],
    ['6.6.6.6, 1.2.3.4, 10.0.0.2, 127.0.0.1', '10.0.0.1', '1.2.3.4'],
    ['10.0.0.3, 10.0.0.2', '10.0.0.1', '10.0.0.3'],
    ['  1.2.3.4 ,10.0.0.2  ', '10.0.0.1', '1.2.3.4'],
    ['::ffff:1.2.3.4', '10.0.0.1', '1.2.3.4'],
    ['1.2.3.4, ::ffff:10.0.0.9', '10.0.0.1', '1.2.3.4'],
    ['2001:DB8::1, 10.0.0.2', '10.0.0.1', '2001:db8::1'],
    // A hop that is not an address stops the walk at the last one we can vouch for.
    ['garbage, 1.2.3.4', '10.0.0.1', '1.2.3.4'],
    ['1.2.3.4, garbage', '10.0.0.1', '10.0.0.1'],
    ['1.2.3.4, garbage, 10.0.0.2', '10.0.0.1', '10.0.0.2'],
    ['1.2.3.4:5678', '10.0.0.1', '10.0.0.1'],
    ['[2001:db8::1]', '10.0.0.1', '10.0.0.1'],
    ['unknown', '10.0.0.1', '10.0.0.1'],
    ['', '10.0.0.1', '10.0.0.1'],
    [',', '10.0.0.1', '10.0.0.1'],
  ];
  for (const [xff, peer, client] of vectors) {
    it(`${JSON.stringify(xff)} via ${peer} → ${client}`, () => {
      assert.equal(clientFromChain(xff, peer, TRUSTED), client);
    });
  }
});

/** The slice of a RequestContext the client stage reads and writes. */
function context(remoteAddress: string, headers: IncomingHttpHeaders, scheme: 'http' | 'https' = 'http') {
  return {
    remoteAddress,
    headers,
    scheme,
    id: 'generated-id',
    client: null,
    traceparent: undefined,
    tracestate: undefined,
  } as unknown as RequestContext;
}

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('the client stage', () => {
  const stage = createClientStage(TRUSTED);
  const SPOOFED: IncomingHttpHeaders = {
    host: 'api.example.com',
    'x-forwarded-for': '6.6.6.6',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'evil.example',
    'x-request-id': 'forged',
  };

  it('believes nothing from a peer that is not a trusted proxy', () => {
    const ctx = context('203.0.113.9', SPOOFED);
    assert.deepEqual(stage.request!(ctx), { kind: 'continue' });
    assert.deepEqual(ctx.client, {
      ip: '203.0.113.9',
      forwardedFor: '203.0.113.9',
      forwardedProto: 'http',
      forwardedHost: 'api.example.com',
      viaTrustedProxy: false,
    });
    assert.equal(ctx.id, 'generated-id');
  });

  it('reports a dual-stack IPv4 peer as IPv4', () => {
    const ctx = context('::ffff:203.0.113.9', {});
    stage.request!(ctx);
    assert.equal(ctx.client?.ip, '203.0.113.9');
  });

  it('follows a trusted proxy: chain kept and the peer appended, proto, host and request id honoured', () => {
    const ctx = context('10.0.0.1', { ...SPOOFED, 'x-request-id': 'edge-42' }, 'https');
    stage.request!(ctx);
    assert.deepEqual(ctx.client, {
      ip: '6.6.6.6',
      forwardedFor: '6.6.6.6, 10.0.0.1',
      forwardedProto: 'https',
      forwardedHost: 'evil.example',
      viaTrustedProxy: true,
    });
    assert.equal(ctx.id, 'edge-42');
  });

  it('a trusted proxy without X-Forwarded-For is the client itself', () => {
    const ctx = context('10.0.0.1', { host: 'api.example.com' }, 'https');
    stage.request!(ctx);
    assert.equal(ctx.client?.ip, '10.0.0.1');
    assert.equal(ctx.client?.forwardedFor, '10.0.0.1');
    assert.equal(ctx.client?.forwardedProto, 'https');
  });

  it('falls back from a trusted proxy’s invalid proto, host and request id', () => {
    const ctx = context('10.0.0.1', {
      host: 'api.example.com',
      'x-forwarded-proto': 'gopher',
      'x-forwarded-host': 'evil.example/@x',
      'x-request-id': `${'a'.repeat(129)}`,
    });
    stage.request!(ctx);
    assert.equal(ctx.client?.forwardedProto, 'http');
    assert.equal(ctx.client?.forwardedHost, 'api.example.com');
    assert.equal(ctx.id, 'generated-id');
    for (const bad of ['a b', 'id\r\nx: y', 'id"}', '']) {
      const c = context('10.0.0.1', { 'x-request-id': bad });
      stage.request!(c);
      assert.equal(c.id, 'generated-id', JSON.stringify(bad));
    }
  });

  it('passes a valid traceparent and tracestate on, from any client', () => {
    const ctx = context('203.0.113.9', { traceparent: TRACEPARENT, tracestate: 'a=1,b=2' });
    stage.request!(ctx);
    assert.equal(ctx.traceparent, TRACEPARENT);
    assert.equal(ctx.tracestate, 'a=1,b=2');
  });

  it('drops an invalid traceparent, and the tracestate with it', () => {
    for (const bad of [
      TRACEPARENT.toUpperCase(),
      '01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      '00-00000000000000000000000000000000-b7ad6b7169203331-01',
      '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
      `${TRACEPARENT} `,
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331',
    ]) {
      const ctx = context('203.0.113.9', { traceparent: bad, tracestate: 'a=1' });
      stage.request!(ctx);
      assert.equal(ctx.traceparent, undefined, bad);
      assert.equal(ctx.tracestate, undefined, bad);
    }
  });

  it('drops an oversized tracestate but keeps the traceparent', () => {
    const ctx = context('203.0.113.9', { traceparent: TRACEPARENT, tracestate: `a=${'x'.repeat(600)}` });
    stage.request!(ctx);
    assert.equal(ctx.traceparent, TRACEPARENT);
    assert.equal(ctx.tracestate, undefined);
  });
});
