import type { Finding } from '../../config/gateway.ts';
import type { ApiConfig } from '../../config/schema.ts';
import type { YamlSource } from '../../config/yaml-source.ts';
import type { ApiInfo, OperationInfo } from '../../core/operation.ts';
import { Pipeline } from '../../core/pipeline.ts';
import type { Stage } from '../../core/stage.ts';
import type { OpenApiDocument, OpenApiOperation } from '../../openapi/document.ts';
import { type CorsOrigins, type CorsPolicy, compileCorsOrigins, corsPolicyFor } from './policy.ts';
import { createCorsStage, createPreflightStage } from './stage.ts';

/**
 * Builds the `cors` stages of each API with a `cors` policy: one per path template (its
 * operations share it), and a preflight-only operation for each path that declares no
 * `OPTIONS`, which the route stage hands preflights to instead of answering 405.
 */
export class CorsCompiler {
  readonly #source: YamlSource;
  readonly #findings: Finding[];
  readonly #origins = new Map<string, CorsOrigins>();
  readonly #policies = new Map<string, { policy: CorsPolicy; stage: Stage }>();

  constructor(source: YamlSource, findings: Finding[]) {
    this.#source = source;
    this.#findings = findings;
  }

  /** The operation's `cors` stage, or none when the API has no CORS policy. */
  stagesFor(apiName: string, api: ApiConfig, doc: OpenApiDocument, op: OpenApiOperation): Stage[] {
    const entry = this.#entry(apiName, api, doc, op.path);
    return entry ? [entry.stage] : [];
  }

  /**
   * One preflight operation per path of the API that declares no `OPTIONS` (with the full
   * template under the base path), its chain `cors` then `tail` (the response and log stages).
   */
  preflightOperations(
    apiName: string,
    api: ApiConfig,
    doc: OpenApiDocument,
    info: ApiInfo,
    tail: readonly Stage[],
  ): OperationInfo[] {
    if (api.cors === undefined) return [];
    const out: OperationInfo[] = [];
    const paths = new Set(doc.operations.map((o) => o.path));
    for (const path of paths) {
      if (doc.operations.some((o) => o.path === path && o.method === 'OPTIONS')) continue;
      const { policy } = this.#entry(apiName, api, doc, path)!;
      const route = api.basePath + path;
      out.push(
        Object.freeze({
          api: info,
          operationId: `OPTIONS ${path}`,
          method: 'OPTIONS',
          route,
          pipeline: new Pipeline([createPreflightStage(policy), ...tail]),
        }),
      );
    }
    return out;
  }

  #entry(apiName: string, api: ApiConfig, doc: OpenApiDocument, path: string) {
    const cors = api.cors;
    if (cors === undefined) return null;
    const key = `${apiName}\0${path}`;
    let entry = this.#policies.get(key);
    if (entry === undefined) {
      let origins = this.#origins.get(apiName);
      if (origins === undefined) {
        origins = compileCorsOrigins(apiName, cors, this.#source, this.#findings);
        this.#origins.set(apiName, origins);
      }
      const policy = corsPolicyFor(origins, cors, doc, path);
      entry = { policy, stage: createCorsStage(policy) };
      this.#policies.set(key, entry);
    }
    return entry;
  }
}
