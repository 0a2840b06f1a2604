/**
 * An Aho–Corasick automaton (Aho & Corasick 1975) over bytes, ASCII case-insensitive, as
 * ModSecurity's `@pm` is: one pass over the input finds the first (earliest-ending) phrase,
 * whatever the number of phrases — CRS data files hold hundreds.
 */
export class AhoCorasick {
  /** Per state: byte → next state (sparse; most states have one or two edges). */
  private readonly edges: Array<Map<number, number>> = [new Map()];
  private readonly fail: number[] = [0];
  /** Per state: the phrase that ends here (or via its failure chain), if any. */
  private readonly output: Array<string | undefined> = [undefined];

  constructor(phrases: readonly string[]) {
    for (const phrase of phrases) this.add(phrase);
    this.link();
  }

  private add(phrase: string): void {
    if (phrase.length === 0) return;
    let s = 0;
    for (let i = 0; i < phrase.length; i++) {
      const c = fold(phrase.charCodeAt(i));
      let next = (this.edges[s] as Map<number, number>).get(c);
      if (next === undefined) {
        next = this.edges.length;
        this.edges.push(new Map());
        this.fail.push(0);
        this.output.push(undefined);
        (this.edges[s] as Map<number, number>).set(c, next);
      }
      s = next;
    }
    this.output[s] ??= phrase;
  }

  private link(): void {
    const queue: number[] = [];
    for (const next of (this.edges[0] as Map<number, number>).values()) queue.push(next);
    for (let q = 0; q < queue.length; q++) {
      const s = queue[q] as number;
      for (const [c, next] of this.edges[s] as Map<number, number>) {
        queue.push(next);
        let f = this.fail[s] as number;
        while (f !== 0 && !(this.edges[f] as Map<number, number>).has(c)) f = this.fail[f] as number;
        const target = (this.edges[f] as Map<number, number>).get(c);
        this.fail[next] = target !== undefined && target !== next ? target : 0;
        this.output[next] ??= this.output[this.fail[next] as number];
      }
    }
  }

  /** The first phrase found in `input`, or undefined. */
  find(input: string): string | undefined {
    let s = 0;
    for (let i = 0; i < input.length; i++) {
      const c = fold(input.charCodeAt(i));
      let next = (this.edges[s] as Map<number, number>).get(c);
      while (next === undefined && s !== 0) {
        s = this.fail[s] as number;
        next = (this.edges[s] as Map<number, number>).get(c);
      }
      s = next ?? 0;
      const out = this.output[s];
      if (out !== undefined) return out;
    }
    return undefined;
  }
}

function fold(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}
