import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { type ConfigProblem, configError, RampartError } from '../core/errors.ts';
import type { OperationInfo } from '../core/operation.ts';
import { Pipeline } from '../core/pipeline.ts';
import type { Stage } from '../core/stage.ts';
import { createAccessLog } from '../observe/access-log.ts';
import { loadOpenApi, type OpenApiDocument, type OpenApiOperation } from '../openapi/document.ts';
import type { ListenerRuntime } from '../server/listener.ts';
import { AuthnCompiler } from '../stages/authn/compile.ts';
import { AuthzCompiler } from '../stages/authz/compile.ts';
import { createClientStage } from '../stages/client/stage.ts';
import { createListenerStage } from '../stages/listener/stage.ts';
import { Redactor } from '../stages/log/redact.ts';
import { createLogStage } from '../stages/log/stage.ts';
import { createResponseStage } from '../stages/response/stage.ts';
import { createRouteStage, RouteTable } from '../stages/route/stage.ts';
import { buildMockResponse, createMockStage } from '../stages/upstream/mock.ts';
import { createUpstream, type Upstream } from '../stages/upstream/pool.ts';
import { createProxyStage } from '../stages/upstream/proxy.ts';
import { MemoryStore } from '../store/memory.ts';
import type { StateStore } from '../store/store.ts';
import { compileCidrs } from './cidr.ts';
import { readReferenced } from './files.ts';
import type { Finding, Gateway } from './gateway.ts';
import type { ApiConfig, Config } from './schema.ts';
import { resolveSecret } from './secrets.ts';
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
  const logStage = createLogStage({
    logger: accessLog,
    enabled: config.log.access.enabled,
    requestHeaders: config.log.access.requestHeaders,
    redactor: new Redactor(
      [...apiKeyNames.headers],
      [...config.log.access.redactQueryParams, ...apiKeyNames.query],
    ),
  });
  const defaultResponse = createResponseStage({ maskServerErrors: true, draining });
  const store = options.store ?? new MemoryStore();
  const authn = new AuthnCompiler(config.authn, source, dir, store, findings);
  const authz = new AuthzCompiler(source, dir, findings);

  for (const [apiName, api] of Object.entries(config.apis)) {
    const doc = docs.get(resolve(dir, api.openapi))!;
    const info = { name: apiName, basePath: api.basePath };
    const responseStage = createResponseStage({ maskServerErrors: api.response.maskServerErrors, draining });
    for (const op of doc.operations) {
      const terminal = integrationStage(apiName, api, op, upstreams, source);
      const route = api.basePath + op.path;
      const authzStage = authz.stageFor(apiName, api, doc, op);
      const operation: OperationInfo = Object.freeze({
        api: info,
        operationId: op.operationId,
        method: op.method,
        route,
        pipeline: new Pipeline([
          ...authn.stagesFor(apiName, api, doc, op, route),
          ...(authzStage ? [authzStage] : []),
          terminal,
          responseStage,
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
    start() {
      if (started) return;
      started = true;
      keyStore?.start();
      for (const v of verifiers) v.start?.();
    },
    async close() {
      keyStore?.close();
      for (const v of verifiers) v.close?.();
      await Promise.all(pools.map((p) => p.close()));
      if (options.store === undefined) await store.close();
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
  return createProxyStage({ upstream, stripPrefix: api.stripBasePath ? api.basePath : '' });
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
    out.set(name, createUpstream(name, upstream, material));
  }
  return out;
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
