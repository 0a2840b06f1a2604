import { readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { compileGateway } from '../config/compile.ts';
import type { Gateway } from '../config/gateway.ts';
import { Strict, StringEnum } from '../config/typedefs.ts';
import { describeErrors } from '../config/validate.ts';
import { readYamlFile } from '../config/yaml-source.ts';
import type { ClientCertificate, Principal } from '../core/context.ts';
import { RampartError } from '../core/errors.ts';
import type { OperationInfo } from '../core/operation.ts';
import { REASONS } from '../core/reasons.ts';
import type { AuthzDecision, AuthzInput } from '../stages/authz/engine.ts';
import { PRINCIPAL_KINDS } from '../stages/authz/schema.ts';
import type { AuthzStage } from '../stages/authz/stage.ts';
import { canonicalIp } from '../stages/client/engine/ip.ts';
import { normalizePath } from '../stages/route/engine/path-normalize.ts';
import { hostName } from '../stages/route/stage.ts';
import { type Command, EXIT } from './args.ts';

const StringList = Type.Array(Type.String());

const PrincipalSpec = Strict({
  id: Type.String({ minLength: 1 }),
  kind: Type.Optional(
    StringEnum(
      PRINCIPAL_KINDS.filter((k) => k !== 'anonymous'),
      'The verifier.',
    ),
  ),
  scheme: Type.Optional(Type.String({ minLength: 1 })),
  scopes: Type.Optional(StringList),
  claims: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  attributes: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

const CertificateSpec = Strict({
  subject: Type.Optional(Type.Record(Type.String(), Type.String())),
  issuer: Type.Optional(Type.Record(Type.String(), Type.String())),
  san: Type.Optional(Type.Record(Type.String(), StringList)),
  fingerprint256: Type.Optional(Type.String()),
  serialNumber: Type.Optional(Type.String()),
});

const RequestSpec = Strict({
  method: Type.String({ pattern: '^[A-Za-z]+$' }),
  path: Type.String({ pattern: '^/' }),
  host: Type.Optional(Type.String()),
  principal: Type.Optional(PrincipalSpec),
  ip: Type.Optional(Type.String({ minLength: 1 })),
  time: Type.Optional(Type.String({ minLength: 1 })),
  certificate: Type.Optional(CertificateSpec),
});

const TestFileSchema = Strict({
  config: Type.Optional(Type.String({ minLength: 1 })),
  tests: Type.Array(
    Strict({
      name: Type.String({ minLength: 1 }),
      request: RequestSpec,
      expect: StringEnum(['allow', 'deny'] as const, 'The decision expected.'),
      reason: Type.Optional(Type.String({ minLength: 1 })),
      policies: Type.Optional(StringList),
    }),
    { minItems: 1 },
  ),
});

type TestFile = Static<typeof TestFileSchema>;
type RequestSpecT = Static<typeof RequestSpec>;

const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
const validateTestFile = ajv.compile<TestFile>(TestFileSchema);

const USAGE = `Usage: rampart authz test [config] --method <M> --path <path> [options]
       rampart authz test [config] --file <tests.authz.yaml|dir> [--file ...]

Decide a request offline, as the authz stage of <config> (default: rampart.yaml) would: the
operation is matched as the gateway matches it, then the rules and the Cedar policies of
its API decide. Nothing is listened on and nothing is fetched; authentication is assumed
to have produced the principal given.

A single request:
  --method <M>          HTTP method
  --path <path>         request path (with the API's base path), e.g. /v1/users/alice/orders/o-1
  --host <host>         Host header, for APIs bound to hosts
  --principal <json>    {"id","kind","scheme","scopes":[],"claims":{},"attributes":{}};
                        omitted: an anonymous caller
  --ip <address>        client IP (default 127.0.0.1)
  --time <iso>          the time of the request (default now)
  --cert <json>         the client certificate: {"subject":{"CN":..},"san":{"DNS":[..]},..}
  --expect allow|deny   exit 1 unless the decision is this one
  --json                print the decision as JSON

Policy tests (*.authz.yaml; a folder runs every such file in it):
  --file <path>         a test file: {config?, tests: [{name, request, expect, reason?, policies?}]}

Exit codes: 0 all as expected (or a single request decided), 1 a test failed,
2 invalid config or test file, 64 usage.`;

export const authzCommand: Command = {
  name: 'authz',
  summary: 'Decide requests offline against the authz rules and Cedar policies',
  usage: USAGE,
  options: {
    method: { type: 'string' },
    path: { type: 'string' },
    host: { type: 'string' },
    principal: { type: 'string' },
    ip: { type: 'string' },
    time: { type: 'string' },
    cert: { type: 'string' },
    expect: { type: 'string' },
    json: { type: 'boolean' },
    file: { type: 'string', multiple: true },
  },
  async run(values, positionals) {
    const [sub, configArg] = positionals;
    if (sub !== 'test' || positionals.length > 2) throw usage(`expected \`authz test [config]\``);
    const files = (values as { file?: string[] }).file;
    if (files !== undefined && files.length > 0) {
      if (values.method !== undefined || values.path !== undefined) {
        throw usage('--file runs test files: give either --file or --method and --path');
      }
      return runTestFiles(files, configArg);
    }
    if (typeof values.method !== 'string' || typeof values.path !== 'string') {
      throw usage('give --method and --path (or --file)');
    }
    if (values.expect !== undefined && values.expect !== 'allow' && values.expect !== 'deny') {
      throw usage('--expect is allow or deny');
    }
    const request: RequestSpecT = {
      method: values.method,
      path: values.path,
      host: values.host as string | undefined,
      principal: values.principal === undefined ? undefined : jsonOption('--principal', values.principal),
      ip: values.ip as string | undefined,
      time: values.time as string | undefined,
      certificate: values.cert === undefined ? undefined : jsonOption('--cert', values.cert),
    };
    const gateway = await load(configArg ?? 'rampart.yaml');
    const result = decide(gateway, request, '(command line)');
    if (values.json === true) {
      process.stdout.write(`${JSON.stringify(result.json, null, 2)}\n`);
    } else {
      process.stdout.write(`${result.text}\n`);
    }
    if (values.expect !== undefined && result.decision?.allow !== (values.expect === 'allow'))
      return EXIT.findings;
    return EXIT.ok;
  },
};

function usage(message: string): RampartError {
  return new RampartError('RAMPART_ERR_CLI_USAGE', `${message}\n\n${USAGE}`);
}

function jsonOption<T>(name: string, text: unknown): T {
  try {
    return JSON.parse(String(text)) as T;
  } catch (err) {
    throw usage(`${name} is not JSON: ${(err as Error).message}`);
  }
}

async function load(file: string): Promise<Gateway> {
  const gateway = compileGateway(file, { openLogs: false });
  await gateway.close();
  return gateway;
}

interface Result {
  /** Null when the request matched no operation. */
  readonly decision: AuthzDecision | null;
  readonly text: string;
  readonly json: Record<string, unknown>;
}

/** Match the request as the route stage does, then decide it as the operation's authz stage. */
function decide(gateway: Gateway, spec: RequestSpecT, where: string): Result {
  const method = spec.method.toUpperCase();
  const normalized = normalizePath(spec.path.split('?')[0]!);
  if (!normalized.ok) {
    const text = `no operation: ${spec.path} is refused by routing (${normalized.reason}: ${normalized.detail})`;
    return { decision: null, text, json: { matched: false, reason: normalized.reason } };
  }
  const found = gateway.routes.find(hostName(spec.host), method, normalized.segments);
  if (found.kind !== 'found') {
    const reason = found.kind === 'none' ? 'route_not_found' : 'method_not_allowed';
    const text = `no operation: ${method} ${normalized.path} is ${found.kind === 'none' ? 'not declared (404)' : `not allowed (405; allowed: ${found.allow})`}`;
    return { decision: null, text, json: { matched: false, reason } };
  }
  const operation = found.value;
  const input = authzInput(spec, found.params, where);
  const stage = operation.pipeline.stages.find((s) => s.name === 'authz') as AuthzStage | undefined;
  const head = `${operation.api.name} ${operation.method} ${operation.route} (${operation.operationId})`;
  if (stage === undefined) {
    const text = `ALLOW  ${head}\n  no authz configured for this operation (authn still applies)`;
    return {
      decision: { allow: true, reason: null, detail: 'no authz', policies: [] },
      text,
      json: { matched: true, operation: describe(operation), allow: true, reason: null },
    };
  }
  const decision = stage.authz.decide(input);
  const cedar = stage.authz.cedar?.request({ ...input, groups: stage.authz.groupsOf(input.principal) });
  const lines = [
    `${decision.allow ? 'ALLOW' : 'DENY '}  ${head}${stage.mode === 'shadow' ? ' [shadow: would not be enforced]' : ''}`,
    `  reason:   ${decision.reason ?? 'allowed by the rules'}`,
    `  detail:   ${decision.detail}`,
  ];
  if (decision.policies.length > 0) lines.push(`  policies: ${decision.policies.join(', ')}`);
  lines.push(`  stage:    ${stage.summary}`);
  if (cedar !== undefined) lines.push(`  cedar request: ${JSON.stringify(cedar)}`);
  return {
    decision,
    text: lines.join('\n'),
    json: {
      matched: true,
      operation: describe(operation),
      allow: decision.allow,
      reason: decision.reason,
      detail: decision.detail,
      policies: decision.policies,
      mode: stage.mode,
      ...(cedar === undefined ? {} : { cedarRequest: cedar }),
    },
  };
}

function describe(op: OperationInfo): Record<string, string> {
  return { api: op.api.name, method: op.method, route: op.route, operationId: op.operationId };
}

function authzInput(spec: RequestSpecT, params: Readonly<Record<string, string>>, where: string): AuthzInput {
  const ip = canonicalIp(spec.ip ?? '127.0.0.1');
  const now = spec.time === undefined ? Date.now() : Date.parse(spec.time);
  if (Number.isNaN(now)) throw invalid(where, `time "${spec.time}" is not an ISO date`);
  return {
    principal: spec.principal === undefined ? null : principalOf(spec.principal),
    clientIp: ip,
    params,
    certificate: spec.certificate === undefined ? null : certificateOf(spec.certificate),
    now,
  };
}

function principalOf(p: Static<typeof PrincipalSpec>): Principal {
  const kind = p.kind ?? 'jwt';
  const attributes: Record<string, unknown> = { ...(p.attributes ?? {}) };
  if (p.claims !== undefined) attributes.claims = p.claims;
  return Object.freeze({
    id: p.id,
    kind,
    scheme: p.scheme ?? 'test',
    scopes: p.scopes ?? [],
    attributes: Object.freeze(attributes),
  });
}

function certificateOf(c: Static<typeof CertificateSpec>): ClientCertificate {
  return Object.freeze({
    subject: c.subject ?? {},
    issuer: c.issuer ?? {},
    san: c.san ?? {},
    serialNumber: c.serialNumber ?? '01',
    fingerprint256: c.fingerprint256 ?? '00',
    validTo: '',
  });
}

function invalid(where: string, message: string): RampartError {
  return new RampartError('RAMPART_ERR_CONFIG_SCHEMA', `${where}: ${message}`);
}

/** Every `*.authz.yaml` under the paths given (a folder: its files, sorted). */
function testFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const path of paths) {
    const full = resolve(path);
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(full);
    } catch {
      throw new RampartError('RAMPART_ERR_CONFIG_FILE', `cannot read ${full}`);
    }
    if (stat.isDirectory()) {
      const found = readdirSync(full)
        .filter((f) => f.endsWith('.authz.yaml') || f.endsWith('.authz.yml'))
        .sort()
        .map((f) => join(full, f));
      if (found.length === 0)
        throw new RampartError('RAMPART_ERR_CONFIG_FILE', `no *.authz.yaml file in ${full}`);
      out.push(...found);
    } else {
      out.push(full);
    }
  }
  return out;
}

async function runTestFiles(paths: readonly string[], configArg: string | undefined): Promise<number> {
  const gateways = new Map<string, Gateway>();
  let passed = 0;
  let failed = 0;
  for (const file of testFiles(paths)) {
    const source = readYamlFile(file);
    if (!validateTestFile(source.data)) {
      const problems = describeErrors(validateTestFile.errors ?? [], source);
      throw new RampartError('RAMPART_ERR_CONFIG_SCHEMA', `${file} is not a valid authz test file`, problems);
    }
    const tests = source.data;
    const configFile =
      tests.config !== undefined
        ? resolve(dirname(file), tests.config)
        : resolve(configArg ?? 'rampart.yaml');
    let gateway = gateways.get(configFile);
    if (gateway === undefined) {
      gateway = await load(configFile);
      gateways.set(configFile, gateway);
    }
    process.stdout.write(`${file}\n`);
    tests.tests.forEach((test, i) => {
      const loc = source.locate(['tests', i]);
      const where = `${file}:${loc.line ?? 1}`;
      for (const reason of test.reason === undefined ? [] : [test.reason]) {
        if (!Object.hasOwn(REASONS, reason)) throw invalid(where, `reason "${reason}" is not a reason code`);
      }
      const result = decide(gateway, test.request, where);
      const problems = check(test, result);
      if (problems.length === 0) {
        passed++;
        process.stdout.write(`  ok   ${test.name}\n`);
      } else {
        failed++;
        process.stdout.write(`  FAIL ${test.name} (${where}): ${problems.join('; ')}\n`);
      }
    });
  }
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  return failed === 0 ? EXIT.ok : EXIT.findings;
}

function check(test: TestFile['tests'][number], result: Result): string[] {
  const d = result.decision;
  if (d === null) return [`expected ${test.expect}, but ${result.text}`];
  const got = d.allow ? 'allow' : 'deny';
  const by = `${d.reason ?? 'rules'}${d.policies.length > 0 ? ` by ${d.policies.join(', ')}` : ''}`;
  const problems: string[] = [];
  if (got !== test.expect) problems.push(`expected ${test.expect}, got ${got} (${by})`);
  if (test.reason !== undefined && d.reason !== test.reason) {
    problems.push(`expected reason ${test.reason}, got ${d.reason ?? 'none'} (${d.detail})`);
  }
  if (test.policies !== undefined) {
    const want = [...new Set(test.policies)].sort();
    const have = [...new Set(d.policies)].sort();
    if (want.join('\n') !== have.join('\n')) {
      problems.push(`expected policies [${want.join(', ')}], got [${have.join(', ')}]`);
    }
  }
  return problems;
}
