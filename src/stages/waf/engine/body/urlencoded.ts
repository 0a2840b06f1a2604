/** application/x-www-form-urlencoded bodies: the same `&`/`=` split as the query string. */
import { parseUrlEncoded } from '../request.ts';
import { addArg, type BodyState } from './index.ts';

export function processUrlEncoded(body: string, state: BodyState): string | undefined {
  for (const [k, v] of parseUrlEncoded(body)) addArg(state, k, v);
  return undefined;
}
