import { resolve } from 'node:path';
import type { Config } from '../../config/schema.ts';
import { resolveSecret } from '../../config/secrets.ts';
import type { YamlSource } from '../../config/yaml-source.ts';
import { configError } from '../../core/errors.ts';
import { type AuditSigner, ed25519Signer, hmacSigner } from './record.ts';

export interface AuditSettings {
  readonly file: string;
  readonly signer: AuditSigner | null;
}

/** The config's audit trail, its key resolved and checked at load; null when `audit.file` is unset. */
export function auditSettings(config: Config, source: YamlSource, dir: string): AuditSettings | null {
  const audit = config.audit;
  if (audit.file === undefined) {
    if (audit.hmacKey !== undefined || audit.ed25519Key !== undefined) {
      throw configError('RAMPART_ERR_CONFIG_SCHEMA', {
        location: source.locate(['audit']),
        field: 'audit.file',
        message: 'a signing key is set but no audit file to sign: set audit.file',
      });
    }
    return null;
  }
  if (audit.hmacKey !== undefined && audit.ed25519Key !== undefined) {
    throw configError('RAMPART_ERR_CONFIG_SCHEMA', {
      location: source.locate(['audit', 'ed25519Key']),
      field: 'audit.ed25519Key',
      message: 'set one signing key: hmacKey or ed25519Key, not both',
    });
  }
  const field =
    audit.hmacKey !== undefined ? 'hmacKey' : audit.ed25519Key !== undefined ? 'ed25519Key' : null;
  let signer: AuditSigner | null = null;
  if (field !== null) {
    const ref = audit[field]!;
    const secret = resolveSecret(ref, dir, `audit.${field}`, source.locate(['audit', field]));
    try {
      signer = field === 'hmacKey' ? hmacSigner(secret.reveal()) : ed25519Signer(secret.reveal());
    } catch (err) {
      throw configError('RAMPART_ERR_CONFIG_SECRET', {
        location: source.locate(['audit', field]),
        field: `audit.${field}`,
        message: `cannot sign with it: ${(err as Error).message}`,
      });
    }
  }
  return { file: resolve(dir, audit.file), signer };
}
