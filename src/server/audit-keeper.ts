import type { Gateway } from '../config/gateway.ts';
import type { AuditEntry } from '../observe/audit/record.ts';
import { AuditLog } from '../observe/audit/writer.ts';
import type { Logger } from '../observe/logger.ts';

/**
 * Appends the server's own changes (start, reloads) to the audit trail its config names.
 * `record` returns once the record is durable, and throws when it cannot be written: the
 * caller then refuses the change it was about to make. The log is opened per record (it reads
 * only the tail), so a reload that moves `audit.file` or changes its key takes effect at once.
 */
export class AuditKeeper {
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  record(gateway: Gateway, entry: AuditEntry): void {
    const settings = gateway.audit;
    if (settings === null) return;
    const opened = AuditLog.open(settings.file, { signer: settings.signer });
    if (opened.tornSavedTo !== null) {
      this.#log.warn(
        { audit: settings.file, savedTo: opened.tornSavedTo },
        'audit trail: an incomplete last record (a crash mid-append) was moved aside',
      );
    }
    opened.log.append(entry);
  }
}
