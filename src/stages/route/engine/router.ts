/**
 * The operation router: a trie over decoded path segments (from path-normalize), with static
 * segments preferred over patterned ones (`{id}.json`) over plain parameters (`{id}`), and
 * backtracking between them. Matching works on already-decoded segments, so a parameter value
 * can never contain `/` and nothing is decoded twice.
 */

interface PatternSegment {
  readonly regex: RegExp;
  readonly names: readonly string[];
  readonly source: string;
  readonly node: TrieNode<unknown>;
}

interface TrieNode<T> {
  readonly statics: Map<string, TrieNode<T>>;
  readonly patterns: PatternSegment[];
  param: TrieNode<T> | null;
  /** Leaf data: method → value, with the parameter names of the template that made it. */
  leaf: { methods: Map<string, { value: T; names: string[] }>; allow: string; template: string } | null;
}

function node<T>(): TrieNode<T> {
  return { statics: new Map(), patterns: [], param: null, leaf: null };
}

export type RouteLookup<T> =
  | { readonly kind: 'found'; readonly value: T; readonly params: Record<string, string> }
  | { readonly kind: 'method'; readonly allow: string }
  | { readonly kind: 'none' };

const NONE = Object.freeze({ kind: 'none' as const });

export class Router<T> {
  readonly #root: TrieNode<T> = node();

  /**
   * Add `method template` (template segments already including any base path). Throws a
   * message naming the clash when the same method is declared twice for an equivalent template.
   */
  add(method: string, template: string, value: T): void {
    let current = this.#root;
    const names: string[] = [];
    for (const segment of template.slice(1).split('/')) {
      if (!segment.includes('{')) {
        let next = current.statics.get(segment);
        if (!next) {
          next = node();
          current.statics.set(segment, next);
        }
        current = next;
      } else if (/^\{[^{}]+\}$/.test(segment)) {
        names.push(segment.slice(1, -1));
        current.param ??= node();
        current = current.param;
      } else {
        const segNames: string[] = [];
        const shape = segment.replace(/\{([^{}]+)\}/g, (_, n: string) => {
          segNames.push(n);
          return '{}';
        });
        names.push(...segNames);
        let pattern = current.patterns.find((p) => p.source === shape);
        if (!pattern) {
          const regex = new RegExp(
            `^${shape
              .split('{}')
              .map((lit) => lit.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
              .join('(.+?)')}$`,
          );
          pattern = { regex, names: segNames, source: shape, node: node() };
          current.patterns.push(pattern);
        }
        current = pattern.node as TrieNode<T>;
      }
    }
    current.leaf ??= { methods: new Map(), allow: '', template };
    if (current.leaf.methods.has(method)) {
      throw new Error(`${method} ${template} clashes with ${method} ${current.leaf.template}`);
    }
    current.leaf.methods.set(method, { value, names });
    current.leaf.allow = [...current.leaf.methods.keys()].sort().join(', ');
  }

  find(method: string, segments: readonly string[]): RouteLookup<T> {
    const values: string[] = [];
    const leaf = walk(this.#root, segments, 0, values);
    if (leaf === null) return NONE;
    const entry = leaf.methods.get(method);
    if (entry === undefined) return { kind: 'method', allow: leaf.allow };
    const params: Record<string, string> = {};
    for (let i = 0; i < entry.names.length; i++) params[entry.names[i]!] = values[i]!;
    return { kind: 'found', value: entry.value, params };
  }
}

function walk<T>(
  current: TrieNode<T>,
  segments: readonly string[],
  index: number,
  values: string[],
): TrieNode<T>['leaf'] {
  if (index === segments.length) return current.leaf;
  const segment = segments[index]!;
  const exact = current.statics.get(segment);
  if (exact) {
    const found = walk(exact, segments, index + 1, values);
    if (found) return found;
  }
  if (segment === '') return null; // an empty segment never fills a parameter
  for (const pattern of current.patterns) {
    const m = pattern.regex.exec(segment);
    if (!m) continue;
    const mark = values.length;
    values.push(...m.slice(1));
    const found = walk(pattern.node as TrieNode<T>, segments, index + 1, values);
    if (found) return found;
    values.length = mark;
  }
  if (current.param) {
    values.push(segment);
    const found = walk(current.param, segments, index + 1, values);
    if (found) return found;
    values.pop();
  }
  return null;
}
