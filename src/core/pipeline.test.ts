import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../config/gateway.ts';
import { createListener, type GatewayHolder, type ListenerRuntime } from '../server/listener.ts';
import type { RequestContext } from './context.ts';
import type { OperationInfo } from './operation.ts';
import { CONTINUE, DONE, reply } from './outcome.ts';
import { Pipeline } from './pipeline.ts';
import type { ReasonCode } from './reasons.ts';
import type { Stage, StageMode } from './stage.ts';

const TEST_DENIED = 'test_denied' as ReasonCode;

/** A stage in the `waf` slot that denies requests carrying `x-deny`. */
function denyStage(mode: StageMode): Stage {
  return {
    name: 'waf',
    mode,
    summary: 'test',
    request: (ctx) =>
      ctx.headers['x-deny'] ? reply(403, TEST_DENIED, { detail: 'x-deny present' }) : CONTINUE,
  };
}

function terminal(): Stage {
  return {
    name: 'upstream',
    mode: 'enforce',
    summary: 'test',
    request(ctx) {
      if (ctx.headers['x-throw']) throw new Error('bug in a stage');
      ctx.sendBody(200, { 'content-type': 'text/plain' }, 'reached', 'mock');
      return DONE;
    },
  };
}

const completed: RequestContext[] = [];
const logStage: Stage = {
  name: 'log',
  mode: 'enforce',
  summary: 'test',
  complete: (ctx) => void completed.push(ctx),
};

function routeTo(pipelines: Record<string, Pipeline>): Stage {
  return {
    name: 'route',
    mode: 'enforce',
    summary: 'test',
    request(ctx) {
      const name = ctx.target.slice(1);
      const pipeline = pipelines[name];
      if (!pipeline) return reply(404, 'route_not_found');
      const operation: OperationInfo = {
        api: { name: 'a', basePath: '' },
        operationId: name,
        method: 'GET',
        route: `/${name}`,
        pipeline,
      };
      ctx.route = { operation, params: {} };
      return CONTINUE;
    },
  };
}

describe('pipeline: outcomes, modes and failures', () => {
  let server: Server;
  let base: string;

  before(async () => {
    const entry = new Pipeline([
      routeTo({
        enforce: new Pipeline([denyStage('enforce'), terminal(), logStage]),
        shadow: new Pipeline([denyStage('shadow'), terminal(), logStage]),
      }),
      logStage,
    ]);
    const runtime: ListenerRuntime = {
      listeners: [],
      limits: { maxUrlSize: 8192, maxHeaderSize: 16384, maxHeaderCount: 100, maxBodySize: 1024 },
      headersTimeout: 5000,
      requestTimeout: 10000,
      keepAliveTimeout: 1000,
      drainTimeout: 1000,
    };
    const gateway = { entry, accessLog: null } as unknown as Gateway;
    const holder: GatewayHolder = { current: gateway, inflight: new Map(), onIdle() {} };
    server = createListener({ host: '127.0.0.1', port: 0 }, runtime, holder);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('an enforcing stage that replies stops the request with a generic problem', async () => {
    completed.length = 0;
    const res = await fetch(`${base}/enforce`, { headers: { 'x-deny': '1' } });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    const body = await res.text();
    assert.doesNotMatch(body, /test_denied|x-deny/, 'reason and detail stay out of the body');
    assert.equal(completed.length, 1);
    assert.equal(completed[0]!.reason, TEST_DENIED);
    assert.deepEqual(
      completed[0]!.decisions?.map((d) => [d.stage, d.mode, d.status]),
      [['waf', 'enforce', 403]],
    );
  });

  it('a shadow stage records its decision and lets the request through', async () => {
    completed.length = 0;
    const res = await fetch(`${base}/shadow`, { headers: { 'x-deny': '1' } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'reached');
    assert.equal(completed[0]!.reason, null, 'a shadowed decision is not the reason of the response');
    assert.deepEqual(
      completed[0]!.decisions?.map((d) => [d.stage, d.mode, d.reason]),
      [['waf', 'shadow', TEST_DENIED]],
    );
  });

  it('a request no stage objects to records no decision', async () => {
    completed.length = 0;
    const res = await fetch(`${base}/enforce`);
    assert.equal(res.status, 200);
    assert.equal(completed[0]!.decisions, null);
  });

  it('a stage that throws is a 500 internal_error, never a crash, and is still logged', async () => {
    completed.length = 0;
    const res = await fetch(`${base}/enforce`, { headers: { 'x-throw': '1' } });
    assert.equal(res.status, 500);
    assert.doesNotMatch(await res.text(), /bug in a stage/);
    assert.equal(completed[0]!.reason, 'internal_error');
    assert.match(String(completed[0]!.error), /bug in a stage/);
    const after = await fetch(`${base}/enforce`);
    assert.equal(after.status, 200, 'the gateway keeps serving');
  });

  it('keeps stages in the fixed order whatever order they are given in', () => {
    const p = new Pipeline([logStage, terminal(), denyStage('enforce')]);
    assert.deepEqual(
      p.stages.map((s) => s.name),
      ['waf', 'upstream', 'log'],
    );
    assert.throws(() => new Pipeline([logStage, logStage]), /appears twice/);
  });
});
