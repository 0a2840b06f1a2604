import { userInfo } from 'node:os';

/** Who runs a command, for the audit trail: `cli:<login name>` (or the uid when it has none). */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return `cli:uid-${process.getuid?.() ?? 'unknown'}`;
  }
}
