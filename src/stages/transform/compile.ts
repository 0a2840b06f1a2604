import type { ApiConfig, Config } from '../../config/schema.ts';
import type { YamlSource } from '../../config/yaml-source.ts';
import type { OpenApiDocument } from '../../openapi/document.ts';
import { hstsHeader } from '../response/hsts.ts';
import { compileHeaderRules, type HeaderStep } from './header-rules.ts';

/**
 * Compiles the header rules of every scope (request: `transform.request`; response:
 * `response.headers`; API first, then operation) and the HSTS value of each API, checking
 * every name and value at load.
 */
export class HeaderRulesCompiler {
  readonly #config: Config;
  readonly #source: YamlSource;
  readonly #identity: ReadonlySet<string>;
  readonly #api = new Map<string, { request: HeaderStep[]; response: HeaderStep[] }>();

  constructor(config: Config, source: YamlSource) {
    this.#config = config;
    this.#source = source;
    const ids = config.authn.identityHeaders;
    this.#identity = new Set([...ids.strip, ...Object.keys(ids.inject)].map((n) => n.toLowerCase()));
  }

  /** `Strict-Transport-Security` of the gateway (no API given) or of one API. */
  hsts(apiName?: string, api?: ApiConfig): string | null {
    if (apiName === undefined || api === undefined) {
      return hstsHeader(this.#config.server.hsts, undefined, this.#source, ['server', 'hsts']);
    }
    return hstsHeader(this.#config.server.hsts, api.response.hsts, this.#source, [
      'apis',
      apiName,
      'response',
      'hsts',
    ]);
  }

  /** The operation's request rules (API's, then its own). */
  requestSteps(apiName: string, api: ApiConfig, doc: OpenApiDocument, operationId: string): HeaderStep[] {
    const own = api.operations[operationId]?.transform?.request;
    const credentials = credentialHeaders(doc);
    const base = this.#forApi(apiName, api, credentials).request;
    if (own === undefined) return base;
    return [
      ...base,
      ...compileHeaderRules(own, {
        source: this.#source,
        at: ['apis', apiName, 'operations', operationId, 'transform', 'request'],
        side: 'request',
        identity: this.#identity,
        credentials,
      }),
    ];
  }

  /** The API's response rules. */
  apiResponseSteps(apiName: string, api: ApiConfig, doc: OpenApiDocument): HeaderStep[] {
    return this.#forApi(apiName, api, credentialHeaders(doc)).response;
  }

  /** The operation's response rules when it has its own (API's then its own), else null. */
  operationResponseSteps(
    apiName: string,
    api: ApiConfig,
    doc: OpenApiDocument,
    operationId: string,
  ): HeaderStep[] | null {
    const own = api.operations[operationId]?.response?.headers;
    if (own === undefined) return null;
    return [
      ...this.apiResponseSteps(apiName, api, doc),
      ...compileHeaderRules(own, {
        source: this.#source,
        at: ['apis', apiName, 'operations', operationId, 'response', 'headers'],
        side: 'response',
      }),
    ];
  }

  #forApi(apiName: string, api: ApiConfig, credentials: ReadonlySet<string>) {
    let entry = this.#api.get(apiName);
    if (entry === undefined) {
      entry = {
        request: compileHeaderRules(api.transform?.request, {
          source: this.#source,
          at: ['apis', apiName, 'transform', 'request'],
          side: 'request',
          identity: this.#identity,
          credentials,
        }),
        response: compileHeaderRules(api.response.headers, {
          source: this.#source,
          at: ['apis', apiName, 'response', 'headers'],
          side: 'response',
        }),
      };
      this.#api.set(apiName, entry);
    }
    return entry;
  }
}

/** Headers that may carry a credential the gateway consumes: `Authorization` and the document's API-key headers. */
function credentialHeaders(doc: OpenApiDocument): Set<string> {
  const out = new Set(['authorization', 'cookie']);
  for (const scheme of Object.values(doc.securitySchemes)) {
    if (scheme?.type === 'apiKey' && scheme.in === 'header' && typeof scheme.name === 'string') {
      out.add(scheme.name.toLowerCase());
    }
  }
  return out;
}
