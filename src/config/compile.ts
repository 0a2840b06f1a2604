import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { type ConfigProblem, configError, RampartError } from '../core/errors.ts';
import type { OperationInfo } from '../core/operation.ts';
import { Pipeline } from '../core/pipeline.ts';
import type { Stage } from '../core/stage.ts';
import { createAccessLog } from '../observe/access-log.ts';
import { auditSettings } from '../observe/audit/settings.ts';
import { createEventBus } from '../observe/events/create.ts';
import { reportGatewayEvent } from '../observe/logger.ts';
import { loadOpenApi, type OpenApiDocument, type OpenApiOperation } from '../openapi/document.ts';
import type { ListenerRuntime } from '../server/listener.ts';
import { AuthnCompiler } from '../stages/authn/compile.ts';
import { AuthzCompiler } from '../stages/authz/compile.ts';
import { createClientStage } from '../stages/client/stage.ts';
import { CorsCompiler } from '../stages/cors/compile.ts';
import { createListenerStage } from '../stages/listener/stage.ts';
import { Redactor } from '../stages/log/redact.ts';
import { createLogStage } from '../stages/log/stage.ts';
import { TrafficCompiler } from '../stages/quota/compile.ts';
import { OperationResponses } from '../stages/response/filter/responses.ts';
import type { ResponseFilter } from '../stages/response/filter/runtime.ts';
import { createResponseStage } from '../stages/response/stage.ts';
import { createRouteStage, RouteTable } from '../stages/route/stage.ts';
import { HeaderRulesCompiler } from '../stages/transform/compile.ts';
import { withRequestHeaderRules } from '../stages/transform/rules-stage.ts';
import type { CircuitStateHook } from '../stages/upstream/circuit-breaker.ts';
import { buildMockResponse, createMockStage } from '../stages/upstream/mock.ts';
import { createUpstream, type Upstream } from '../stages/upstream/pool.ts';
import { createProxyStage } from '../stages/upstream/proxy.ts';
import { ValidateCompiler } from '../stages/validate/compile.ts';
import { MemoryStore } from '../store/memory.ts';
import type { StateStore } from '../store/store.ts';
import { compileCidrs } from './cidr.ts';
import { readReferenced } from './files.ts';
import type { Finding, Gateway } from './gateway.ts';
import type { ApiConfig, Config, UpstreamConfig } from './schema.ts';
import { resolveSecret } from './secrets.ts';
import { type StoreSpec, storeSpec } from './store-spec.ts';
import { parseDuration, parseSize } from './units.ts';
import { fieldPath, validateConfig } from './validate.ts';
import { readYamlFile, type YamlSource } from './yaml-source.ts';

export interface CompileOptions {
  /** Whether the gateway is draining (read per response to add `Connection: close`). */
  readonly draining?: () => boolean;
  /** Build the access logger (false for `check`/`explain`, which serve nothing). */
  readonly openLogs?: boolean;
  /**
   * The state store (replay guards, brute-force counts). It outlives reloads, so the server
   * passes its own; without one, the gateway gets a private memory store it closes itself.
   */
  readonly store?: StateStore;
  /**
   * Give the gateway the store its config's `store:` section describes (the server keeps one
   * across reloads while the section is unchanged). Without it, `store` or a private memory
   * store is used: `check` and `explain` never connect to Redis.
   */
  readonly storeFor?: (spec: StoreSpec) => StateStore;
}

/**
 * Load a config file and everything it references, validate all of it, and compile the
 * immutable Gateway. Nothing is half-applied: any problem throws a RampartError naming
 * file, line, column and field, and nothing of the new gateway is used.
 */
export function compileGateway(configFile: string, options: CompileOptions = {}): Gateway {
  const file = resolve(configFile);
  const source = readYamlFile(file);
  const config = validateConfig(source);
  const dir = dirname(file);
  const hash = createHash('sha256').update(readFileSync(file));
  const files = [file];
  const draining = options.draining ?? (() => false);

  const listener = compileListener(config, source, dir);
  const trusted = compileCidrs(config.server.trustedProxies, source, ['server', 'trustedProxies']);
  const upstreams = compileUpstreams(config, source, dir);

  const docs = new Map<string, OpenApiDocument>();
  const routes = new RouteTable();
  const operations: OperationInfo[] = [];
  const findings: Finding[] = [];
  const apiKeyNames = { headers: new Set<string>(), query: new Set<string>() };

  for (const [apiName, api] of Object.entries(config.apis)) {
    const docFile = resolve(dir, api.openapi);
    let doc = docs.get(docFile);
    if (!doc) {
      doc = withLocation(() => loadOpenApi(docFile), source, ['apis', apiName, 'openapi']);
      docs.set(docFile, doc);
      files.push(docFile);
      hash.update(readFileSync(docFile));
    }
    collectApiKeyNames(doc, apiKeyNames);
    checkOperationOverrides(apiName, api, doc, source);
  }

  const accessLog =
    options.openLogs !== false && config.log.access.enabled
      ? createAccessLog(config.log.access.destination)
      : null;
  // Built (and so checked) for check and explain too; it holds nothing until events arrive.
  const eventBus = createEventBus(config, source, dir);
  const events = options.openLogs !== false ? eventBus : null;
  const logStage = createLogStage({
    events,
    logger: accessLog,
    enabled: config.log.access.enabled,
    requestHeaders: config.log.access.requestHeaders,
    redactor: new Redactor(
      [...apiKeyNames.headers],
      [...config.log.access.redactQueryParams, ...apiKeyNames.query],
    ),
  });
  const headerRules = new HeaderRulesCompiler(config, source);
  const cors = new CorsCompiler(source, findings);
  const defaultResponse = createResponseStage({ maskServerErrors: true, draining, hsts: headerRules.hsts() });
  const audit = auditSettings(config, source, dir);
  const spec = storeSpec(config, source, dir);
  const ownStore = options.storeFor === undefined && options.store === undefined;
  const store = options.storeFor?.(spec) ?? options.store ?? new MemoryStore();
  const authn = new AuthnCompiler(config.authn, source, dir, store, findings);
  const authz = new AuthzCompiler(source, dir, findings);
  const validate = new ValidateCompiler(findings);
  const traffic = new TrafficCompiler(config, source, store);

  for (const [apiName, api] of Object.entries(config.apis)) {
    const doc = docs.get(resolve(dir, api.openapi))!;
    const info = { name: apiName, basePath: api.basePath };
    const responseOptions = {
      maskServerErrors: api.response.maskServerErrors,
      draining,
      hsts: headerRules.hsts(apiName, api),
    };
    const responseStage = createResponseStage({
      ...responseOptions,
      headerRules: headerRules.apiResponseSteps(apiName, api, doc),
    });
    for (const op of doc.operations) {
      const ownResponseRules = headerRules.operationResponseSteps(apiName, api, doc, op.operationId);
      const terminal = integrationStage(apiName, api, op, upstreams, source);
      const route = api.basePath + op.path;
      const authzStage = authz.stageFor(apiName, api, doc, op);
      const validateStage = validate.stageFor(api, doc, op);
      const operation: OperationInfo = Object.freeze({
        api: info,
        operationId: op.operationId,
        method: op.method,
        route,
        maxBodySize: operationBodyLimit(config, apiName, api, op.operationId, source),
        pipeline: new Pipeline([
          ...traffic.stagesFor(apiName, api, op.operationId),
          ...cors.stagesFor(apiName, api, doc, op),
          ...withRequestHeaderRules(
            authn.stagesFor(apiName, api, doc, op, route),
            headerRules.requestSteps(apiName, api, doc, op.operationId),
          ),
          ...(authzStage ? [authzStage] : []),
          ...(validateStage ? [validateStage] : []),
          terminal,
          ownResponseRules
            ? createResponseStage({ ...responseOptions, headerRules: ownResponseRules })
            : responseStage,
          logStage,
        ]),
      });
      operations.push(operation);
      try {
        routes.add({ hosts: api.hosts, template: operation.route, operation });
      } catch (err) {
        throw configError('RAMPART_ERR_CONFIG_REFERENCE', {
          location: op.location,
          field: `apis.${apiName}`,
          message: `route clash: ${(err as Error).message} (check basePath and hosts of the APIs)`,
        });
      }
    }
    for (const preflight of cors.preflightOperations(apiName, api, doc, info, [responseStage, logStage])) {
      routes.addPreflight({ hosts: api.hosts, template: preflight.route, operation: preflight });
    }
  }

  authn.checkLoginOperations(operations);
  for (const policy of authz.files) {
    if (files.includes(policy.path)) continue;
    files.push(policy.path);
    hash.update(policy.content);
  }

  const entry = new Pipeline([
    createListenerStage(listener.limits),
    createClientStage(trusted),
    createRouteStage(routes, operations.length),
    defaultResponse,
    logStage,
  ]);
  const pools = [...upstreams.values()].map((u) => u.pool);
  const verifiers = authn.verifiers;
  const keyStore = authn.keyStore;
  let started = false;
  return Object.freeze({
    version: hash.digest('hex').slice(0, 12),
    configFile: file,
    files: Object.freeze(files),
    config: deepFreeze(config),
    listener,
    entry,
    operations: Object.freeze(operations),
    routes,
    findings: Object.freeze(findings),
    accessLog,
    audit,
    store,
    start() {
      if (started) return;
      started = true;
      keyStore?.start();
      for (const v of verifiers) v.start?.();
    },
    events,
    async close() {
      await events?.close(2000);
      keyStore?.close();
      for (const v of verifiers) v.close?.();
      await Promise.all(pools.map((p) => p.close()));
      if (ownStore) await store.close();
    },
  });
}

/** The operation's terminal stage: the mock integration, or a proxy to its upstream. */
function integrationStage(
  apiName: string,
  api: ApiConfig,
  op: OpenApiOperation,
  upstreams: ReadonlyMap<string, Upstream>,
  source: YamlSource,
): Stage {
  const override = api.operations[op.operationId] ?? {};
  if (override.mock ?? (override.upstream === undefined && api.mock)) {
    if (override.maxInFlight !== undefined) {
      const at = ['apis', apiName, 'operations', op.operationId, 'maxInFlight'];
      throw configError('RAMPART_ERR_CONFIG_SCHEMA', {
        location: source.locate(at),
        field: fieldPath(at),
        message: `limits calls to an upstream, and operation ${op.operationId} is answered by the mock`,
      });
    }
    return createMockStage(buildMockResponse(op.operation));
  }
  const at = ['apis', apiName];
  const upstreamName = override.upstream ?? api.upstream;
  if (upstreamName === undefined) {
    throw configError('RAMPART_ERR_CONFIG_REFERENCE', {
      // At the API's name, not at its first field on the next line.
      location: source.locate(at, { key: true }),
      field: `apis.${apiName}`,
      message: `operation ${op.operationId} has no integration: set \`upstream\` or \`mock: true\` on the API or under operations.${op.operationId}`,
    });
  }
  const upstream = upstreams.get(upstreamName);
  if (!upstream) {
    const upstreamAt = override.upstream
      ? [...at, 'operations', op.operationId, 'upstream']
      : [...at, 'upstream'];
    throw configError('RAMPART_ERR_CONFIG_REFERENCE', {
      location: source.locate(upstreamAt),
      field: fieldPath(upstreamAt),
      message: `no upstream named "${upstreamName}" (known: ${[...upstreams.keys()].join(', ') || 'none'})`,
    });
  }
  return createProxyStage({
    upstream,
    stripPrefix: api.stripBasePath ? api.basePath : '',
    maxInFlight: override.maxInFlight,
    operation: `${apiName}.${op.operationId}`,
    responseFilter: responseFilterFor(api, op),
  });
}

/** The operation's `response.filter` (over the API's), or null when off or nothing is declared. */
function responseFilterFor(api: ApiConfig, op: OpenApiOperation): ResponseFilter | null {
  const own = api.operations[op.operationId]?.response?.filter ?? {};
  const settings = { ...api.response.filter, ...own };
  if (settings.mode !== 'filter') return null;
  const responses = new OperationResponses(op.operation);
  if (responses.empty) return null;
  return { responses, maxBodySize: parseSize(settings.maxBodySize), oversize: settings.oversize };
}

function compileListener(config: Config, source: YamlSource, dir: string): ListenerRuntime {
  const l = config.server.limits;
  const headersTimeout = parseDuration(l.headersTimeout);
  const requestTimeout = parseDuration(l.requestTimeout);
  if (headersTimeout > requestTimeout) {
    throw configError('RAMPART_ERR_CONFIG_SCHEMA', {
      location: source.locate(['server', 'limits', 'headersTimeout']),
      field: 'server.limits.headersTimeout',
      message: `must not be longer than server.limits.requestTimeout (${l.requestTimeout})`,
    });
  }
  const listeners = config.server.listen.map((entry, i) => {
    if (!entry.tls) return { host: entry.host, port: entry.port };
    const at = ['server', 'listen', i, 'tls'];
    const cert = readReferenced(resolve(dir, entry.tls.cert), source, [...at, 'cert']);
    const key = resolveSecret(
      entry.tls.key,
      dir,
      `server.listen[${i}].tls.key`,
      source.locate([...at, 'key']),
    );
    const clientAuth = entry.tls.clientAuth
      ? {
          ca: readReferenced(resolve(dir, entry.tls.clientAuth.ca), source, [...at, 'clientAuth', 'ca']),
          mode: entry.tls.clientAuth.mode,
        }
      : undefined;
    checkTls(
      { cert, key: key.reveal(), minVersion: entry.tls.minVersion },
      source,
      at,
      'the listener certificate and key',
    );
    if (clientAuth) checkTls({ ca: clientAuth.ca }, source, [...at, 'clientAuth', 'ca'], 'the client CA');
    return {
      host: entry.host,
      port: entry.port,
      tls: { cert, key, minVersion: entry.tls.minVersion, clientAuth },
    };
  });
  return {
    listeners,
    limits: {
      maxUrlSize: parseSize(l.maxUrlSize),
      maxHeaderSize: parseSize(l.maxHeaderSize),
      maxHeaderCount: l.maxHeaderCount,
      maxBodySize: parseSize(l.maxBodySize),
    },
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: parseDuration(l.keepAliveTimeout),
    drainTimeout: parseDuration(config.server.drainTimeout),
  };
}

function compileUpstreams(config: Config, source: YamlSource, dir: string): Map<string, Upstream> {
  const out = new Map<string, Upstream>();
  for (const [name, upstream] of Object.entries(config.upstreams)) {
    const at = ['upstreams', name, 'tls'];
    const tls = upstream.tls;
    if ((tls.cert === undefined) !== (tls.key === undefined)) {
      throw configError('RAMPART_ERR_CONFIG_REFERENCE', {
        location: source.locate(at),
        field: fieldPath(at),
        message: 'a client certificate needs its key: set both `cert` and `key`, or neither',
      });
    }
    const material = {
      ca: tls.ca ? readReferenced(resolve(dir, tls.ca), source, [...at, 'ca']) : undefined,
      cert: tls.cert ? readReferenced(resolve(dir, tls.cert), source, [...at, 'cert']) : undefined,
      key: tls.key
        ? resolveSecret(tls.key, dir, `upstreams.${name}.tls.key`, source.locate([...at, 'key']))
        : undefined,
    };
    if (material.ca || material.cert) {
      checkTls(
        { ca: material.ca, cert: material.cert, key: material.key?.reveal() },
        source,
        at,
        'the upstream CA, certificate or key',
      );
    }
    checkResilience(name, upstream, source);
    out.set(name, createUpstream(name, upstream, material, { onCircuitStateChange: logCircuitStateChange }));
  }
  return out;
}

/** Circuit-breaker state changes go to the gateway log until the security-event bus exists. */
const logCircuitStateChange: CircuitStateHook = (upstream, from, to, reason) =>
  reportGatewayEvent('circuit_state_changed', { upstream, from, to, reason });

/** Resilience settings the schema cannot relate: a breaker that can never open, a backwards backoff. */
function checkResilience(name: string, upstream: UpstreamConfig, source: YamlSource): void {
  const cb = upstream.circuitBreaker;
  if (cb && cb.consecutiveFailures === 0 && cb.errorRate === undefined) {
    const at = ['upstreams', name, 'circuitBreaker'];
    throw configError('RAMPART_ERR_CONFIG_SCHEMA', {
      location: source.locate(at),
      field: fieldPath(at),
      message: 'can never open: set consecutiveFailures above 0, or errorRate',
    });
  }
  const backoff = upstream.retry?.backoff;
  if (backoff && parseDuration(backoff.base) > parseDuration(backoff.max)) {
    const at = ['upstreams', name, 'retry', 'backoff', 'base'];
    throw configError('RAMPART_ERR_CONFIG_SCHEMA', {
      location: source.locate(at),
      field: fieldPath(at),
      message: `must not be longer than retry.backoff.max (${backoff.max})`,
    });
  }
}

/**
 * The operation's body limit when it is below the listener's (else undefined: the listener's
 * applies). API and operation limits may only lower it: the listener refused larger bodies
 * before routing, so a higher value could never take effect and must not pass silently.
 */
function operationBodyLimit(
  config: Config,
  apiName: string,
  api: ApiConfig,
  operationId: string,
  source: YamlSource,
): number | undefined {
  const server = parseSize(config.server.limits.maxBodySize);
  const apiAt = ['apis', apiName, 'maxBodySize'];
  const apiLimit = api.maxBodySize === undefined ? server : parseSize(api.maxBodySize);
  if (apiLimit > server) {
    throw configError('RAMPART_ERR_CONFIG_SCHEMA', {
      location: source.locate(apiAt),
      field: fieldPath(apiAt),
      message: `must not be larger than server.limits.maxBodySize (${config.server.limits.maxBodySize}): it can only lower it`,
    });
  }
  const size = api.operations[operationId]?.maxBodySize;
  const limit = size === undefined ? apiLimit : parseSize(size);
  if (limit > apiLimit) {
    const at = ['apis', apiName, 'operations', operationId, 'maxBodySize'];
    const bound = api.maxBodySize === undefined ? 'server.limits.maxBodySize' : `apis.${apiName}.maxBodySize`;
    throw configError('RAMPART_ERR_CONFIG_SCHEMA', {
      location: source.locate(at),
      field: fieldPath(at),
      message: `must not be larger than ${bound} (${api.maxBodySize ?? config.server.limits.maxBodySize}): it can only lower it`,
    });
  }
  return limit < server ? limit : undefined;
}

/**
 * Parse TLS material now, so `check` catches what `start` would otherwise fail on late (a key
 * that is not PEM, a certificate that does not match its key). OpenSSL's message names the
 * problem, never the key's content.
 */
function checkTls(
  options: SecureContextOptions,
  source: YamlSource,
  at: (string | number)[],
  what: string,
): void {
  try {
    // OpenSSL skips CA text that is not a certificate without a word; an empty trust store
    // would then fail every handshake at request time. Every block must parse, and one must exist.
    if (options.ca !== undefined) {
      const blocks = String(options.ca).match(
        /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g,
      );
      if (!blocks) throw new Error('the CA file holds no PEM certificate');
      for (const block of blocks) new X509Certificate(block);
    }
    createSecureContext(options);
  } catch (err) {
    throw configError('RAMPART_ERR_CONFIG_FILE', {
      location: source.locate(at),
      field: fieldPath(at),
      message: `${what} cannot be used: ${(err as Error).message}`,
    });
  }
}

/** Errors inside a referenced document keep their own location; others point at the reference. */
function withLocation<T>(load: () => T, source: YamlSource, at: (string | number)[]): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof RampartError && err.code === 'RAMPART_ERR_CONFIG_FILE') {
      const problems: ConfigProblem[] = err.problems.map((p) => ({
        ...p,
        location: source.locate(at),
        field: fieldPath(at),
        message: `${p.location.file}: ${p.message}`,
      }));
      throw new RampartError(err.code, err.message, problems);
    }
    throw err;
  }
}

function checkOperationOverrides(
  apiName: string,
  api: ApiConfig,
  doc: OpenApiDocument,
  source: YamlSource,
): void {
  const ids = new Set(doc.operations.map((o) => o.operationId));
  for (const id of Object.keys(api.operations)) {
    if (!ids.has(id)) {
      throw configError('RAMPART_ERR_CONFIG_REFERENCE', {
        // The operationId is the key: point at it, not at the override's body on the next line.
        location: source.locate(['apis', apiName, 'operations', id], { key: true }),
        field: `apis.${apiName}.operations.${id}`,
        message: `${doc.file} has no operation with operationId "${id}"`,
      });
    }
  }
}

/** API-key parameter names declared by the document's securitySchemes: always redacted in logs. */
function collectApiKeyNames(doc: OpenApiDocument, into: { headers: Set<string>; query: Set<string> }): void {
  const schemes = doc.securitySchemes;
  for (const scheme of Object.values(schemes)) {
    if (scheme?.type !== 'apiKey' || typeof scheme.name !== 'string') continue;
    if (scheme.in === 'header') into.headers.add(scheme.name.toLowerCase());
    if (scheme.in === 'query') into.query.add(scheme.name.toLowerCase());
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
