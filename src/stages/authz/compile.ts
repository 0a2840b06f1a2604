import { basename, resolve } from 'node:path';
import { compileCidrs } from '../../config/cidr.ts';
import { readReferenced } from '../../config/files.ts';
import type { Finding } from '../../config/gateway.ts';
import type { ApiAuthzConfigT, ApiConfig, OperationAuthzConfigT } from '../../config/schema.ts';
import { fieldPath } from '../../config/validate.ts';
import type { YamlSource } from '../../config/yaml-source.ts';
import { configError, RampartError } from '../../core/errors.ts';
import type { OpenApiDocument, OpenApiOperation } from '../../openapi/document.ts';
import { requiresCredentials } from '../authn/stage.ts';
import { type CedarApiOptions, CedarAuthorizer, DecisionCache } from './cedar/authorizer.ts';
import { loadPolicySet, PolicyLoadError } from './cedar/policies.ts';
import {
  type ClaimDeclaration,
  entityTypeProblem,
  type GeneratedSchema,
  generateSchema,
  type SchemaOperation,
} from './cedar/schema-gen.ts';
import { type CompiledRule, OperationAuthz } from './engine.ts';
import { type AuthzStage, createAuthzStage } from './stage.ts';

type Rule = Partial<Pick<OperationAuthzConfigT, 'groups' | 'scopes' | 'network' | 'principalKinds'>>;

interface CompiledApi {
  readonly apiRule: CompiledRule | null;
  readonly tagRules: ReadonlyMap<string, CompiledRule>;
  readonly cedar: { readonly options: CedarApiOptions; readonly generated: GeneratedSchema } | null;
}

/** The tags of an operation, as the document declares them. */
export function operationTags(op: OpenApiOperation): string[] {
  const tags = op.operation.tags;
  return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
}

/** The schema generator's view of an API's operations. */
export function schemaOperations(api: ApiConfig, doc: OpenApiDocument): SchemaOperation[] {
  return doc.operations.map((op) => ({
    operationId: op.operationId,
    path: op.path,
    tags: operationTags(op),
    anonymous: !requiresCredentials(op.security as Record<string, unknown>[] | undefined),
    resourceType: api.operations[op.operationId]?.authz?.resource,
  }));
}

/**
 * Builds each operation's `authz` stage: the API rule, the rules of the operation's tags and
 * its own rule, then the API's Cedar policies. Per API, the Cedar schema is generated and the
 * policy file parsed and validated once; any problem stops the load with its location.
 */
export class AuthzCompiler {
  readonly #source: YamlSource;
  readonly #dir: string;
  readonly #findings: Finding[];
  readonly #apis = new Map<string, CompiledApi>();
  /** Policy files read (watched and hashed into the config version). */
  readonly files: { readonly path: string; readonly content: Buffer }[] = [];

  constructor(source: YamlSource, dir: string, findings: Finding[]) {
    this.#source = source;
    this.#dir = dir;
    this.#findings = findings;
  }

  /** The operation's `authz` stage, or null when nothing is configured for it. */
  stageFor(apiName: string, api: ApiConfig, doc: OpenApiDocument, op: OpenApiOperation): AuthzStage | null {
    let compiled = this.#apis.get(apiName);
    if (compiled === undefined) {
      compiled = this.#compileApi(apiName, api, doc);
      this.#apis.set(apiName, compiled);
    }
    const rules: CompiledRule[] = [];
    if (compiled.apiRule !== null) rules.push(compiled.apiRule);
    for (const tag of operationTags(op)) {
      const rule = compiled.tagRules.get(tag);
      if (rule !== undefined) rules.push(rule);
    }
    const opConfig = api.operations[op.operationId]?.authz;
    if (opConfig !== undefined) {
      const rule = this.#rule(`operation ${op.operationId}`, opConfig, [
        'apis',
        apiName,
        'operations',
        op.operationId,
        'authz',
      ]);
      if (rule !== null) rules.push(rule);
    }
    let cedar: CedarAuthorizer | null = null;
    let cedarSummary = '';
    if (compiled.cedar !== null) {
      const shape = compiled.cedar.generated.resources.get(op.operationId)!;
      cedar = new CedarAuthorizer(compiled.cedar.options, op.operationId, shape, operationTags(op));
      const set = compiled.cedar.options.policies;
      const n = cedar.policies.length;
      cedarSummary = `Cedar ${basename(set.file)}: Action::"${op.operationId}" on ${shape.type}, ${n} of ${set.ids.length} ${set.ids.length === 1 ? 'policy applies' : 'policies apply'}${n === 0 ? ' (every request denied)' : ''}`;
      if (n === 0) {
        this.#findings.push({
          id: 'cedar-no-policy-applies',
          severity: 'medium',
          message: `${apiName} ${op.method} ${op.path} (${op.operationId}): no policy in ${basename(set.file)} applies to Action::"${op.operationId}": every request is denied`,
          location: op.location,
        });
      }
    }
    if (rules.length === 0 && cedar === null) return null;
    const summary = [...rules.map(describe), ...(cedarSummary ? [cedarSummary] : [])].join('; ');
    const authz = new OperationAuthz(rules, cedar, api.authz.groupsFrom);
    return createAuthzStage(authz, api.authz.mode, summary);
  }

  #compileApi(apiName: string, api: ApiConfig, doc: OpenApiDocument): CompiledApi {
    const config = api.authz;
    const at = ['apis', apiName, 'authz'];
    const apiRule = this.#rule('api', config, at);
    const tagged = new Set(doc.operations.flatMap(operationTags));
    const tagRules = new Map<string, CompiledRule>();
    for (const [tag, rule] of Object.entries(config.tags)) {
      if (!tagged.has(tag)) {
        // A misspelt tag would leave the operations it meant to protect unprotected.
        throw configError('RAMPART_ERR_CONFIG_REFERENCE', {
          location: this.#source.locate([...at, 'tags', tag], { key: true }),
          field: fieldPath([...at, 'tags', tag]),
          message: `no operation of ${doc.file} carries the tag "${tag}" (tags: ${[...tagged].join(', ') || 'none'})`,
        });
      }
      const compiled = this.#rule(`tag ${tag}`, rule, [...at, 'tags', tag]);
      if (compiled !== null) tagRules.set(tag, compiled);
    }
    return {
      apiRule,
      tagRules,
      cedar: config.cedar ? this.#compileCedar(apiName, api, doc, config.cedar) : null,
    };
  }

  #compileCedar(
    apiName: string,
    api: ApiConfig,
    doc: OpenApiDocument,
    config: NonNullable<ApiAuthzConfigT['cedar']>,
  ): CompiledApi['cedar'] {
    const at = ['apis', apiName, 'authz', 'cedar'];
    const located = (path: (string | number)[], message: string, key = false) =>
      configError('RAMPART_ERR_CONFIG_REFERENCE', {
        location: this.#source.locate(path, { key }),
        field: fieldPath(path),
        message,
      });
    const params = new Set(
      doc.operations.flatMap((op) => [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!)),
    );
    for (const [param, type] of Object.entries(config.entities)) {
      if (!params.has(param)) {
        throw located(
          [...at, 'entities', param],
          `no path of ${doc.file} has the parameter {${param}} (path parameters: ${[...params].join(', ') || 'none'})`,
          true,
        );
      }
      const problem = entityTypeProblem(type, 'reference');
      if (problem !== null) throw located([...at, 'entities', param], problem);
    }
    for (const [id, override] of Object.entries(api.operations)) {
      const type = override.authz?.resource;
      if (type === undefined) continue;
      const problem = entityTypeProblem(type, 'resource');
      if (problem !== null) throw located(['apis', apiName, 'operations', id, 'authz', 'resource'], problem);
    }
    const claims: Record<string, ClaimDeclaration> = {};
    for (const [name, decl] of Object.entries(config.claims)) {
      claims[name] =
        typeof decl === 'string'
          ? { type: decl, required: true }
          : { type: decl.type, required: decl.required ?? true };
    }

    let generated: GeneratedSchema;
    try {
      generated = generateSchema(schemaOperations(api, doc), { claims, entities: config.entities });
    } catch (err) {
      throw located(at, `cannot generate the Cedar schema from ${doc.file}: ${(err as Error).message}`);
    }

    const file = resolve(this.#dir, config.policies);
    const content = readReferenced(file, this.#source, [...at, 'policies']);
    this.files.push({ path: file, content });
    const field = `${fieldPath(at)}.policies`;
    let policies: CedarApiOptions['policies'];
    try {
      policies = loadPolicySet(file, content.toString('utf8'), generated.schema, field);
    } catch (err) {
      if (!(err instanceof PolicyLoadError)) throw err;
      const first = err.problems[0]!;
      const more = err.problems.length > 1 ? ` (and ${err.problems.length - 1} more)` : '';
      throw new RampartError('RAMPART_ERR_CONFIG_POLICY', `${first.message}${more}`, err.problems);
    }
    for (const warning of policies.warnings) {
      this.#findings.push({
        id: 'cedar-policy-warning',
        severity: 'low',
        message: `${apiName}: ${warning.message}`,
        location: warning.location,
      });
    }
    return {
      options: {
        apiName,
        policies,
        claims,
        entities: config.entities,
        cache: config.decisionCache > 0 ? new DecisionCache(config.decisionCache) : null,
      },
      generated,
    };
  }

  #rule(level: string, rule: Rule, at: (string | number)[]): CompiledRule | null {
    const out: {
      level: string;
      allow?: CompiledRule['allow'];
      deny?: CompiledRule['deny'];
      principalKinds?: ReadonlySet<string>;
      scopes?: readonly string[];
      groups?: readonly string[];
    } = { level };
    if (rule.network?.allow) {
      out.allow = {
        set: compileCidrs(rule.network.allow, this.#source, [...at, 'network', 'allow']),
        text: rule.network.allow,
      };
    }
    if (rule.network?.deny) {
      out.deny = {
        set: compileCidrs(rule.network.deny, this.#source, [...at, 'network', 'deny']),
        text: rule.network.deny,
      };
    }
    if (rule.principalKinds) out.principalKinds = new Set(rule.principalKinds);
    if (rule.scopes) out.scopes = rule.scopes;
    if (rule.groups) out.groups = rule.groups;
    return Object.keys(out).length > 1 ? Object.freeze(out) : null;
  }
}

function describe(rule: CompiledRule): string {
  const parts: string[] = [];
  if (rule.deny) parts.push(`deny from ${rule.deny.text.join(', ')}`);
  if (rule.allow) parts.push(`only from ${rule.allow.text.join(', ')}`);
  if (rule.principalKinds) parts.push(`kinds ${[...rule.principalKinds].join('|')}`);
  if (rule.scopes) parts.push(`scopes ${rule.scopes.join(' ')}`);
  if (rule.groups) parts.push(`groups ${rule.groups.join('|')}`);
  return `${rule.level}: ${parts.join(', ')}`;
}
