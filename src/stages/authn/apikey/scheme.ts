import { resolve } from 'node:path';
import type { Static } from '@sinclair/typebox';
import { resolveSecret, type Secret } from '../../../config/secrets.ts';
import type { YamlSource } from '../../../config/yaml-source.ts';
import type { Principal, RequestContext } from '../../../core/context.ts';
import { configError } from '../../../core/errors.ts';
import { reportDependencyError } from '../../../observe/logger.ts';
import { consumeHeaders, consumeQueryParams, singleHeader } from '../credentials.ts';
import type { AuthnConfig } from '../schema.ts';
import { ABSENT, fail, type Verdict, type Verifier } from '../verifier.ts';
import { KeyStoreWatcher } from './store.ts';
import { verifyApiKey } from './verify.ts';

type KeyStoreSettings = NonNullable<Static<typeof AuthnConfig>['keyStore']>;

/** The gateway's view of the key store: the watched file and the pepper. */
export interface KeyStoreHandle {
  readonly watcher: KeyStoreWatcher;
  readonly pepper: Secret;
  start(): void;
  close(): void;
}

export function openKeyStore(settings: KeyStoreSettings, dir: string, source: YamlSource): KeyStoreHandle {
  const at = ['authn', 'keyStore'];
  const pepper = resolveSecret(
    settings.pepper,
    dir,
    'authn.keyStore.pepper',
    source.locate([...at, 'pepper']),
  );
  if (Buffer.byteLength(pepper.reveal()) < 32) {
    throw configError('RAMPART_ERR_CONFIG_SECRET', {
      location: source.locate([...at, 'pepper']),
      field: 'authn.keyStore.pepper',
      message: 'the pepper must be at least 32 bytes (e.g. `openssl rand -base64 32`)',
    });
  }
  const file = resolve(dir, settings.file);
  let watcher: KeyStoreWatcher;
  try {
    // A store that does not exist yet is empty (no key verifies) until `rampart keys create` writes it.
    watcher = new KeyStoreWatcher(file, {
      allowMissing: true,
      onError: (err: unknown) =>
        reportDependencyError(err, `key store ${file} (API keys are refused until it reads again)`),
    });
  } catch (err) {
    throw configError('RAMPART_ERR_CONFIG_FILE', {
      location: source.locate([...at, 'file']),
      field: 'authn.keyStore.file',
      message: (err as Error).message,
    });
  }
  return {
    watcher,
    pepper,
    start: () => watcher.start(),
    close: () => watcher.close(),
  };
}

/** Where the OpenAPI `apiKey` scheme says the key is: a header, a query parameter or a cookie. */
interface KeyLocation {
  readonly in?: string;
  readonly name?: string;
}

/**
 * The OpenAPI `apiKey` scheme backed by the key store. The key is read only where the scheme
 * says (`in: query` is the only way a key is taken from the URL), and verified by public id
 * and keyed hash in constant time.
 */
export function createApiKeyVerifier(scheme: string, where: KeyLocation, store: KeyStoreHandle): Verifier {
  // Header names are case-insensitive; query parameter and cookie names are not.
  const location = where.in ?? 'header';
  const name = location === 'header' ? (where.name ?? '').toLowerCase() : (where.name ?? '');
  const read = keyReader(where.in ?? 'header', name);
  return {
    scheme,
    kind: 'apiKey',
    summary: `${scheme}: API key in ${where.in} ${where.name} (key store)`,
    verify(ctx: RequestContext): Verdict {
      const token = read(ctx);
      if (token === null) return ABSENT;
      if (token === false) return fail('api_key_invalid', `${scheme}: the key is given more than once`);
      const verdict = verifyApiKey(token, store.watcher.current(), store.pepper.reveal(), Date.now());
      if (verdict.credentialId !== undefined) ctx.credentialId = `key:${verdict.credentialId}`;
      if (!verdict.ok)
        return fail(verdict.reason, `${scheme}: ${verdict.detail}`, ctx.credentialId ?? undefined);
      hide(ctx, location, name);
      const r = verdict.record;
      const principal: Principal = Object.freeze({
        id: r.owner,
        kind: 'apiKey',
        scheme,
        scopes: Object.freeze([...r.scopes]),
        attributes: Object.freeze({ keyId: r.id, plan: r.plan, owner: r.owner }),
      });
      return { ok: true, principal };
    },
  };
}

/** null: absent; false: ambiguous (repeated). */
function keyReader(location: string, name: string): (ctx: RequestContext) => string | null | false {
  if (location === 'query') {
    return (ctx) => {
      if (ctx.query === '') return null;
      const values = new URLSearchParams(ctx.query).getAll(name);
      if (values.length === 0) return null;
      return values.length > 1 ? false : values[0]!;
    };
  }
  if (location === 'cookie') {
    return (ctx) => {
      const header = ctx.headers.cookie;
      if (header === undefined) return null;
      let found: string | null = null;
      for (const part of header.split(';')) {
        const eq = part.indexOf('=');
        if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
        if (found !== null) return false;
        found = part.slice(eq + 1).trim();
      }
      return found;
    };
  }
  return (ctx) => {
    const value = singleHeader(ctx.rawHeaders, name);
    return value === undefined ? null : value === false ? false : value.trim();
  };
}

/** The key is the gateway's to check, not the upstream's to see (or log): it is not passed on. */
function hide(ctx: RequestContext, location: string, name: string): void {
  if (location === 'header') consumeHeaders(ctx, name);
  else if (location === 'query') consumeQueryParams(ctx, (param) => param === name);
}
