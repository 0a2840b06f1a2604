/**
 * Rampart's WAF engine: SecLang rule sets (OWASP CRS v4) compiled once, evaluated per
 * request by a cheap transaction.
 *
 *   const rs = loadRuleSet({ crsDir, before: [{ file: 'setup', text: 'SecAction ...' }] });
 *   const tx = rs.newTransaction({ method, uri, protocol, headers, remoteAddr });
 *   tx.processRequestHeaders(); tx.processRequestBody(body);
 *   tx.interruption; tx.matchedRules; tx.error;
 *
 * Semantics where engines differ, chosen to match what CRS v4's regression suite expects
 * (ModSecurity v3 / Coraza):
 * - Non-disruptive actions (setvar, ctl) run once per matched value, as soon as it matches,
 *   so a chain starter's setvar is visible to its chained rules (CRS 920450).
 * - Only the chain starter logs; msg and logdata are expanded once the whole chain matched.
 * - REQUEST_BODY holds the raw body for URLENCODED or when forced (CRS 901340 forces it for
 *   bodies no processor parses); JSON arguments are named `json.a.b`, arrays `json.a.0` plus
 *   `json.a` (the length); XML offers `XML:/*` (text nodes) and `XML://@*` (attributes).
 * - Repeated headers stay separate values; keys compare case-insensitively.
 * - Anything the engine cannot honour (an unknown directive, variable, action, operator,
 *   transformation, XPath, a non-TX setvar) is a load error with file and line.
 */
import type { EngineMode } from './actions.ts';
import { compileExclusions, type ExclusionSpec, type Exclusions } from './exclusions.ts';
import type { Registry } from './rule.ts';
import {
  compileRuleSet,
  crsSources,
  type RuleSetData,
  readSource,
  type Setting,
  type Source,
} from './ruleset.ts';
import { type RequestInput, Transaction, type TransactionOptions } from './transaction.ts';

export type { EngineMode } from './actions.ts';
export type { ExclusionSpec, Exclusions } from './exclusions.ts';
export type { Registry } from './rule.ts';
export type { Setting, Source } from './ruleset.ts';
export { SecLangError } from './seclang/lexer.ts';
export type {
  Interruption,
  MatchedRule,
  MatchedValue,
  RequestInput,
  ResponseInput,
  Transaction,
  TransactionOptions,
} from './transaction.ts';

export interface LoadOptions {
  /** A CRS directory: crs-setup.conf(.example), then `before`, then rules/*.conf, then `extra`. */
  readonly crsDir?: string;
  /** SecLang files loaded in order (after the CRS rules when crsDir is given). */
  readonly files?: readonly string[];
  /** SecLang loaded after crs-setup and before the CRS rules (setup overrides, exclusions). */
  readonly before?: readonly Source[];
  /** SecLang loaded last (exclusions after CRS). */
  readonly extra?: readonly Source[];
  /** Overrides SecRuleEngine from the files. */
  readonly ruleEngine?: EngineMode;
  /** Operator and transformation names (the engine's own registries by default). */
  readonly registry?: Registry;
}

export interface RuleSet {
  readonly ruleCount: number;
  /** Engine directives found in the sources, for the gateway to map. */
  readonly settings: readonly Setting[];
  readonly ruleEngine: EngineMode;
  newTransaction(req: RequestInput, opts?: TransactionOptions): Transaction;
  /** Validates per-operation exclusions against this rule set; throws naming the bad field. */
  compileExclusions(spec: ExclusionSpec): Exclusions;
}

export function loadRuleSet(opts: LoadOptions): RuleSet {
  const files = (opts.files ?? []).map(readSource);
  const sources =
    opts.crsDir === undefined
      ? [...(opts.before ?? []), ...files, ...(opts.extra ?? [])]
      : crsSources(opts.crsDir, opts.before ?? [], [...files, ...(opts.extra ?? [])]);
  const data: RuleSetData = compileRuleSet(sources, opts.ruleEngine, opts.registry);
  return {
    ruleCount: data.rules.length,
    settings: data.settings,
    ruleEngine: data.ruleEngine,
    newTransaction: (req, txOpts) => new Transaction(data, req, txOpts),
    compileExclusions: (spec) => compileExclusions(spec, data.rules),
  };
}
