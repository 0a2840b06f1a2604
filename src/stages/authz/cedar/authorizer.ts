import type { ClientCertificate, Principal } from '../../../core/context.ts';
import type { PolicySet, Usage } from './policies.ts';
import {
  ANONYMOUS_TYPE,
  API_TYPE,
  type ClaimDeclaration,
  GROUP_TYPE,
  PRINCIPAL_TYPE,
  type ResourceShape,
} from './schema-gen.ts';
import { type Context, cedar, type EntityJson, type EntityUid } from './wasm.ts';

/** What a Cedar decision is made from: the request as the earlier stages resolved it. */
export interface CedarInput {
  readonly principal: Principal | null;
  readonly groups: readonly string[];
  readonly clientIp: string;
  readonly params: Readonly<Record<string, string>>;
  readonly certificate: ClientCertificate | null;
  /** Epoch milliseconds. */
  readonly now: number;
}

export type CedarVerdict =
  | { readonly decision: 'allow' | 'deny'; readonly policies: readonly string[] }
  | { readonly decision: 'error'; readonly policies: readonly string[]; readonly detail: string };

export interface CedarRequest {
  readonly principal: EntityUid;
  readonly action: EntityUid;
  readonly resource: EntityUid;
  readonly context: Context;
  readonly entities: EntityJson[];
}

export interface CedarApiOptions {
  readonly apiName: string;
  /** Decisions of this API by request (shared by its operations: the request names the action); null: off. */
  readonly cache: DecisionCache | null;
  readonly policies: PolicySet;
  readonly claims: Readonly<Record<string, ClaimDeclaration>>;
  /** Path parameter name → entity type. */
  readonly entities: Readonly<Record<string, string>>;
}

const CONTEXT_RECORDS = ['claims', 'mtls', 'time'] as const;

/**
 * Evaluates one operation's requests against its API's policy set. The policy set was parsed
 * once at load (`preparsePolicySet`); per request only the request itself crosses into the
 * engine, pruned to what the policies can read (`Usage`).
 */
export class CedarAuthorizer {
  readonly #setId: string | null;
  /** The policies that can apply to this operation. */
  readonly policies: readonly string[];
  readonly #action: EntityUid;
  readonly #resource: ResourceShape;
  readonly #apiName: string;
  readonly #claims: readonly (readonly [string, ClaimDeclaration])[];
  readonly #entities: Readonly<Record<string, string>>;
  readonly #usage: Usage;
  /** Whether a context attribute (or an attribute of the record `record`) is sent to the engine. */
  readonly #send: (name: string, record?: (typeof CONTEXT_RECORDS)[number]) => boolean;
  readonly #principalEntity: boolean;
  readonly #principalAttrs: readonly ('id' | 'kind' | 'scheme')[];
  readonly #resourceAttrs: readonly string[];
  /** The action with its tag groups as parents: the engine knows no action hierarchy otherwise. */
  readonly #actionEntity: EntityJson | null;
  readonly #cache: DecisionCache | null;

  constructor(
    options: CedarApiOptions,
    operationId: string,
    resource: ResourceShape,
    tags: readonly string[],
  ) {
    const slice = options.policies.slice(
      operationId,
      tags.map((t) => `tag:${t}`),
    );
    const usage = slice.usage;
    this.#setId = slice.setId;
    this.policies = slice.ids;
    this.#action = { type: 'Action', id: operationId };
    this.#resource = resource;
    this.#apiName = options.apiName;
    this.#entities = options.entities;
    this.#usage = usage;
    this.#send = (name, record) => {
      if (usage.wholeContext) return true;
      if (record === undefined) return usage.names.has(name);
      return usage.wholeRecords.has(record) || usage.names.has(name);
    };
    this.#claims = Object.entries(options.claims).filter(([name]) => this.#send(name, 'claims'));
    this.#principalAttrs = (['id', 'kind', 'scheme'] as const).filter((a) => usage.names.has(a));
    this.#principalEntity = usage.hierarchy || this.#principalAttrs.length > 0;
    this.#resourceAttrs = [...new Set(resource.params)].filter((p) => usage.names.has(p));
    // A decision that depends on the time is not a function of the request alone.
    this.#cache = usage.wholeContext || usage.names.has('time') ? null : options.cache;
    this.#actionEntity =
      tags.length > 0 && usage.actionGroups
        ? { uid: this.#action, attrs: {}, parents: tags.map((t) => ({ type: 'Action', id: `tag:${t}` })) }
        : null;
  }

  /** The Cedar request for `input`, as the engine receives it (`rampart authz test` prints it). */
  request(input: CedarInput): CedarRequest | { error: string } {
    const p = input.principal;
    const principal: EntityUid =
      p === null ? { type: ANONYMOUS_TYPE, id: '' } : { type: PRINCIPAL_TYPE, id: p.id };
    const entities: EntityJson[] = this.#actionEntity === null ? [] : [this.#actionEntity];
    if (p !== null && this.#principalEntity) {
      const attrs: Record<string, string> = {};
      for (const a of this.#principalAttrs) attrs[a] = p[a];
      entities.push({
        uid: principal,
        attrs,
        parents: this.#usage.hierarchy ? input.groups.map((g) => ({ type: GROUP_TYPE, id: g })) : [],
      });
    }
    const shape = this.#resource;
    const resource: EntityUid =
      shape.idParam === null
        ? { type: API_TYPE, id: this.#apiName }
        : { type: shape.type, id: input.params[shape.idParam] ?? '' };
    if (this.#resourceAttrs.length > 0) {
      const attrs: Record<string, unknown> = {};
      for (const name of this.#resourceAttrs) {
        const value = input.params[name];
        if (value === undefined) continue;
        const ref = Object.hasOwn(this.#entities, name) ? this.#entities[name] : undefined;
        attrs[name] = ref === undefined ? value : { __entity: { type: ref, id: value } };
      }
      entities.push({ uid: resource, attrs: attrs as EntityJson['attrs'], parents: [] });
    }

    const context: Context = {};
    const send = this.#send;
    if (send('clientIp')) context.clientIp = { __extn: { fn: 'ip', arg: input.clientIp } };
    if (send('authenticated')) context.authenticated = p !== null;
    if (send('scopes')) context.scopes = p === null ? [] : [...p.scopes];
    if (send('claims')) {
      const claims: Context = {};
      const source = claimSource(p);
      for (const [name, decl] of this.#claims) {
        if (source === null || !Object.hasOwn(source, name)) continue;
        const value = claimValue(source[name], decl);
        if (value === undefined) return { error: `claim ${name} is not a ${decl.type}` };
        claims[name] = value;
      }
      context.claims = claims;
    }
    const cert = input.certificate;
    if (cert !== null && send('mtls')) {
      const mtls: Context = {};
      if (cert.subject.CN !== undefined && send('subjectCN', 'mtls')) mtls.subjectCN = cert.subject.CN;
      if (cert.issuer.CN !== undefined && send('issuerCN', 'mtls')) mtls.issuerCN = cert.issuer.CN;
      if (send('fingerprint', 'mtls')) mtls.fingerprint = cert.fingerprint256;
      if (send('serial', 'mtls')) mtls.serial = cert.serialNumber;
      if (send('sanDns', 'mtls')) mtls.sanDns = [...(cert.san.DNS ?? [])];
      if (send('sanUri', 'mtls')) mtls.sanUri = [...(cert.san.URI ?? [])];
      if (send('sanEmail', 'mtls')) mtls.sanEmail = [...(cert.san.email ?? [])];
      context.mtls = mtls;
    }
    if (send('time')) {
      const time: Context = {};
      if (send('now', 'time'))
        time.now = { __extn: { fn: 'datetime', arg: new Date(input.now).toISOString() } };
      if (send('epochSeconds', 'time')) time.epochSeconds = Math.floor(input.now / 1000);
      context.time = time;
    }
    return { principal, action: this.#action, resource, context, entities };
  }

  /**
   * The decision. An evaluation error in any policy is a deny (`error`), whatever the engine
   * decided: Cedar skips a policy whose condition errors, so an erroring `forbid` would
   * otherwise let a `permit` through.
   */
  authorize(input: CedarInput): CedarVerdict {
    // No policy can apply to this action: Cedar's default deny, without the trip.
    if (this.#setId === null) return { decision: 'deny', policies: [] };
    const request = this.request(input);
    if ('error' in request) return { decision: 'error', policies: [], detail: request.error };
    if (this.#cache === null) return this.#evaluate(request, this.#setId);
    // The key is the whole request the engine would get: a hit is the decision it would make.
    const key = JSON.stringify(request);
    let verdict = this.#cache.get(key);
    if (verdict === undefined) {
      verdict = this.#evaluate(request, this.#setId);
      this.#cache.set(key, verdict);
    }
    return verdict;
  }

  #evaluate(request: CedarRequest, setId: string): CedarVerdict {
    const answer = cedar().statefulIsAuthorized({ ...request, preparsedPolicySetId: setId });
    if (answer.type === 'failure') {
      return {
        decision: 'error',
        policies: [],
        detail: answer.errors.map((e) => e.message).join('; '),
      };
    }
    const { decision, diagnostics } = answer.response;
    if (diagnostics.errors.length > 0) {
      return {
        decision: 'error',
        policies: diagnostics.errors.map((e) => e.policyId),
        detail: diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`).join('; '),
      };
    }
    return { decision, policies: diagnostics.reason };
  }
}

/** Where `context.claims` comes from: a JWT's claims, or an external principal's attributes. */
function claimSource(p: Principal | null): Readonly<Record<string, unknown>> | null {
  if (p === null) return null;
  if (p.kind === 'jwt') return (p.attributes.claims as Record<string, unknown> | undefined) ?? null;
  if (p.kind === 'external') return p.attributes;
  return null;
}

/**
 * A claim as the declared Cedar type, or undefined when it is not of that type. Only plain
 * strings, safe integers and booleans cross: a claim shaped like `{"__entity": ...}` or
 * `{"__extn": ...}` could otherwise smuggle an entity or an extension value into a policy.
 */
function claimValue(
  value: unknown,
  decl: ClaimDeclaration,
): string | number | boolean | string[] | number[] | undefined {
  switch (decl.type) {
    case 'String':
      return typeof value === 'string' ? value : undefined;
    case 'Long':
      return Number.isSafeInteger(value) ? (value as number) : undefined;
    case 'Boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'Set<String>':
      return Array.isArray(value) && value.every((v) => typeof v === 'string') ? [...value] : undefined;
    case 'Set<Long>':
      return Array.isArray(value) && value.every((v) => Number.isSafeInteger(v)) ? [...value] : undefined;
  }
}

/**
 * A bounded map of decisions, least recently used out first. Cedar decisions are pure functions
 * of the policy set and the request; the cache lives as long as the compiled gateway (a reload
 * builds a new one), so it can never serve a decision of older policies.
 */
export class DecisionCache {
  /** Most bytes of keys held (UTF-16, two per character), whatever the entry count. */
  static readonly MAX_BYTES = 16 * 1024 * 1024;
  /** A key longer than this (a request with very long path parameters) is not cached. */
  static readonly MAX_KEY_LENGTH = 2048;
  readonly #max: number;
  readonly #maxBytes: number;
  readonly #entries = new Map<string, CedarVerdict>();
  #bytes = 0;
  hits = 0;
  misses = 0;

  constructor(max: number, maxBytes = DecisionCache.MAX_BYTES) {
    this.#max = max;
    this.#maxBytes = maxBytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Bytes of keys held. */
  get bytes(): number {
    return this.#bytes;
  }

  get(key: string): CedarVerdict | undefined {
    const verdict = this.#entries.get(key);
    if (verdict === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // Most recently used last: Map keeps insertion order.
    this.#entries.delete(key);
    this.#entries.set(key, verdict);
    return verdict;
  }

  /**
   * Remember `verdict`. Bounded by count and by bytes, so that one caller sending many distinct
   * long paths cannot grow the gateway's memory: long keys are not kept at all.
   */
  set(key: string, verdict: CedarVerdict): void {
    if (key.length > DecisionCache.MAX_KEY_LENGTH || this.#entries.has(key)) return;
    this.#entries.set(key, verdict);
    this.#bytes += key.length * 2;
    while (this.#entries.size > this.#max || this.#bytes > this.#maxBytes) {
      const oldest = this.#entries.keys().next().value!;
      this.#entries.delete(oldest);
      this.#bytes -= oldest.length * 2;
    }
  }
}
