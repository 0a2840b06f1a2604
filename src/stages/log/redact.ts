/**
 * What the access log must never carry: credentials in headers, and secret-looking query
 * parameters. Compiled once per config into sets; applied only to what is logged.
 */

export const REDACTED = '[REDACTED]';

/** Header names whose values are credentials. */
export const CREDENTIAL_HEADERS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  'x-auth-token',
  'x-amz-security-token',
] as const;

/** Query parameter names whose values are secrets (OAuth, SigV4 presign, API keys, sessions). */
export const SECRET_QUERY_PARAMS = [
  'access_token',
  'id_token',
  'refresh_token',
  'token',
  'code',
  'client_secret',
  'secret',
  'password',
  'passwd',
  'pwd',
  'api_key',
  'apikey',
  'api-key',
  'key',
  'auth',
  'authorization',
  'signature',
  'sig',
  'session',
  'sessionid',
  'jwt',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
] as const;

export class Redactor {
  readonly #headers: ReadonlySet<string>;
  readonly #params: ReadonlySet<string>;

  constructor(extraHeaders: readonly string[], extraParams: readonly string[]) {
    this.#headers = new Set([...CREDENTIAL_HEADERS, ...extraHeaders.map((h) => h.toLowerCase())]);
    this.#params = new Set([...SECRET_QUERY_PARAMS, ...extraParams.map((p) => p.toLowerCase())]);
  }

  isCredentialHeader(name: string): boolean {
    return this.#headers.has(name.toLowerCase());
  }

  /** `a=1&token=xyz` → `a=1&token=[REDACTED]`; keeps order and unknown encodings as sent. */
  query(query: string): string {
    if (query === '') return '';
    return query
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        const rawName = eq < 0 ? pair : pair.slice(0, eq);
        let name = rawName;
        try {
          name = decodeURIComponent(rawName.replace(/\+/g, ' '));
        } catch {
          // keep the raw name: a malformed escape is still compared as sent
        }
        return eq >= 0 && this.#params.has(name.toLowerCase()) ? `${rawName}=${REDACTED}` : pair;
      })
      .join('&');
  }
}
