import type { ApiConfig, Config } from '../../config/schema.ts';
import { parseDuration } from '../../config/units.ts';
import { fieldPath } from '../../config/validate.ts';
import type { YamlSource } from '../../config/yaml-source.ts';
import { configError } from '../../core/errors.ts';
import type { Stage } from '../../core/stage.ts';
import type { StateStore } from '../../store/store.ts';
import { createEdgeLimitStage } from '../edge-limit/stage.ts';
import type { CompiledLimit, KeyKind } from './limiter.ts';
import { Limiter } from './limiter.ts';
import type { QuotaConfig, RateLimitConfig } from './schema.ts';
import { createQuotaStage, type PlanResolver } from './stage.ts';

type RateLimitT = import('@sinclair/typebox').Static<typeof RateLimitConfig>;
type QuotaT = import('@sinclair/typebox').Static<typeof QuotaConfig>;
type Path = (string | number)[];

interface ScopeLimits {
  readonly edge: readonly CompiledLimit[];
  readonly consumer: readonly CompiledLimit[];
}

const EDGE_KEYS: ReadonlySet<KeyKind> = new Set(['ip', 'global']);
const WINDOW_SECONDS = { day: 86_400, week: 604_800 } as const;

/**
 * Builds each operation's `edge-limit` and `quota` stages from the global, API, operation and
 * plan limits. Every limit gets a gateway-wide id (its scope and name), which is its store key
 * prefix, the name in logs, and what `rampart explain` prints. Names must be unique among the
 * limits that can apply to one request, since clients see them in `RateLimit-Policy`.
 */
export class TrafficCompiler {
  readonly #config: Config['traffic'];
  readonly #source: YamlSource;
  readonly #limiter: Limiter;
  readonly #global: ScopeLimits;
  readonly #plans = new Map<
    string,
    {
      readonly limits: readonly CompiledLimit[];
      readonly apis: ReadonlySet<string> | null;
      readonly at: Path;
    }
  >();

  constructor(config: Config, source: YamlSource, store: StateStore) {
    const traffic = config.traffic;
    this.#config = traffic;
    this.#source = source;
    this.#limiter = new Limiter({ store, ipv6Prefix: traffic.ipv6Prefix, headers: traffic.headers });
    this.#global = this.#scope('global', traffic, ['traffic']);
    for (const [name, plan] of Object.entries(traffic.plans)) {
      const at = ['traffic', 'plans', name];
      const limits = this.#compile(`plan:${name}`, plan.rateLimits, plan.quotas, at);
      plan.apis?.forEach((api, i) => {
        if (!Object.hasOwn(config.apis, api))
          this.#fail(
            [...at, 'apis', i],
            `no API named "${api}" (known: ${Object.keys(config.apis).join(', ')})`,
          );
      });
      this.#plans.set(name, { limits, apis: plan.apis ? new Set(plan.apis) : null, at });
    }
    if (traffic.defaultPlan !== undefined && !this.#plans.has(traffic.defaultPlan)) {
      this.#fail(
        ['traffic', 'defaultPlan'],
        `no plan named "${traffic.defaultPlan}" (known: ${[...this.#plans.keys()].join(', ') || 'none'})`,
      );
    }
  }

  /** The operation's limit stages (none, one or both), in pipeline order. */
  stagesFor(apiName: string, api: ApiConfig, operationId: string): Stage[] {
    const apiScope = this.#scope(`api:${apiName}`, api.traffic, ['apis', apiName, 'traffic']);
    const opTraffic = api.operations[operationId]?.traffic;
    const opScope = opTraffic
      ? this.#scope(`op:${apiName}.${operationId}`, opTraffic, [
          'apis',
          apiName,
          'operations',
          operationId,
          'traffic',
        ])
      : { edge: [], consumer: [] };
    const edge = [...this.#global.edge, ...apiScope.edge, ...opScope.edge];
    const consumer = [...this.#global.consumer, ...apiScope.consumer, ...opScope.consumer];
    const byPlan = new Map<string, readonly CompiledLimit[]>();
    for (const [name, plan] of this.#plans) {
      if (plan.apis !== null && !plan.apis.has(apiName)) continue;
      const merged = [...consumer, ...plan.limits];
      this.#checkNames([...edge, ...merged], `operation ${operationId} with plan ${name}`);
      byPlan.set(name, merged);
    }
    this.#checkNames([...edge, ...consumer], `operation ${operationId}`);

    const stages: Stage[] = [];
    if (edge.length > 0) stages.push(createEdgeLimitStage(this.#limiter, edge));
    const plans = this.#resolver(byPlan);
    if (consumer.length > 0 || byPlan.size > 0) {
      stages.push(createQuotaStage(this.#limiter, consumer, byPlan, plans));
    }
    return stages;
  }

  #resolver(byPlan: ReadonlyMap<string, readonly CompiledLimit[]>): PlanResolver {
    const known = new Set(this.#plans.keys());
    const from = this.#config.planFrom.map((path) => {
      const dot = path.indexOf('.');
      return { root: path.slice(0, dot) as 'claims' | 'attributes', name: path.slice(dot + 1) };
    });
    return { from, defaultPlan: this.#config.defaultPlan ?? null, known, applies: byPlan };
  }

  #scope(prefix: string, scope: { rateLimits: RateLimitT[]; quotas: QuotaT[] }, at: Path): ScopeLimits {
    const all = this.#compile(prefix, scope.rateLimits, scope.quotas, at);
    return {
      edge: all.filter((l) => EDGE_KEYS.has(l.keyKind) && l.check.kind === 'rate'),
      consumer: all.filter((l) => !(EDGE_KEYS.has(l.keyKind) && l.check.kind === 'rate')),
    };
  }

  #compile(
    prefix: string,
    rates: readonly RateLimitT[],
    quotas: readonly QuotaT[],
    at: Path,
  ): CompiledLimit[] {
    const seen = new Map<string, Path>();
    const out: CompiledLimit[] = [];
    const unique = (name: string, where: Path) => {
      if (seen.has(name))
        this.#fail(
          [...where, 'name'],
          `a limit named "${name}" is already defined in this scope (at ${fieldPath(seen.get(name)!)})`,
        );
      seen.set(name, where);
    };
    rates.forEach((r, i) => {
      const where = [...at, 'rateLimits', i];
      unique(r.name, where);
      out.push(this.#rate(`${prefix}/${r.name}`, r, where));
    });
    quotas.forEach((q, i) => {
      const where = [...at, 'quotas', i];
      unique(q.name, where);
      out.push(quota(`${prefix}/${q.name}`, q));
    });
    return out;
  }

  #rate(id: string, r: RateLimitT, where: Path): CompiledLimit {
    const perMs = parseDuration(r.per);
    if (perMs < 1) this.#fail([...where, 'per'], 'must be at least 1ms');
    const burst = r.burst ?? r.rate;
    const [kind, header] = splitKey(r.key);
    // draft-ietf-httpapi-ratelimit-headers: `w` is whole seconds; sub-second periods are scaled to 1 s.
    const policy =
      perMs % 1000 === 0
        ? `"${r.name}";q=${r.rate};w=${perMs / 1000}`
        : `"${r.name}";q=${Math.floor((r.rate * 1000) / perMs)};w=1`;
    return {
      id,
      name: r.name,
      keyKind: kind,
      header,
      enforce: r.mode === 'enforce',
      failOpen: r.onStoreFailure === 'failOpen',
      check: {
        kind: 'rate',
        key: `rl:${id}`,
        intervalMs: perMs / r.rate,
        burst,
        cost: 1,
        enforce: r.mode === 'enforce',
      },
      policy,
      describe: `${r.rate} per ${r.per} (burst ${burst}) by ${r.key}`,
    };
  }

  #checkNames(limits: readonly CompiledLimit[], what: string): void {
    const seen = new Map<string, string>();
    for (const l of limits) {
      const other = seen.get(l.name);
      if (other !== undefined) {
        throw configError('RAMPART_ERR_CONFIG_REFERENCE', {
          location: this.#source.locate(['traffic']),
          field: 'traffic',
          message: `limits ${other} and ${l.id} both apply to ${what} under the name "${l.name}": clients could not tell them apart in RateLimit-Policy; rename one`,
        });
      }
      seen.set(l.name, l.id);
    }
  }

  #fail(at: Path, message: string): never {
    throw configError('RAMPART_ERR_CONFIG_REFERENCE', {
      location: this.#source.locate(at),
      field: fieldPath(at),
      message,
    });
  }
}

function quota(id: string, q: QuotaT): CompiledLimit {
  const [kind, header] = splitKey(q.key);
  return {
    id,
    name: q.name,
    keyKind: kind,
    header,
    enforce: q.mode === 'enforce',
    failOpen: q.onStoreFailure === 'failOpen',
    check: {
      kind: 'quota',
      key: `q:${id}`,
      period: q.per,
      limit: q.limit,
      cost: 1,
      enforce: q.mode === 'enforce',
    },
    policy: q.per === 'month' ? '' : `"${q.name}";q=${q.limit};w=${WINDOW_SECONDS[q.per]}`,
    describe: `${q.limit} per ${q.per} (UTC) by ${q.key}`,
  };
}

function splitKey(key: string): [KeyKind, string] {
  if (key.startsWith('header:')) return ['header', key.slice(7).toLowerCase()];
  return [key as KeyKind, ''];
}
