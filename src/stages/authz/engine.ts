import type { ClientCertificate, Principal } from '../../core/context.ts';
import type { ReasonCode } from '../../core/reasons.ts';
import type { CidrSet } from '../client/engine/ip.ts';
import type { CedarAuthorizer } from './cedar/authorizer.ts';

/** The request as `authz` sees it: nothing HTTP, so the CLI can describe one offline. */
export interface AuthzInput {
  readonly principal: Principal | null;
  readonly clientIp: string;
  /** Path parameters, decoded, by their OpenAPI names. */
  readonly params: Readonly<Record<string, string>>;
  readonly certificate: ClientCertificate | null;
  /** Epoch milliseconds. */
  readonly now: number;
}

export interface AuthzDecision {
  readonly allow: boolean;
  /** Why; null for an allow made by the rules alone (no Cedar policy decided). */
  readonly reason: ReasonCode | null;
  readonly detail: string;
  /** The policies that determined a Cedar decision (or errored). */
  readonly policies: readonly string[];
}

/** One level's rule, compiled: the API's, a tag's or the operation's. */
export interface CompiledRule {
  /** `api`, `tag admin`, `operation deleteOrder`: named in decisions. */
  readonly level: string;
  readonly allow?: { readonly set: CidrSet; readonly text: readonly string[] };
  readonly deny?: { readonly set: CidrSet; readonly text: readonly string[] };
  readonly principalKinds?: ReadonlySet<string>;
  readonly scopes?: readonly string[];
  readonly groups?: readonly string[];
}

/**
 * An operation's authorization: the rules of every level (all must pass; an explicit network
 * deny at any level wins over every allow), then the Cedar policies of its API. A pure
 * function of `AuthzInput`.
 */
export class OperationAuthz {
  readonly rules: readonly CompiledRule[];
  readonly cedar: CedarAuthorizer | null;
  readonly #groupsFrom: { readonly root: 'claims' | 'attributes'; readonly name: string };

  constructor(rules: readonly CompiledRule[], cedar: CedarAuthorizer | null, groupsFrom: string) {
    this.rules = rules;
    this.cedar = cedar;
    const dot = groupsFrom.indexOf('.');
    this.#groupsFrom = {
      root: groupsFrom.slice(0, dot) === 'claims' ? 'claims' : 'attributes',
      name: groupsFrom.slice(dot + 1),
    };
  }

  /** The principal's groups, from `groupsFrom`: an array of strings, or one string. */
  groupsOf(principal: Principal | null): string[] {
    if (principal === null) return [];
    const { root, name } = this.#groupsFrom;
    const bag = (root === 'claims' ? principal.attributes.claims : principal.attributes) as
      | Record<string, unknown>
      | undefined;
    const value = bag && Object.hasOwn(bag, name) ? bag[name] : undefined;
    if (typeof value === 'string') return value === '' ? [] : [value];
    if (Array.isArray(value)) return value.filter((g): g is string => typeof g === 'string' && g !== '');
    return [];
  }

  decide(input: AuthzInput): AuthzDecision {
    const ip = input.clientIp;
    // Explicit denies first, at every level: a deny anywhere wins over any allow.
    for (const rule of this.rules) {
      if (rule.deny?.set.has(ip))
        return deny('source_denied', `${rule.level}: client ${ip} is in network.deny`);
    }
    const principal = input.principal;
    const kind = principal === null ? 'anonymous' : principal.kind;
    // Then each kind of check across every level, so the reason does not depend on the level
    // that set the rule: network, principal kind, scopes, groups.
    for (const rule of this.rules) {
      if (rule.allow !== undefined && !rule.allow.set.has(ip)) {
        return deny('source_not_allowed', `${rule.level}: client ${ip} is not in network.allow`);
      }
    }
    for (const rule of this.rules) {
      if (rule.principalKinds !== undefined && !rule.principalKinds.has(kind)) {
        return deny(
          'principal_kind_not_allowed',
          `${rule.level}: principal kind ${kind} is not one of ${[...rule.principalKinds].join(', ')}`,
        );
      }
    }
    for (const rule of this.rules) {
      if (rule.scopes === undefined) continue;
      const held = principal?.scopes ?? [];
      const missing = rule.scopes.filter((s) => !held.includes(s));
      if (missing.length > 0) {
        return deny('scope_required', `${rule.level}: ${who(principal)} lacks scope(s) ${missing.join(' ')}`);
      }
    }
    let groups: string[] | null = null;
    for (const rule of this.rules) {
      if (rule.groups === undefined) continue;
      groups ??= this.groupsOf(principal);
      if (!rule.groups.some((g) => groups!.includes(g))) {
        return deny(
          'group_required',
          `${rule.level}: ${who(principal)} is in none of ${rule.groups.join(', ')}`,
        );
      }
    }
    if (this.cedar === null) return ALLOW;
    const verdict = this.cedar.authorize({
      principal,
      groups: groups ?? this.groupsOf(principal),
      clientIp: ip,
      params: input.params,
      certificate: input.certificate,
      now: input.now,
    });
    if (verdict.decision === 'error') {
      return { allow: false, reason: 'policy_error', detail: verdict.detail, policies: verdict.policies };
    }
    if (verdict.decision === 'deny') {
      return {
        allow: false,
        reason: 'policy_denied',
        detail:
          verdict.policies.length > 0
            ? `forbidden by ${verdict.policies.join(', ')}`
            : 'no policy permits this request (default deny)',
        policies: verdict.policies,
      };
    }
    return {
      allow: true,
      reason: 'policy_allowed',
      detail: `permitted by ${verdict.policies.join(', ')}`,
      policies: verdict.policies,
    };
  }
}

const ALLOW: AuthzDecision = Object.freeze({
  allow: true,
  reason: null,
  detail: 'allowed by the rules',
  policies: [],
});

function deny(reason: ReasonCode, detail: string): AuthzDecision {
  return { allow: false, reason, detail, policies: [] };
}

function who(principal: Principal | null): string {
  return principal === null ? 'anonymous caller' : `principal ${principal.id}`;
}
