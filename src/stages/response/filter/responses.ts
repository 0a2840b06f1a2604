import { compileProjector, type Json, type ProjectStats } from './project.ts';

type Schema = Record<string, unknown>;

/** What the gateway does with one response of an operation: its projector, if it has a JSON schema. */
export interface ResponseShape {
  /** The status key that matched (`200`, `2XX`, `default`) and the media type, for details. */
  readonly declared: string;
  readonly project: (value: Json, stats: ProjectStats) => Json;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;

/**
 * The response schemas of one OpenAPI operation, compiled once: status → JSON media type →
 * projector. A response status is looked up as OpenAPI says (an exact code, then `2XX`-style
 * ranges, then `default`); a media type by its essence (`application/json; charset=utf-8` →
 * `application/json`), then `application/*`-style and `*∕*` wildcards.
 */
export class OperationResponses {
  readonly #byStatus = new Map<string, Map<string, ResponseShape>>();
  #shapes = 0;

  constructor(operation: Schema) {
    const responses = operation.responses;
    if (!responses || typeof responses !== 'object') return;
    for (const [status, response] of Object.entries(responses as Schema)) {
      // A status declared without content (a 204) is declared: it must not fall to `default`.
      const content = (response as Schema | null)?.content;
      const types = new Map<string, ResponseShape>();
      this.#byStatus.set(status.toUpperCase(), types);
      if (!content || typeof content !== 'object') continue;
      for (const [mediaType, media] of Object.entries(content as Schema)) {
        const schema = (media as Schema | null)?.schema;
        if (schema === undefined) continue;
        types.set(mediaType.toLowerCase(), {
          declared: `${status} ${mediaType}`,
          project: compileProjector(schema),
        });
        this.#shapes++;
      }
    }
  }

  /** No response of the operation declares a schema: nothing to filter, nothing to buffer. */
  get empty(): boolean {
    return this.#shapes === 0;
  }

  /** The shape for a response, or null when it is not JSON or its status or media type declares no schema. */
  lookup(status: number, contentType: string | undefined): ResponseShape | null {
    const essence = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
    if (!JSON_TYPE.test(essence)) return null;
    const types =
      this.#byStatus.get(String(status)) ??
      this.#byStatus.get(`${String(status)[0]}XX`) ??
      this.#byStatus.get('DEFAULT');
    if (types === undefined) return null;
    const [major] = essence.split('/');
    return types.get(essence) ?? types.get(`${major}/*`) ?? types.get('*/*') ?? null;
  }
}
