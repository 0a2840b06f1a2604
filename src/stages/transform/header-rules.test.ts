import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { YamlSource } from '../../config/yaml-source.ts';
import type { Principal, RequestContext } from '../../core/context.ts';
import { RampartError } from '../../core/errors.ts';
import { forwardRequestHeaders } from '../upstream/hop-by-hop.ts';
import { applyResponseRules, compileHeaderRules, type HeaderRulesT } from './header-rules.ts';
import { withRequestHeaderRules } from './rules-stage.ts';
import { createIdentityHeadersStage } from './stage.ts';

const source: YamlSource = {
  file: 'rampart.yaml',
  data: {},
  locate: () => ({ file: 'rampart.yaml', line: 1 }),
};

const PRINCIPAL: Principal = {
  id: 'alice',
  kind: 'jwt',
  scheme: 'bearer',
  scopes: ['a'],
  attributes: { claims: { tenant: 'acme', evil: 'x\r\nX-Admin: 1' } },
};

function ctxWith(headers: Record<string, string>, principal: Principal | null = PRINCIPAL): RequestContext {
  return {
    id: 'req-1',
    headers,
    principal,
    upstreamHeaders: null,
    consumedHeaders: null,
  } as unknown as RequestContext;
}

function requestSteps(rules: HeaderRulesT) {
  return compileHeaderRules(rules, {
    source,
    at: ['apis', 't', 'transform', 'request'],
    side: 'request',
    identity: new Set(['x-principal-id']),
    credentials: new Set(['authorization']),
  });
}

/** What the upstream would receive for `headers` under `rules`, after the identity headers. */
function upstreamView(rules: HeaderRulesT, headers: Record<string, string>, principal?: Principal | null) {
  const identity = createIdentityHeadersStage({ strip: [], inject: { 'x-principal-id': 'id' } });
  const [stage] = withRequestHeaderRules([identity], requestSteps(rules));
  const ctx = ctxWith(headers, principal);
  stage!.request!(ctx);
  return forwardRequestHeaders(ctx.headers as Record<string, string>, ctx.upstreamHeaders);
}

describe('request header rules', () => {
  it('apply remove, rename, set, add in that order, after the identity headers', () => {
    const out = upstreamView(
      {
        remove: ['X-Debug'],
        rename: { 'X-Old': 'X-New' },
        set: { 'X-Version': '2', 'X-Tenant': '{principal.claims.tenant}', 'X-Ref': 'r-{request.id}' },
        add: { 'X-Note': 'gw' },
      },
      { 'x-debug': '1', 'x-old': 'o', 'x-note': 'client', accept: '*/*' },
    );
    assert.deepEqual(out, {
      accept: '*/*',
      'x-principal-id': 'alice',
      'x-new': 'o',
      'x-version': '2',
      'x-tenant': 'acme',
      'x-ref': 'r-req-1',
      'x-note': 'client, gw',
    });
  });

  it("keeps a rename target's client value when the source is absent", () => {
    assert.equal(upstreamView({ rename: { 'X-Old': 'X-New' } }, { 'x-new': 'kept' })['x-new'], 'kept');
  });

  it("leaves a principal header out (client copy included) when the value can't be made", () => {
    const rules = { set: { 'X-Caller': '{principal.id}', 'X-Evil': '{principal.claims.evil}' } };
    const anonymous = upstreamView(rules, { 'x-caller': 'admin', x_caller: 'admin' }, null);
    assert.deepEqual(anonymous, {});
    const injected = upstreamView(rules, { 'x-evil': 'client' });
    assert.equal(injected['x-caller'], 'alice');
    assert.equal(injected['x-evil'], undefined, 'a claim with CR/LF never becomes a header');
  });

  it('never puts back a credential the gateway consumed', () => {
    const identity = createIdentityHeadersStage({ strip: [], inject: {} });
    const [stage] = withRequestHeaderRules(
      [identity],
      requestSteps({ rename: { 'X-Token': 'Authorization' } }),
    );
    const ctx = ctxWith({ authorization: 'Bearer secret' });
    (ctx as { consumedHeaders: string[] }).consumedHeaders = ['authorization'];
    stage!.request!(ctx);
    const out = forwardRequestHeaders(ctx.headers as Record<string, string>, ctx.upstreamHeaders, [
      'authorization',
    ]);
    assert.equal(out.authorization, undefined);
  });

  it('refuses at load what the schema cannot see: reserved names and bad placeholders', () => {
    for (const rules of [
      { set: { 'X-Principal-Id': 'x' } },
      { set: { 'X-Forwarded-For': '1.2.3.4' } },
      { set: { 'Content-Length': '0' } },
      { rename: { Authorization: 'X-Leak' } },
      { add: { 'X-Caller': '{principal.id}' } },
      { set: { 'X-A': '{nope}' } },
      { set: { 'X A': 'v' } },
    ] as HeaderRulesT[]) {
      assert.throws(() => requestSteps(rules), RampartError, JSON.stringify(rules));
    }
  });
});

describe('response header rules', () => {
  const steps = compileHeaderRules(
    {
      remove: ['X-Internal'],
      rename: { 'X-Old': 'X-New' },
      set: { 'X-Frame-Options': 'DENY' },
      add: { Vary: 'Accept-Language' },
    },
    { source, at: ['apis', 't', 'response', 'headers'], side: 'response' },
  );

  it('edit the head in place', () => {
    const head: Record<string, string | string[]> = { 'x-internal': 'h', 'x-old': 'v', vary: 'Origin' };
    applyResponseRules(steps, head, ctxWith({}));
    assert.deepEqual(head, { 'x-new': 'v', 'x-frame-options': 'DENY', vary: ['Origin', 'Accept-Language'] });
  });

  it('refuse names the gateway owns on responses, and anything but add on Vary', () => {
    for (const rules of [
      { set: { 'Access-Control-Allow-Origin': '*' } },
      { remove: ['Strict-Transport-Security'] },
      { set: { Vary: '*' } },
      { set: { 'X-Who': '{principal.id}' } },
    ] as HeaderRulesT[]) {
      assert.throws(
        () => compileHeaderRules(rules, { source, at: [], side: 'response' }),
        RampartError,
        JSON.stringify(rules),
      );
    }
  });
});
