import type { RequestContext } from '../../core/context.ts';
import { type Outcome, reply } from '../../core/outcome.ts';
import type { Stage } from '../../core/stage.ts';

type Requirement = Readonly<Record<string, unknown>>;

/**
 * Whether an operation's security requirements (OpenAPI: an OR of AND-sets) admit anonymous
 * callers: only an explicit empty requirement `{}` does. `undefined` and `[]` declare nothing;
 * they are a posture finding and, until the identity issue decides, served as before.
 */
export function requiresCredentials(security: readonly Requirement[] | undefined): boolean {
  if (security === undefined || security.length === 0) return false;
  return !security.some((requirement) => Object.keys(requirement).length === 0);
}

/**
 * The `authn` slot while no credential can be verified. An operation whose document demands
 * credentials is refused with 401, never served anonymously: failing closed is the only safe
 * reading of a requirement the gateway cannot check. The identity stage replaces this one.
 */
export function createUnverifiableAuthnStage(schemes: readonly string[]): Stage {
  const detail = `no verifier for security scheme(s) ${schemes.join(', ')} in this build`;
  return {
    name: 'authn',
    mode: 'enforce',
    summary: `requires ${schemes.join(' or ')}: cannot be verified yet, every request is refused (401)`,
    request(_ctx: RequestContext): Outcome {
      return reply(401, 'unauthenticated', { detail });
    },
  };
}

/** Scheme names of every requirement, for messages: `[{a: [], b: []}, {c: []}]` → `a+b, c`. */
export function schemeNames(security: readonly Requirement[]): string[] {
  return security.map((requirement) => Object.keys(requirement).join('+'));
}
