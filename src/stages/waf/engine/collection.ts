/**
 * A SecLang collection: an ordered multimap (a request may repeat a header or an argument)
 * whose keys compare case-insensitively, as in ModSecurity.
 */
import { type KeySelector, keyMatches } from './variables.ts';

export interface Entry {
  readonly key: string;
  value: string;
  /** `COLLECTION:key`, as targets are named in logs and MATCHED_VAR_NAME. */
  readonly name: string;
}

export class Collection {
  readonly entries: Entry[] = [];
  readonly #byKey = new Map<string, Entry[]>();
  readonly #prefix: string;

  /** `variable` names the entries (`ARGS` → `ARGS:key`); '' keeps the key as the name. */
  constructor(variable: string) {
    this.#prefix = variable === '' ? '' : `${variable}:`;
  }

  add(key: string, value: string): void {
    const entry = { key, value, name: this.#prefix + key };
    this.entries.push(entry);
    const lower = key.toLowerCase();
    const list = this.#byKey.get(lower);
    if (list === undefined) this.#byKey.set(lower, [entry]);
    else list.push(entry);
  }

  /** Replaces every value of `key` with one (TX semantics). */
  set(key: string, value: string): void {
    const list = this.#byKey.get(key.toLowerCase());
    if (list !== undefined && list.length === 1 && list[0] !== undefined) {
      list[0].value = value;
      return;
    }
    if (list !== undefined) this.delete(key);
    this.add(key, value);
  }

  get(key: string): string | undefined {
    return this.#byKey.get(key.toLowerCase())?.[0]?.value;
  }

  has(key: string): boolean {
    return this.#byKey.has(key.toLowerCase());
  }

  delete(key: string): void {
    const lower = key.toLowerCase();
    if (!this.#byKey.delete(lower)) return;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i]?.key.toLowerCase() === lower) this.entries.splice(i, 1);
    }
  }

  clear(): void {
    if (this.entries.length === 0) return;
    this.entries.length = 0;
    this.#byKey.clear();
  }

  /** The entries `selector` picks, in insertion order. */
  select(selector: KeySelector): readonly Entry[] {
    if (selector.kind === 'all') return this.entries;
    if (selector.kind === 'exact') return this.#byKey.get(selector.lower) ?? [];
    return this.entries.filter((e) => keyMatches(selector, e.key));
  }

  get size(): number {
    return this.entries.length;
  }
}
