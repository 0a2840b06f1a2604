import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { KeyStore } from '../src/stages/authn/apikey/store.ts';
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
 * `npm run bench:authn`: what verifying an identity costs per request, against passthrough, in
 * one run and one Rampart process. Four operations on the same upstream: `GET /anon`
 * (`security: [{}]`, the reference), `GET /jwt-rs` (bearer RS256), `GET /jwt-es` (bearer ES256)
 * and `GET /key` (API key in `X-API-Key`), measured in interleaved rounds (docs/benchmarks.md).
 *
 * Everything secret is made at run time: the two signing keys (their JWKS is served from this
 * process on 127.0.0.1), the tokens, the key store's pepper (handed to Rampart alone, through
 * `RAMPART_BENCH_PEPPER`) and the API key. None of it is written to the results.
 */

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ISSUER = 'https://idp.rampart-bench.invalid/';
const AUDIENCE = 'rampart-bench';
const PEPPER_ENV = 'RAMPART_BENCH_PEPPER';
/** Tokens outlive any bench run (durations and rounds are capped). */
const TOKEN_LIFETIME = '7d';

const USAGE = `Usage: npm run bench:authn -- [options]

Measures, in one run and one Rampart process, the same GET through four security requirements:
  GET /anon     security: [{}]: the passthrough reference
  GET /jwt-rs   Authorization: Bearer <JWT signed with RS256>
  GET /jwt-es   Authorization: Bearer <JWT signed with ES256>
  GET /key      X-API-Key: <API key from the key store>
in interleaved rounds (one load generator, one upstream); prints medians, ratios to /anon and
the CPU each verification adds per request. Brute-force protection keeps its defaults (on).

${singleProcessOptionsHelp('authn')}`;

/** What the bench issues at start: a JWKS and one credential per protected operation. */
interface Credentials {
  readonly jwks: { readonly keys: readonly JWK[] };
  readonly rsToken: string;
  readonly esToken: string;
  readonly apiKey: string;
}

async function signingKey(alg: 'RS256' | 'ES256') {
  // RS256: RSA 2048 (jose's default modulus); ES256: P-256.
  const pair = await generateKeyPair(alg);
  const kid = `bench-${alg.toLowerCase()}`;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey: pair.privateKey, jwk };
}

async function issueCredentials(keyStoreFile: string, pepper: string): Promise<Credentials> {
  const rs = await signingKey('RS256');
  const es = await signingKey('ES256');
  const sign = (key: typeof rs, subject: string) =>
    new SignJWT({ scope: 'bench' })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(subject)
      .setIssuedAt()
      .setExpirationTime(TOKEN_LIFETIME)
      .sign(key.privateKey);
  const issued = KeyStore.load(keyStoreFile, { allowMissing: true }).create(
    { kind: 'apiKey', owner: 'bench-client', scopes: ['bench'], description: 'npm run bench:authn' },
    pepper,
    Date.now(),
  );
  issued.store.save(keyStoreFile);
  if (issued.secret.kind !== 'apiKey') throw new Error('the key store issued no API key');
  return {
    jwks: { keys: [rs.jwk, es.jwk] },
    rsToken: await sign(rs, 'bench-rs256'),
    esToken: await sign(es, 'bench-es256'),
    apiKey: issued.secret.token,
  };
}

function rampartConfig(upstreamPort: number, accessLog: string, jwksUrl: string, keyStore: string): string {
  const jwt = (alg: string) => `      jwt:
        issuers: [${JSON.stringify(ISSUER)}]
        audiences: [${JSON.stringify(AUDIENCE)}]
        jwksUri: ${JSON.stringify(jwksUrl)}
        algorithms: [${alg}]`;
  return `# Written by bench/authn.ts for one bench run.
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
  keyStore:
    file: ${JSON.stringify(keyStore)}
    pepper: env:${PEPPER_ENV}
  # bruteForce keeps its defaults (enabled): every verified request checks the IP and
  # credential lockouts in the state store, as in production.
  schemes:
    jwtRs:
${jwt('RS256')}
    jwtEs:
${jwt('ES256')}
    apiKey:
      apiKey: {}
apis:
  bench:
    openapi: ${JSON.stringify(join(BENCH_DIR, 'authn-openapi.yaml'))}
    upstream: bench
`;
}

function get(name: string, path: string, headers: Record<string, string>): Scenario {
  return { name, method: 'GET', path, headers, body: undefined };
}

/** The four scenarios; the first is the reference the others are compared with. */
function scenarios(c: Credentials): Scenario[] {
  return [
    get('GET /anon', '/anon', {}),
    get('GET /jwt-rs (RS256)', '/jwt-rs', { authorization: `Bearer ${c.rsToken}` }),
    get('GET /jwt-es (ES256)', '/jwt-es', { authorization: `Bearer ${c.esToken}` }),
    get('GET /key (API key)', '/key', { 'x-api-key': c.apiKey }),
  ];
}

/** `text` with the character at `at` changed (away from the last one, which may carry only padding bits). */
function tampered(text: string, at: number): string {
  return `${text.slice(0, at)}${text[at] === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`;
}

/** The token with one character of its signature changed. */
function tamperedSignature(token: string): string {
  return tampered(token, token.lastIndexOf('.') + 8);
}

async function status(
  port: number,
  s: Scenario,
  headers = s.headers,
): Promise<{ code: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${s.path}`, { method: s.method, headers });
  return { code: res.status, text: (await res.text()).slice(0, 300) };
}

/**
 * Before anything is measured: every scenario answers 200 (a JWT request waits for Rampart's
 * first fetch of the key set), and bad or missing credentials get 401. Four of the refusals
 * count as failures for 127.0.0.1, below the brute-force delay threshold (5); the API key's
 * success afterwards clears the counts (the IP's and the key's).
 */
async function checkScenarios(port: number, list: readonly Scenario[], c: Credentials): Promise<void> {
  const [, rs, es, key] = list as [Scenario, Scenario, Scenario, Scenario];
  for (const s of list) {
    const r = await status(port, s);
    if (r.code !== 200) throw new Error(`${s.name} answered ${r.code}: ${r.text}`);
  }
  const refusals: [Scenario, Record<string, string>, string][] = [
    [
      rs,
      { authorization: `Bearer ${tamperedSignature(c.rsToken)}` },
      'an RS256 token with a tampered signature',
    ],
    [rs, { authorization: `Bearer ${c.esToken}` }, 'an ES256 token where only RS256 is accepted'],
    [
      es,
      { authorization: `Bearer ${tamperedSignature(c.esToken)}` },
      'an ES256 token with a tampered signature',
    ],
    [key, { 'x-api-key': tampered(c.apiKey, c.apiKey.length - 10) }, 'a wrong API key secret'],
    [key, {}, 'no API key'],
  ];
  for (const [s, headers, what] of refusals) {
    const r = await status(port, s, headers);
    if (r.code !== 401) throw new Error(`${s.path} with ${what} answered ${r.code}, want 401: ${r.text}`);
  }
  for (const s of [key, ...list]) {
    const r = await status(port, s);
    if (r.code !== 200) throw new Error(`${s.name} answered ${r.code} after the refusals: ${r.text}`);
  }
}

interface Comparison {
  readonly scenario: string;
  /** Median req/s over the median req/s of /anon. */
  readonly throughputRatio: number;
  /** Median p99 over the median p99 of /anon. */
  readonly p99Ratio: number;
  /** Median CPU µs per request minus /anon's. */
  readonly addedCpuPerRequest: number | null;
  /** The same, paired within each round (scenario − /anon of that round), then the median. */
  readonly pairedAddedCpuPerRequest: number | null;
  readonly pairedThroughputRatio: number;
}

function compare(records: readonly RunRecord[], anon: Summary, s: Summary): Comparison {
  const byRound = (name: string) =>
    new Map(records.filter((r) => r.scenario === name).map((r) => [r.round, r]));
  const base = byRound(anon.scenario);
  const pairs = [...byRound(s.scenario)].flatMap(([round, r]) => {
    const a = base.get(round);
    return a === undefined ? [] : [[a, r] as const];
  });
  const cpuDeltas = pairs.flatMap(([a, r]) =>
    a.cpuPerRequest === null || r.cpuPerRequest === null ? [] : [r.cpuPerRequest - a.cpuPerRequest],
  );
  return {
    scenario: s.scenario,
    throughputRatio: s.rps / anon.rps,
    p99Ratio: s.p99 / anon.p99,
    addedCpuPerRequest:
      s.cpuPerRequest === null || anon.cpuPerRequest === null ? null : s.cpuPerRequest - anon.cpuPerRequest,
    pairedAddedCpuPerRequest:
      cpuDeltas.length === pairs.length && pairs.length > 0 ? median(cpuDeltas) : null,
    pairedThroughputRatio: median(pairs.map(([a, r]) => r.rps / a.rps)),
  };
}

function formatTable(summaries: readonly Summary[], comparisons: readonly Comparison[]): string {
  const widths = [20, 8, 15, 7, 7, 11, 13, 11, 12];
  const lines = [
    row(
      ['', 'req/s', 'min–max', 'p50 ms', 'p99 ms', 'CPU µs/req', 'req/s ÷ anon', 'p99 ÷ anon', '+CPU µs/req'],
      widths,
    ),
  ];
  for (const s of summaries) {
    const c = comparisons.find((x) => x.scenario === s.scenario)!;
    const added = c.addedCpuPerRequest;
    lines.push(
      row(
        [
          `${s.scenario}${s.failures > 0 ? ' (!)' : ''}`,
          int.format(s.rps),
          `${int.format(s.rpsMin)}–${int.format(s.rpsMax)}`,
          ms(s.p50),
          ms(s.p99),
          s.cpuPerRequest === null ? '–' : int.format(s.cpuPerRequest),
          ratio(c.throughputRatio),
          ratio(c.p99Ratio),
          added === null ? '–' : `${added >= 0 ? '+' : ''}${int.format(added)}`,
        ],
        widths,
      ),
    );
  }
  lines.push(
    `(÷ anon and +CPU: against ${summaries[0]!.scenario}, the same Rampart without an identity check)`,
  );
  return lines.join('\n');
}

function header(
  options: BenchOptions,
  nodeFlags: readonly string[],
  accessLog: string,
  jwks: string,
): string {
  return [
    `Rampart identity bench  ${new Date().toISOString()}  ${machine()}`,
    `${options.connections} connections, ${options.rounds} round(s) × ${options.duration}s per scenario, ${options.warmup}s warm-up each; scenario order rotates per round; medians over rounds`,
    `Rampart runs with: ${nodeFlags.length ? nodeFlags.join(' ') : 'node defaults'}; access log to ${accessLog}; brute-force guard on (defaults)`,
    `Credentials made at start: RS256 (RSA 2048) and ES256 (P-256) JWTs, keys from ${jwks}; one API key (HMAC-SHA-256 under a run-time pepper)`,
  ].join('\n');
}

async function main(): Promise<number> {
  let options: BenchOptions;
  const date = new Date().toISOString().slice(0, 10);
  try {
    options = parseOptions(
      process.argv.slice(2),
      process.env,
      join(tmpdir(), 'rampart-bench', `authn-${date}.json`),
    );
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    return 64;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  const work = mkdtempSync(join(tmpdir(), 'rampart-bench-authn-'));
  const ownedAccessLog = options.accessLog === null ? join(work, 'access.log') : null;
  const accessLog = options.accessLog === null ? ownedAccessLog! : resolve(options.accessLog);
  const nodeFlags = semiSpaceFlags(options);
  const { children, stopAll, stopped } = lifecycle(work);
  let jwksServer: JwksServer | null = null;

  try {
    const pepper = randomBytes(32).toString('base64url');
    const keyStoreFile = join(work, 'keys.json');
    const credentials = await issueCredentials(keyStoreFile, pepper);
    jwksServer = await serveJwks(credentials.jwks);
    const list = scenarios(credentials);

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
    writeFileSync(configFile, rampartConfig(upstream.port, accessLog, jwksServer.url, keyStoreFile));
    const rampart = await startChild({
      name: 'rampart',
      script: 'src/cli/main.ts',
      args: ['start', configFile],
      nodeFlags: [...nodeFlags, ...cpuProfileFlags(options, 'rampart-authn')],
      ready: 'rampart-log',
      guard: true,
      env: { [PEPPER_ENV]: pepper },
    });
    children.push(rampart);
    await checkScenarios(rampart.port, list, credentials);

    const top = header(options, nodeFlags, accessLog, jwksServer.url);
    progress(`${top}\n`);
    const bench: Bench = { options, load: new LoadDriver(loadChild), servers: { rampart }, ownedAccessLog };
    const records = await runInterleavedRounds(bench, list);

    const summaries = list.map((s) => summarize(records, s.name, 'rampart'));
    const anon = summaries[0]!;
    const comparisons = summaries.map((s) => compare(records, anon, s));
    const failures = summaries.some((s) => s.failures > 0);
    const jwksFetches = jwksServer.fetches();
    process.stdout.write(
      `\n${top}\n\n${formatTable(summaries, comparisons)}\n` +
        (failures ? '(!) some responses were not 2xx or failed: see the JSON results\n' : '') +
        `JWKS fetched ${jwksFetches} time(s) during the run (one per JWT scheme at start, then every 5 min)\n`,
    );

    mkdirSync(dirname(options.jsonOut), { recursive: true });
    const results = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? null,
      loadavg: loadavg(),
      options,
      rampartNodeFlags: nodeFlags,
      accessLog,
      bruteForce: 'defaults (enabled)',
      jwksFetches,
      scenarios: list.map((s) => ({
        name: s.name,
        method: s.method,
        path: s.path,
        credential: Object.keys(s.headers)[0] ?? null,
      })),
      summaries,
      comparisons,
      runs: records,
    };
    writeFileSync(options.jsonOut, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`\nResults (JSON): ${options.jsonOut}\n`);
    if (options.profileDir !== null) process.stdout.write(`CPU profile: ${resolve(options.profileDir)}\n`);
    return 0;
  } catch (err) {
    if (!stopped()) process.stderr.write(`bench failed: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await stopAll();
    jwksServer?.close();
  }
}

process.exit(await main());
