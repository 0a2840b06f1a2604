import { randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { REPO_ROOT } from '../../scripts/gen-reference.ts';
import { createTestPki } from '../helpers/certs.ts';

/** Every `rampart.yaml` under examples/, as absolute paths, sorted. */
export function exampleConfigs(): string[] {
  const dir = join(REPO_ROOT, 'examples');
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((entry) => entry === 'rampart.yaml' || entry.endsWith('/rampart.yaml'))
    .map((entry) => join(dir, entry))
    .sort();
}

/**
 * What an example needs that the repo must not hold (secrets, keys), from the `## Needs` list
 * of its README: `- env:NAME` and `- file:PATH` items.
 */
export function exampleNeeds(config: string): { env: string[]; files: string[] } {
  const readme = join(dirname(config), 'README.md');
  const out = { env: [] as string[], files: [] as string[] };
  if (!existsSync(readme)) return out;
  const section =
    readFileSync(readme, 'utf8')
      .split(/^## Needs\s*$/m)[1]
      ?.split(/^## /m)[0] ?? '';
  for (const [, kind, value] of section.matchAll(/^[-*]\s+`?(env|file):([^`\s]+)`?\s*$/gm)) {
    if (kind === 'env') out.env.push(value!);
    else out.files.push(value!);
  }
  return out;
}

/**
 * A runnable copy of an example: its folder copied to a temp folder, the env variables it
 * needs set to random values, and the files it needs generated (PEM certificates and keys
 * from a throwaway CA: `*.pem` get a certificate, `*.key` its key; a CA if the name says `ca`).
 */
export function prepareExample(config: string): string {
  const needs = exampleNeeds(config);
  const copy = mkdtempSync(join(tmpdir(), `rampart-example-${basename(dirname(config))}-`));
  cpSync(dirname(config), copy, { recursive: true });
  for (const name of needs.env) process.env[name] ??= randomBytes(48).toString('base64url');
  if (needs.files.length > 0) {
    const pki = createTestPki('example');
    for (const file of needs.files) {
      const target = join(copy, file);
      mkdirSync(dirname(target), { recursive: true });
      const name = basename(file);
      let content: string;
      if (/ca/i.test(name) && name.endsWith('.pem')) content = pki.caPem;
      else if (name.endsWith('.key')) content = pki.server.key;
      else content = pki.server.cert;
      writeFileSync(target, content);
    }
  }
  return join(copy, basename(config));
}
