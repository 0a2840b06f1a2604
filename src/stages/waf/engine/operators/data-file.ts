import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { OperatorEnv } from './types.ts';

/**
 * The lines of the data files named in a `@pmFromFile` / `@ipMatchFromFile` parameter
 * (space-separated; relative names resolve against the rule file's directory, as ModSecurity
 * resolves them). Comment lines (`#` after optional whitespace) and blank lines are skipped;
 * other lines are kept as they are (ModSecurity keeps leading spaces: CRS's sql-errors.data
 * has ` in query expression`) apart from a CR of a CRLF file. A missing file throws.
 */
export function dataFileLines(param: string, env: OperatorEnv, what: string): string[] {
  const names = param.split(/\s+/).filter((n) => n.length > 0);
  if (names.length === 0) throw new Error(`${what}: no data file named`);
  const lines: string[] = [];
  for (const name of names) {
    if (/^https?:\/\//i.test(name)) throw new Error(`${what}: remote data files are not supported (${name})`);
    const path = isAbsolute(name) ? name : resolve(env.dir, name);
    let text: string;
    try {
      text = readFileSync(path, 'latin1');
    } catch (err) {
      throw new Error(
        `${what}: cannot read data file ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      );
    }
    for (const raw of text.split('\n')) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      const trimmed = line.trim();
      if (trimmed.length === 0 || trimmed.startsWith('#')) continue;
      lines.push(line);
    }
  }
  return lines;
}
