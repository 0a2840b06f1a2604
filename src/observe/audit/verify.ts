import { existsSync, readFileSync } from 'node:fs';
import { type AuditRecord, type AuditSigner, GENESIS, recordHash } from './record.ts';
import { type AuditHead, readHead } from './writer.ts';

export type ProblemKind =
  | 'malformed'
  | 'modified'
  | 'deleted'
  | 'inserted'
  | 'reordered'
  | 'truncated'
  | 'signature'
  | 'torn'
  | 'head';

export interface AuditProblem {
  readonly kind: ProblemKind;
  /** 1-based line in the log (0: the head file). */
  readonly line: number;
  readonly seq: number | null;
  readonly message: string;
  /** `tamper`: the trail was changed; `crash`: an unacknowledged append was cut by a crash. */
  readonly severity: 'tamper' | 'crash' | 'warning';
}

export interface AuditReport {
  readonly file: string;
  /** Complete records read. */
  readonly records: number;
  /** Records whose hash, chain position and signature all check out. */
  readonly verified: number;
  readonly lastSeq: number;
  readonly problems: readonly AuditProblem[];
  /** No tampering found (a torn tail from a crash alone does not make it false). */
  readonly ok: boolean;
}

const FIELDS = ['seq', 'time', 'actor', 'action', 'target', 'prev', 'hash'] as const;

/**
 * Check a whole audit log: every record's hash, its place in the chain, its signature (when a
 * signer is given), the sequence (gaps: deleted; repeats: inserted; out of order: reordered)
 * and the head file (a tail cut short, or replaced). Each problem names the line and record.
 */
export function verifyAuditLog(file: string, options: { signer?: AuditSigner | null } = {}): AuditReport {
  const signer = options.signer ?? null;
  const problems: AuditProblem[] = [];
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const pieces = text.split('\n');
  const torn = pieces.pop() ?? '';
  const records: { record: AuditRecord; line: number }[] = [];
  pieces.forEach((piece, i) => {
    const line = i + 1;
    const parsed = parse(piece);
    if (typeof parsed === 'string') {
      problems.push({ kind: 'malformed', line, seq: null, message: parsed, severity: 'tamper' });
    } else records.push({ record: parsed, line });
  });

  // The sequence: each seq once, from 1, in order.
  const seen = new Map<number, number>();
  let previousSeq = 0;
  for (const { record, line } of records) {
    const first = seen.get(record.seq);
    if (first !== undefined) {
      problems.push({
        kind: 'inserted',
        line,
        seq: record.seq,
        message: `a second record with seq ${record.seq} (the first is on line ${first}): a record was inserted`,
        severity: 'tamper',
      });
    } else if (record.seq < previousSeq) {
      problems.push({
        kind: 'reordered',
        line,
        seq: record.seq,
        message: `seq ${record.seq} comes after seq ${previousSeq}: records were reordered`,
        severity: 'tamper',
      });
    } else if (record.seq > previousSeq + 1 && !records.some((r) => r.record.seq === previousSeq + 1)) {
      problems.push({
        kind: 'deleted',
        line,
        seq: record.seq,
        message:
          record.seq === previousSeq + 2
            ? `record ${previousSeq + 1} is missing before seq ${record.seq}: it was deleted`
            : `records ${previousSeq + 1}–${record.seq - 1} are missing before seq ${record.seq}: they were deleted`,
        severity: 'tamper',
      });
    }
    if (first === undefined) seen.set(record.seq, line);
    previousSeq = Math.max(previousSeq, record.seq);
  }

  // Each record's own hash, signature and link to the one before it in the file.
  let verified = 0;
  let prev = GENESIS;
  let prevSeq = 0;
  for (const { record, line } of records) {
    let good = true;
    if (recordHash(record) !== record.hash) {
      good = false;
      problems.push({
        kind: 'modified',
        line,
        seq: record.seq,
        message: `record ${record.seq} does not match its hash: it was modified`,
        severity: 'tamper',
      });
    } else if (record.prev !== prev && record.seq === prevSeq + 1) {
      good = false;
      problems.push({
        kind: 'modified',
        line,
        seq: record.seq,
        message:
          prevSeq === 0
            ? `record ${record.seq} is first but does not start the chain`
            : `record ${record.seq} does not follow record ${prevSeq}'s hash: record ${prevSeq} was modified or replaced`,
        severity: 'tamper',
      });
    } else if (record.prev !== prev) {
      good = false; // already reported as deleted, inserted or reordered
    }
    if (signer !== null && (record.sig === undefined || !signer.check(record.hash, record.sig))) {
      good = false;
      problems.push({
        kind: 'signature',
        line,
        seq: record.seq,
        message: `record ${record.seq} ${record.sig === undefined ? 'is not signed' : 'has a signature that does not verify'}`,
        severity: 'tamper',
      });
    }
    if (good) verified++;
    prev = record.hash;
    prevSeq = record.seq;
  }

  const last = records.at(-1)?.record ?? null;
  if (torn !== '') {
    problems.push({
      kind: 'torn',
      line: pieces.length + 1,
      seq: null,
      message: `the last line is incomplete (${Buffer.byteLength(torn)} bytes, no newline): an append cut short by a crash, never acknowledged`,
      severity: 'crash',
    });
  }
  problems.push(...checkHead(file, last, records.length, signer));
  return {
    file,
    records: records.length,
    verified,
    lastSeq: last?.seq ?? 0,
    problems,
    ok: !problems.some((p) => p.severity === 'tamper'),
  };
}

function checkHead(
  file: string,
  last: AuditRecord | null,
  count: number,
  signer: AuditSigner | null,
): AuditProblem[] {
  let head: AuditHead | null;
  try {
    head = readHead(file);
  } catch {
    return [
      { kind: 'head', line: 0, seq: null, message: `${file}.head is not valid JSON`, severity: 'tamper' },
    ];
  }
  if (head === null) {
    if (count === 0) return [];
    return [
      {
        kind: 'head',
        line: 0,
        seq: null,
        message: `${file}.head is missing: a truncated tail cannot be ruled out`,
        severity: 'tamper',
      },
    ];
  }
  const lastSeq = last?.seq ?? 0;
  const out: AuditProblem[] = [];
  if (signer !== null && (head.sig === undefined || !signer.check(head.hash, head.sig))) {
    out.push({
      kind: 'signature',
      line: 0,
      seq: head.seq,
      message: 'the head file is not validly signed',
      severity: 'tamper',
    });
  }
  if (head.seq > lastSeq) {
    out.push({
      kind: 'truncated',
      line: 0,
      seq: head.seq,
      message:
        head.seq === lastSeq + 1
          ? `the log ends at seq ${lastSeq} but its head names seq ${head.seq}: the last record was removed (truncated tail)`
          : `the log ends at seq ${lastSeq} but its head names seq ${head.seq}: records ${lastSeq + 1}–${head.seq} were removed (truncated tail)`,
      severity: 'tamper',
    });
  } else if (head.seq === lastSeq && last !== null && head.hash !== last.hash) {
    out.push({
      kind: 'modified',
      line: 0,
      seq: head.seq,
      message: `record ${head.seq} is not the one the head names: the tail was replaced`,
      severity: 'tamper',
    });
  } else if (head.seq === lastSeq - 1) {
    out.push({
      kind: 'head',
      line: 0,
      seq: lastSeq,
      message: `the head names seq ${head.seq}, one behind the log: a crash between an append and its head update`,
      severity: 'warning',
    });
  } else if (head.seq < lastSeq) {
    out.push({
      kind: 'inserted',
      line: 0,
      seq: head.seq + 1,
      message: `records ${head.seq + 1}–${lastSeq} follow the head's seq ${head.seq}: appended without the writer`,
      severity: 'tamper',
    });
  }
  return out;
}

function parse(line: string): AuditRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'not a JSON record';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const r = value as Record<string, unknown>;
  for (const f of FIELDS) if (r[f] === undefined) return `the record has no "${f}"`;
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 1) return 'seq is not a positive integer';
  if (typeof r.hash !== 'string' || typeof r.prev !== 'string') return 'hash and prev must be strings';
  return value as AuditRecord;
}
