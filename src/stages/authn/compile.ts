import { resolve } from 'node:path';
import { readReferenced } from '../../config/files.ts';
import type { Finding } from '../../config/gateway.ts';
import type { ApiConfig, AuthnConfigT, SchemeConfigT } from '../../config/schema.ts';
import { parseDuration } from '../../config/units.ts';
import { fieldPath } from '../../config/validate.ts';
import type { YamlSource } from '../../config/yaml-source.ts';
import { configError, type SourceLocation } from '../../core/errors.ts';
import type { Stage } from '../../core/stage.ts';
import type { OpenApiDocument, OpenApiOperation, SecuritySchemeObject } from '../../openapi/document.ts';
import type { StateStore } from '../../store/store.ts';
import { createIdentityHeadersStage } from '../transform/stage.ts';
import { createApiKeyVerifier, type KeyStoreHandle, openKeyStore } from './apikey/scheme.ts';
import { BruteForceGuard } from './brute-force.ts';
import { createExternalVerifier } from './external.ts';
import { createJwtScheme } from './jwt/scheme.ts';
import { createMutualTlsVerifier } from './mtls.ts';
import { createSigV4Verifier } from './sigv4/scheme.ts';
import {
  createAuthnStage,
  createUndeclaredStage,
  requiresCredentials,
  type SchemeRequirement,
  schemeNames,
} from './stage.ts';
import type { Verifier } from './verifier.ts';

/** Which verifiers may stand for each OpenAPI scheme type. */
function allowedVerifiers(def: SecuritySchemeObject): readonly (keyof SchemeConfigT)[] {
  switch (def.type) {
    case 'http':
      return def.scheme?.toLowerCase() === 'bearer' ? ['jwt', 'external'] : ['external'];
    case 'oauth2':
    case 'openIdConnect':
      return ['jwt', 'external'];
    case 'apiKey':
      if (def['x-amazon-apigateway-authtype']?.toLowerCase() === 'awssigv4') return ['sigv4', 'external'];
      return ['apiKey', 'sigv4', 'external'];
    case 'mutualTLS':
      return ['mutualTls'];
    default:
      return [];
  }
}

/**
 * Builds each operation's `authn` and `transform` stages from its OpenAPI security
 * requirements and the `authn` config. Verifiers are built once per (document, scheme) and
 * shared by the operations that name them; the key store and brute-force guard once per load.
 */
export class AuthnCompiler {
  readonly #config: AuthnConfigT;
  readonly #source: YamlSource;
  readonly #dir: string;
  readonly #store: StateStore;
  readonly #findings: Finding[];
  readonly #verifiers = new Map<string, Verifier>();
  readonly #guard: BruteForceGuard | null;
  readonly #transform: Stage;
  #keyStore: KeyStoreHandle | null = null;

  constructor(config: AuthnConfigT, source: YamlSource, dir: string, store: StateStore, findings: Finding[]) {
    this.#config = config;
    this.#source = source;
    this.#dir = dir;
    this.#store = store;
    this.#findings = findings;
    const bf = config.bruteForce;
    this.#guard = bf.enabled
      ? new BruteForceGuard(store, {
          windowMs: parseDuration(bf.window),
          delayAfter: bf.delayAfter,
          delayMs: parseDuration(bf.delay),
          maxDelayMs: parseDuration(bf.maxDelay),
          lockoutAfter: bf.lockoutAfter,
          lockoutMs: parseDuration(bf.lockout),
        })
      : null;
    this.#transform = createIdentityHeadersStage(config.identityHeaders);
  }

  /** Every verifier built (started by `start`, closed with the gateway). */
  get verifiers(): Verifier[] {
    return [...this.#verifiers.values()];
  }

  get keyStore(): KeyStoreHandle | null {
    return this.#keyStore;
  }

  /** The operation's `authn` (and identity `transform`) stages. */
  stagesFor(
    apiName: string,
    api: ApiConfig,
    doc: OpenApiDocument,
    op: OpenApiOperation,
    route: string,
  ): Stage[] {
    const what = `${apiName} ${op.method} ${route} (${op.operationId})`;
    const security = op.security as readonly Record<string, unknown>[] | undefined;
    if (security === undefined || security.length === 0) {
      this.#findings.push({
        id: 'operation-without-security',
        severity: 'high',
        message: api.authn.allowAnonymous
          ? `${what} declares no security requirement and is served to anonymous callers (apis.${apiName}.authn.allowAnonymous); declare one, or \`security: [{}]\` to allow anonymous access explicitly`
          : `${what} declares no security requirement: refused (401) until it declares one (or \`security: [{}]\` for anonymous access)`,
        location: op.location,
      });
      // The identity headers are stripped in both cases: in shadow mode the undeclared stage lets
      // the request through, and a client's `x-principal-id` must not ride along with it.
      return api.authn.allowAnonymous
        ? [this.#transform]
        : [createUndeclaredStage(api.authn.mode), this.#transform];
    }
    const login = this.#guard
      ? this.#config.bruteForce.loginOperations.find(
          (l) => l.api === apiName && l.operationId === op.operationId,
        )
      : undefined;
    if (security.every((r) => Object.keys(r).length === 0) && login === undefined) return [this.#transform];
    const requirements: SchemeRequirement[][] = [];
    const unconfigured: string[] = [];
    for (const requirement of security) {
      const names = Object.keys(requirement);
      if (names.length === 0) continue;
      const set: SchemeRequirement[] = [];
      for (const name of names) {
        const verifier = this.#verifier(apiName, doc, name, op.location);
        if (verifier === null) unconfigured.push(name);
        else set.push({ verifier, scopes: (requirement[name] as string[] | undefined) ?? [] });
      }
      // A set naming an unconfigured scheme can never be met: it is left out (fail closed).
      if (set.length === names.length) requirements.push(set);
    }
    if (unconfigured.length > 0) {
      this.#findings.push({
        id: 'security-not-enforceable',
        severity: 'critical',
        message: `${what} requires ${[...new Set(unconfigured)].join(', ')}, which authn.schemes does not configure: requirements naming ${unconfigured.length > 1 ? 'them' : 'it'} can never be met (refused with 401)`,
        location: op.location,
      });
    }
    const stage = createAuthnStage({
      requirements,
      anonymous: !requiresCredentials(security),
      mode: api.authn.mode,
      guard: this.#guard,
      loginField: login ? login.usernameField : null,
      operation: { api: apiName, operationId: op.operationId, method: op.method, route },
    });
    if (requirements.length === 0 && requiresCredentials(security)) {
      return [
        {
          ...stage,
          summary: `requires ${schemeNames(security).join(' or ')}: no verifier configured, every request is refused (401)`,
        },
        this.#transform,
      ];
    }
    return [stage, this.#transform];
  }

  /** Every `bruteForce.loginOperations` entry must name an operation that exists. */
  checkLoginOperations(operations: readonly { api: { name: string }; operationId: string }[]): void {
    this.#config.bruteForce.loginOperations.forEach((login, i) => {
      if (operations.some((o) => o.api.name === login.api && o.operationId === login.operationId)) return;
      const at = ['authn', 'bruteForce', 'loginOperations', i];
      throw configError('RAMPART_ERR_CONFIG_REFERENCE', {
        location: this.#source.locate(at),
        field: fieldPath(at),
        message: `no operation ${login.operationId} in API ${login.api}`,
      });
    });
  }

  /** The verifier of `name` in `doc`, or null when the config has none for it. */
  #verifier(apiName: string, doc: OpenApiDocument, name: string, location: SourceLocation): Verifier | null {
    const key = `${doc.file}#${name}`;
    const cached = this.#verifiers.get(key);
    if (cached) return cached;
    const schemes = doc.securitySchemes;
    const def = Object.hasOwn(schemes, name) ? schemes[name] : undefined;
    if (def === undefined) {
      throw configError('RAMPART_ERR_OPENAPI_INVALID', {
        location,
        field: `apis.${apiName}`,
        message: `a security requirement names "${name}", which components.securitySchemes does not define`,
      });
    }
    const config = Object.hasOwn(this.#config.schemes, name) ? this.#config.schemes[name] : undefined;
    if (config === undefined) return null;
    const at = ['authn', 'schemes', name];
    const kind = Object.keys(config)[0] as keyof SchemeConfigT;
    const allowed = allowedVerifiers(def);
    if (!allowed.includes(kind)) {
      throw configError('RAMPART_ERR_CONFIG_REFERENCE', {
        location: this.#source.locate([...at, kind], { key: true }),
        field: fieldPath([...at, kind]),
        message: `${doc.file} defines "${name}" as ${describe(def)}, which ${kind} cannot verify (use ${allowed.join(' or ') || 'nothing Rampart supports'})`,
      });
    }
    const verifier = this.#build(name, kind, config, def, at);
    this.#verifiers.set(key, verifier);
    return verifier;
  }

  #build(
    name: string,
    kind: keyof SchemeConfigT,
    config: SchemeConfigT,
    def: SecuritySchemeObject,
    at: (string | number)[],
  ): Verifier {
    const source = this.#source;
    switch (kind) {
      case 'jwt':
        return createJwtScheme(name, config.jwt!, def.openIdConnectUrl, {
          source,
          at: [...at, 'jwt'],
          dir: this.#dir,
          findings: this.#findings,
        });
      case 'apiKey':
        return createApiKeyVerifier(name, def, this.#openKeyStore([...at, 'apiKey']));
      case 'sigv4':
        return createSigV4Verifier(name, config.sigv4!, {
          source,
          at: [...at, 'sigv4'],
          dir: this.#dir,
          store: this.#store,
          keyStore: this.#keyStore ?? (this.#config.keyStore ? this.#openKeyStore([...at, 'sigv4']) : null),
        });
      case 'mutualTls':
        return createMutualTlsVerifier(name, config.mutualTls!.principalFrom);
      case 'external': {
        const e = config.external!;
        return createExternalVerifier({
          scheme: name,
          url: e.url,
          identitySources: e.identitySources,
          timeoutMs: parseDuration(e.timeout),
          cacheTtlMs: parseDuration(e.cacheTtl),
          ca: e.ca ? readReferenced(resolve(this.#dir, e.ca), source, [...at, 'external', 'ca']) : undefined,
        });
      }
    }
  }

  #openKeyStore(at: (string | number)[]): KeyStoreHandle {
    if (this.#keyStore) return this.#keyStore;
    const settings = this.#config.keyStore;
    if (!settings) {
      throw configError('RAMPART_ERR_CONFIG_REFERENCE', {
        location: this.#source.locate(at, { key: true }),
        field: fieldPath(at),
        message: 'API keys need a key store: set authn.keyStore (file and pepper)',
      });
    }
    this.#keyStore = openKeyStore(settings, this.#dir, this.#source);
    return this.#keyStore;
  }
}

function describe(def: SecuritySchemeObject): string {
  if (def.type === 'http') return `http ${def.scheme ?? ''}`.trim();
  if (def.type === 'apiKey') return `apiKey in ${def.in} ${def.name}`;
  return String(def.type);
}
