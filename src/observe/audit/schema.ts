import { Type } from '@sinclair/typebox';
import { FilePath, SecretRef, Strict } from '../../config/typedefs.ts';

/** `audit:` — the tamper-evident trail of every configuration and key change. */
export const AuditConfig = Strict(
  {
    file: Type.Optional(
      FilePath(
        'Append-only audit trail (JSON lines, hash-chained, with a `.head` file beside it), relative to this config. Reloads and `rampart keys` changes are recorded in it; without it, nothing is.',
      ),
    ),
    hmacKey: Type.Optional(
      SecretRef(
        'Sign each record with HMAC-SHA-256 under this key (at least 32 bytes): a rewrite then needs the key.',
      ),
    ),
    ed25519Key: Type.Optional(
      SecretRef(
        'Sign each record with this Ed25519 private key (PEM); `rampart audit verify --public-key` checks with the public key alone.',
      ),
    ),
  },
  { default: {}, description: 'The audit trail of configuration and key changes.' },
);
