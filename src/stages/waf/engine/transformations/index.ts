import type { Transformation } from './types.ts';

export type { Transformation } from './types.ts';

const TRANSFORMATIONS = new Map<string, Transformation>();

/**
 * The transformation named `name` (case-insensitive), or undefined for an unknown name.
 * `none` is not here: the engine handles it (it resets the chain).
 */
export function getTransformation(name: string): Transformation | undefined {
  return TRANSFORMATIONS.get(name.toLowerCase());
}
