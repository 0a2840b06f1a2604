import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Principal } from '../../core/context.ts';
import { forwardRequestHeaders } from '../upstream/hop-by-hop.ts';
import { createIdentityHeadersStage, principalField } from './stage.ts';

const PRINCIPAL: Principal = {
  id: 'alice',
  kind: 'jwt',
  scheme: 'bearer',
  scopes: ['orders:read', 'orders:write'],
  attributes: {
    plan: 'gold',
    claims: { email: 'alice@example.test', evil: 'x\r\nX-Admin: 1', groups: ['a', 'b'] },
  },
};

describe('identity headers', () => {
  it('reads principal fields, claims and attributes', () => {
    assert.equal(principalField(PRINCIPAL, 'id'), 'alice');
    assert.equal(principalField(PRINCIPAL, 'scopes'), 'orders:read orders:write');
    assert.equal(principalField(PRINCIPAL, 'claims.email'), 'alice@example.test');
    assert.equal(principalField(PRINCIPAL, 'claims.groups'), 'a b');
    assert.equal(principalField(PRINCIPAL, 'attributes.plan'), 'gold');
    assert.equal(principalField(PRINCIPAL, 'claims.missing'), undefined);
  });

  it('never turns a claim with CR/LF into a header (header injection through a token claim)', () => {
    assert.equal(principalField(PRINCIPAL, 'claims.evil'), undefined);
  });

  it('strips client-sent identity headers in any spelling and injects the verified ones', () => {
    const stage = createIdentityHeadersStage({ strip: ['x-user-id'], inject: { 'X-Principal-Id': 'id' } });
    const ctx = {
      principal: PRINCIPAL,
      upstreamHeaders: null,
      consumedHeaders: null,
    } as unknown as Parameters<NonNullable<typeof stage.request>>[0];
    stage.request!(ctx);
    const out = forwardRequestHeaders(
      {
        'x-user-id': 'root',
        x_user_id: 'root',
        'x-principal-id': 'root',
        x_principal_id: 'root',
        accept: '*/*',
      },
      ctx.upstreamHeaders,
    );
    assert.deepEqual(out, { accept: '*/*', 'x-principal-id': 'alice' });
  });

  it('strips identity headers for anonymous requests too, injecting nothing', () => {
    const stage = createIdentityHeadersStage({ strip: [], inject: { 'x-principal-id': 'id' } });
    const ctx = { principal: null, upstreamHeaders: null, consumedHeaders: null } as unknown as Parameters<
      NonNullable<typeof stage.request>
    >[0];
    stage.request!(ctx);
    assert.deepEqual(
      forwardRequestHeaders({ 'x-principal-id': 'root', accept: '*/*' }, ctx.upstreamHeaders),
      {
        accept: '*/*',
      },
    );
  });
});
