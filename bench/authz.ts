import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { compileGateway } from '../src/config/compile.ts';
import { cedar } from '../src/stages/authz/cedar/wasm.ts';
import type { AuthzStage } from '../src/stages/authz/stage.ts';
import { type JwksServer, serveJwks } from './jwks.ts';
import { LoadDriver } from './load-driver.ts';
import { type BenchOptions, parseOptions, singleProcessOptionsHelp } from './options.ts';
import { startChild } from './procs.ts';
import { int, median, ms, type RunRecord, ratio, row, type Summary, summarize } from './report.ts';
import {
  type Bench,
  cpuProfileFlags,
  lifecycle,
  machine,
  progress,
  runInterleavedRounds,
  semiSpaceFlags,
} from './run.ts';
import type { Scenario } from './scenarios.ts';

/**
 * `npm run bench:authz`: what Cedar authorization costs per request, against the same request
 * without it, in one run and one Rampart process. Three APIs over one OpenAPI document and one
 * upstream, all behind the same RS256 JWT (with `groups` and `tenant` claims):
 *   GET /ref/users/alice/orders/o-1    no authz (the reference)
 *   GET /p10/users/alice/orders/o-1    Cedar, 10 policies
 *   GET /p100/users/alice/orders/o-1   Cedar, 100 policies
 *   GET /p10c/..., /p100c/...          the same with the decision cache on (the default)
 * measured in interleaved rounds (docs/benchmarks.md), plus the in-process cost of one decision
 * (`OperationAuthz.decide`, no HTTP) for each policy set. Keys and tokens are made at run time.
 */

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ISSUER = 'https://idp.rampart-bench.invalid/';
const AUDIENCE = 'rampart-bench';

const USAGE = `Usage: npm run bench:authz -- [options]

Measures, in one run and one Rampart process, the same GET behind the same RS256 JWT:
  GET /ref/...    no authz (the reference)
  GET /p10/...    Cedar with 10 policies (owner check, groups, tenant claim, IP range, forbids)
  GET /p100/...   Cedar with 100 policies (the same, and 90 more group/tenant permits)
  GET /p10c/..., GET /p100c/...   the same with the decision cache on (authz.cedar.decisionCache,
                  on by default): every request of the run is the same, so these are cache hits
/p10 and /p100 run with the cache off: they measure Cedar evaluation itself.
in interleaved rounds; prints medians, ratios to /ref and the CPU authz adds per request, then
the in-process median of one decision for each policy set.

${singleProcessOptionsHelp('authz')}`;

/**
 * `n` policies as a real API might have them: an owner check, an admin permit and forbid, a
 * tenant fence, a network fence on deletes, and group/tenant permits to make up the count.
 * The bench's request is allowed by `owner` and passes every forbid.
 */
export function policySet(n: number): string {
  const fixed = [
    '@id("owner")\npermit (principal, action == Action::"getOrder", resource) when { resource.userId == principal };',
    '@id("admins")\npermit (principal in Group::"admin", action in Action::"tag:admin", resource);',
    '@id("admin-only")\nforbid (principal, action in Action::"tag:admin", resource) unless { principal in Group::"admin" };',
    '@id("tenant-fence")\nforbid (principal, action, resource) unless { context.claims.tenant like "t-*" };',
    '@id("delete-network")\nforbid (principal, action == Action::"deleteUser", resource) unless { context.clientIp.isInRange(ip("127.0.0.0/8")) };',
  ];
  const out = [...fixed];
  for (let i = 0; out.length < n; i++) {
    out.push(
      i % 2 === 0
        ? `@id("team-${i}")\npermit (principal in Group::"team-${i}", action in Action::"tag:orders", resource) when { context.claims.tenant == "t-${i}" };`
        : `@id("support-${i}")\npermit (principal in Group::"support-${i}", action == Action::"getOrder", resource) when { context.scopes.contains("orders:read") };`,
    );
  }
  return `${out.slice(0, n).join('\n\n')}\n`;
}

function rampartConfig(upstreamPort: number, accessLog: string, jwksUrl: string, work: string): string {
  const api = (name: string, policies: string | null, cache = 0) => `  ${name}:
    openapi: ${JSON.stringify(join(BENCH_DIR, 'authz-openapi.yaml'))}
    basePath: /${name}
    stripBasePath: true
    upstream: bench
${
  policies === null
    ? ''
    : `    authz:
      cedar:
        policies: ${JSON.stringify(policies)}
        claims: { tenant: String }
        entities: { userId: User }
        decisionCache: ${cache}
`
}`;
  return `# Written by bench/authz.ts for one bench run.
version: 1
server:
  listen:
    - host: 127.0.0.1
      port: 0
log:
  level: info
  access:
    enabled: true
    destination: ${JSON.stringify(accessLog)}
upstreams:
  bench:
    url: http://127.0.0.1:${upstreamPort}
authn:
  schemes:
    bearer:
      jwt:
        issuers: [${JSON.stringify(ISSUER)}]
        audiences: [${JSON.stringify(AUDIENCE)}]
        jwksUri: ${JSON.stringify(jwksUrl)}
        algorithms: [RS256]
apis:
${api('ref', null)}${api('p10', join(work, 'p10.cedar'))}${api('p100', join(work, 'p100.cedar'))}${api('p10c', join(work, 'p10.cedar'), 10_000)}${api('p100c', join(work, 'p100.cedar'), 10_000)}`;
}

async function issueToken(): Promise<{ jwks: { keys: JWK[] }; token: string }> {
  const pair = await generateKeyPair('RS256');
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'bench-rs256', alg: 'RS256', use: 'sig' };
  const token = await new SignJWT({ scope: 'orders:read', groups: ['staff', 'team-2'], tenant: 't-x' })
    .setProtectedHeader({ alg: 'RS256', kid: 'bench-rs256', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('alice')
    .setIssuedAt()
    .setExpirationTime('7d')
    .sign(pair.privateKey);
  return { jwks: { keys: [jwk] }, token };
}

function scenarios(token: string): Scenario[] {
  const headers = { authorization: `Bearer ${token}` };
  return ['ref', 'p10', 'p100', 'p10c', 'p100c'].map((api) => ({
    name: `GET /${api}`,
    method: 'GET',
    path: `/${api}/users/alice/orders/o-1`,
    headers,
    body: undefined,
  }));
}

/** Before measuring: each scenario is served, and Cedar refuses another user's order. */
async function checkScenarios(port: number, list: readonly Scenario[]): Promise<void> {
  for (const s of list) {
    const res = await fetch(`http://127.0.0.1:${port}${s.path}`, { headers: s.headers });
    if (res.status !== 200) throw new Error(`${s.name} answered ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
    if (s.path.startsWith('/ref')) continue;
    const other = await fetch(`http://127.0.0.1:${port}${s.path.replace('alice', 'bob')}`, {
      headers: s.headers,
    });
    await other.arrayBuffer();
    if (other.status !== 403) throw new Error(`${s.name} for bob's order answered ${other.status}, want 403`);
  }
}

/**
 * The in-process cost of one decision: `OperationAuthz.decide` for the bench's request, timed
 * one call at a time (median and p99 of `samples` calls after a warm-up). No HTTP, no other work.
 */
function decisionCost(
  configFile: string,
  samples: number,
): Record<string, { median: number; p99: number; applied: number }> {
  const gateway = compileGateway(configFile, { openLogs: false });
  void gateway.close();
  const out: Record<string, { median: number; p99: number; applied: number }> = {};
  for (const api of ['p10', 'p100', 'p10c', 'p100c']) {
    const op = gateway.operations.find((o) => o.api.name === api && o.operationId === 'getOrder')!;
    const stage = op.pipeline.stages.find((s) => s.name === 'authz') as AuthzStage;
    const input = {
      principal: Object.freeze({
        id: 'alice',
        kind: 'jwt',
        scheme: 'bearer',
        scopes: ['orders:read'],
        attributes: { claims: { sub: 'alice', groups: ['staff', 'team-2'], tenant: 't-x' } },
      }),
      clientIp: '127.0.0.1',
      params: { userId: 'alice', orderId: 'o-1' },
      certificate: null,
      now: Date.now(),
    };
    if (!stage.authz.decide(input).allow) throw new Error(`${api}: the bench request is not allowed`);
    for (let i = 0; i < Math.min(2000, samples); i++) stage.authz.decide(input);
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      const start = process.hrtime.bigint();
      stage.authz.decide(input);
      times.push(Number(process.hrtime.bigint() - start) / 1000);
    }
    times.sort((a, b) => a - b);
    out[api] = {
      median: times[Math.floor(times.length / 2)]!,
      p99: times[Math.floor(times.length * 0.99)]!,
      applied: stage.authz.cedar?.policies.length ?? 0,
    };
  }
  return out;
}

function formatTable(summaries: readonly Summary[], records: readonly RunRecord[]): string {
  const widths = [12, 8, 15, 7, 7, 11, 12, 10, 12, 14];
  const ref = summaries[0]!;
  const lines = [
    row(
      [
        '',
        'req/s',
        'min–max',
        'p50 ms',
        'p99 ms',
        'CPU µs/req',
        'req/s ÷ ref',
        'p99 ÷ ref',
        '+CPU µs/req',
        '+p50 µs',
      ],
      widths,
    ),
  ];
  for (const s of summaries) {
    const paired = records
      .filter((r) => r.scenario === s.scenario)
      .flatMap((r) => {
        const base = records.find((b) => b.scenario === ref.scenario && b.round === r.round);
        return base === undefined || base.cpuPerRequest === null || r.cpuPerRequest === null
          ? []
          : [r.cpuPerRequest - base.cpuPerRequest];
      });
    const added = paired.length > 0 ? median(paired) : null;
    lines.push(
      row(
        [
          `${s.scenario}${s.failures > 0 ? ' (!)' : ''}`,
          int.format(s.rps),
          `${int.format(s.rpsMin)}–${int.format(s.rpsMax)}`,
          ms(s.p50),
          ms(s.p99),
          s.cpuPerRequest === null ? '–' : int.format(s.cpuPerRequest),
          ratio(s.rps / ref.rps),
          ratio(s.p99 / ref.p99),
          added === null ? '–' : `${added >= 0 ? '+' : ''}${int.format(added)}`,
          `${s.p50 >= ref.p50 ? '+' : ''}${int.format((s.p50 - ref.p50) * 1000)}`,
        ],
        widths,
      ),
    );
  }
  lines.push(
    `(÷ ref, +CPU and +p50: against ${ref.scenario}, the same Rampart and JWT without authz; +CPU paired per round)`,
  );
  return lines.join('\n');
}

async function main(): Promise<number> {
  let options: BenchOptions;
  const date = new Date().toISOString().slice(0, 10);
  try {
    options = parseOptions(
      process.argv.slice(2),
      process.env,
      join(tmpdir(), 'rampart-bench', `authz-${date}.json`),
    );
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    return 64;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const work = mkdtempSync(join(tmpdir(), 'rampart-bench-authz-'));
  const ownedAccessLog = options.accessLog === null ? join(work, 'access.log') : null;
  const accessLog = options.accessLog === null ? ownedAccessLog! : resolve(options.accessLog);
  const nodeFlags = semiSpaceFlags(options);
  const { children, stopAll, stopped } = lifecycle(work);
  let jwks: JwksServer | null = null;
  try {
    writeFileSync(join(work, 'p10.cedar'), policySet(10));
    writeFileSync(join(work, 'p100.cedar'), policySet(100));
    const { jwks: keys, token } = await issueToken();
    jwks = await serveJwks(keys);
    const list = scenarios(token);
    const loadChild = await startChild({ name: 'load generator', script: 'bench/load.ts', ready: 'ipc' });
    children.push(loadChild);
    const upstream = await startChild({
      name: 'upstream',
      script: 'bench/upstream.ts',
      ready: 'ipc',
      guard: true,
    });
    children.push(upstream);
    const configFile = join(work, 'rampart.yaml');
    writeFileSync(configFile, rampartConfig(upstream.port, accessLog, jwks.url, work));
    const rampart = await startChild({
      name: 'rampart',
      script: 'src/cli/main.ts',
      args: ['start', configFile],
      nodeFlags: [...nodeFlags, ...cpuProfileFlags(options, 'rampart-authz')],
      ready: 'rampart-log',
      guard: true,
    });
    children.push(rampart);
    await checkScenarios(rampart.port, list);

    const top = [
      `Rampart authorization bench  ${new Date().toISOString()}  ${machine()}`,
      `${options.connections} connections, ${options.rounds} round(s) × ${options.duration}s per scenario, ${options.warmup}s warm-up each; scenario order rotates per round; medians over rounds`,
      `Rampart runs with: ${nodeFlags.length ? nodeFlags.join(' ') : 'node defaults'}; access log to ${accessLog}; every request carries an RS256 JWT`,
    ].join('\n');
    progress(`${top}\n`);
    const bench: Bench = { options, load: new LoadDriver(loadChild), servers: { rampart }, ownedAccessLog };
    const records = await runInterleavedRounds(bench, list);
    const summaries = list.map((s) => summarize(records, s.name, 'rampart'));

    // The load has stopped: the decision micro-bench runs in this process, alone.
    const samples = options.duration < 5 ? 5000 : 50000;
    const decisions = decisionCost(configFile, samples);
    const micro = Object.entries(decisions)
      .map(
        ([api, d]) =>
          `  ${api.padEnd(5)} ${String(d.applied).padStart(3)} policies apply to getOrder: median ${d.median.toFixed(1)} µs, p99 ${d.p99.toFixed(1)} µs per decision`,
      )
      .join('\n');
    process.stdout.write(
      `\n${top}\n\n${formatTable(summaries, records)}\n\nOne decision in process (OperationAuthz.decide, ${samples} calls, Cedar ${cedar().getCedarSDKVersion()} WebAssembly):\n${micro}\n`,
    );
    mkdirSync(dirname(options.jsonOut), { recursive: true });
    writeFileSync(
      options.jsonOut,
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          node: process.version,
          cpus: cpus().length,
          cpuModel: cpus()[0]?.model.trim() ?? null,
          loadavg: loadavg(),
          options,
          rampartNodeFlags: nodeFlags,
          summaries,
          decisions,
          runs: records,
        },
        null,
        2,
      )}\n`,
    );
    process.stdout.write(`\nResults (JSON): ${options.jsonOut}\n`);
    return 0;
  } catch (err) {
    if (!stopped()) process.stderr.write(`bench failed: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await stopAll();
    jwks?.close();
  }
}

process.exit(await main());
