import type { Pipeline } from './pipeline.ts';

/** An API as the route stage matched it. */
export interface ApiInfo {
  readonly name: string;
  readonly basePath: string;
}

/** One OpenAPI operation, compiled: what every later stage reads about the request's target. */
export interface OperationInfo {
  readonly api: ApiInfo;
  readonly operationId: string;
  readonly method: string;
  /** The OpenAPI path template, under the API's base path: `/v1/pets/{petId}`. */
  readonly route: string;
  /**
   * Largest request body, when the API or operation sets one below `server.limits.maxBodySize`
   * (undefined: the listener's limit applies). The route stage applies it once matched.
   */
  readonly maxBodySize?: number;
  /** The operation's stages after `route`, in pipeline order. */
  readonly pipeline: Pipeline;
}

export interface RouteMatch {
  readonly operation: OperationInfo;
  /** Path parameters, percent-decoded, keyed by their OpenAPI names. */
  readonly params: Readonly<Record<string, string>>;
}
