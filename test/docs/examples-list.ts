import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../scripts/gen-reference.ts';

/** Every `rampart.yaml` under examples/, as absolute paths, sorted. */
export function exampleConfigs(): string[] {
  const dir = join(REPO_ROOT, 'examples');
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((entry) => entry === 'rampart.yaml' || entry.endsWith('/rampart.yaml'))
    .map((entry) => join(dir, entry))
    .sort();
}
