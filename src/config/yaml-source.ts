import { readFileSync, statSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { type ConfigProblem, configError, RampartError, type SourceLocation } from '../core/errors.ts';

/** A parsed YAML (or JSON) file that can say where any field path came from. */
export interface YamlSource {
  readonly file: string;
  readonly data: unknown;
  /**
   * Location of the value at `path` (or of its closest existing parent). With `key`, the
   * location of the mapping key itself: what an unknown field or a bad name should point at,
   * since a block value starts on the line after its key.
   */
  locate(path: readonly (string | number)[], options?: { readonly key?: boolean }): SourceLocation;
}

export interface YamlLimits {
  readonly maxBytes: number;
  readonly maxAliases: number;
}

export const CONFIG_LIMITS: YamlLimits = { maxBytes: 1024 * 1024, maxAliases: 100 };

/**
 * Safe YAML loading: YAML 1.2 core schema only (no custom or language tags, no merge keys),
 * duplicate keys rejected, a size cap and an alias cap (billion-laughs). JSON is YAML 1.2, so
 * JSON documents load through here too and keep their positions.
 */
export function readYamlFile(file: string, limits: YamlLimits = CONFIG_LIMITS): YamlSource {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (err) {
    throw configError('RAMPART_ERR_CONFIG_FILE', {
      location: { file },
      message: `cannot read file (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    });
  }
  if (size > limits.maxBytes) {
    throw configError('RAMPART_ERR_CONFIG_FILE', {
      location: { file },
      message: `file is ${size} bytes, over the ${limits.maxBytes}-byte limit`,
    });
  }
  return parseYaml(file, readFileSync(file, 'utf8'), limits);
}

export function parseYaml(file: string, text: string, limits: YamlLimits = CONFIG_LIMITS): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    schema: 'core',
    merge: false,
    // The core schema still resolves the YAML 1.1 tags !!binary, !!set, !!omap, !!pairs and
    // !!timestamp by default (yielding Buffers, Dates, Maps): off, so they are refused like any tag.
    resolveKnownTags: false,
    uniqueKeys: true,
    prettyErrors: false,
    strict: true,
    customTags: [],
  });
  const where = (offset: number): SourceLocation => {
    const pos = lineCounter.linePos(offset);
    return { file, line: pos.line, column: pos.col };
  };
  // Warnings (an unresolved tag such as !!js/function) are errors here: never guess.
  const issues = [...doc.errors, ...doc.warnings];
  if (issues.length > 0) {
    const problems: ConfigProblem[] = issues.map((e) => ({
      location: where(e.pos[0]),
      message: describeYamlIssue(e.code, e.message),
    }));
    throw new RampartError('RAMPART_ERR_CONFIG_YAML', `${file} is not valid YAML`, problems);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: limits.maxAliases });
  } catch (err) {
    throw configError('RAMPART_ERR_CONFIG_YAML', {
      location: { file },
      message: `cannot expand the document: ${(err as Error).message}`,
    });
  }
  const root = doc.contents;
  return {
    file,
    data,
    locate(path, options) {
      let node: unknown = root;
      let last: Node | null = (root as Node | null) ?? null;
      let found = 0;
      for (const key of path) {
        if (isMap(node)) {
          const pair = node.items.find(
            (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(key),
          );
          if (!pair) break;
          node = pair.value ?? pair.key;
          last = (options?.key && found === path.length - 1 ? pair.key : (pair.value ?? pair.key)) as Node;
        } else if (isSeq(node) && typeof key === 'number') {
          const item = node.items[key];
          if (item === undefined) break;
          node = item;
          last = item as Node;
        } else {
          break;
        }
        found++;
      }
      const range = last?.range;
      return range ? where(range[0]) : { file, line: 1, column: 1 };
    },
  };
}

function describeYamlIssue(code: string, message: string): string {
  const first = message.split('\n')[0] ?? message;
  switch (code) {
    case 'DUPLICATE_KEY':
      return 'duplicate key (each key may appear once in a mapping)';
    case 'TAG_RESOLVE_FAILED':
      return `custom tags are not allowed (${first})`;
    default:
      return first;
  }
}
