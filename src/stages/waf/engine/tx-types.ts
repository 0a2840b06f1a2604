/** What a transaction takes (the request, the response) and what it reports. */

export interface RequestInput {
  readonly method: string;
  /** The request target as sent (origin or absolute form), as a byte string. */
  readonly uri: string;
  /** `HTTP/1.1` */
  readonly protocol: string;
  /** Header fields in order, names as sent, values as byte strings. */
  readonly headers: readonly (readonly [string, string])[];
  readonly remoteAddr?: string;
  readonly remotePort?: number;
  readonly serverAddr?: string;
  readonly serverPort?: number;
  /** UNIQUE_ID; the gateway passes its request id. */
  readonly id?: string;
}

export interface ResponseInput {
  readonly status: number;
  readonly protocol?: string;
  readonly headers: readonly (readonly [string, string])[];
}

export interface MatchedValue {
  /** `ARGS:q`, `REQUEST_HEADERS:User-Agent`, `REQUEST_URI`. */
  readonly name: string;
  /** The transformed value the operator matched. */
  readonly value: string;
}

export interface MatchedRule {
  readonly id: number;
  readonly phase: number;
  readonly msg: string;
  readonly logdata: string;
  readonly severity: string | undefined;
  readonly tags: readonly string[];
  readonly ver: string | undefined;
  readonly file: string;
  readonly line: number;
  /** Whether the rule logs (`nolog` rules are recorded here but not logged). */
  readonly log: boolean;
  readonly disruptive: string;
  readonly matches: readonly MatchedValue[];
}

export interface EngineError {
  readonly ruleId: number;
  readonly phase: number;
  readonly message: string;
}

export interface Interruption {
  readonly ruleId: number;
  readonly action: 'deny' | 'drop' | 'redirect';
  readonly status: number;
  /** `redirect:URL`, expanded. */
  readonly location?: string;
}
