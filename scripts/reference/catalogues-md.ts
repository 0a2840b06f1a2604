import { ERRORS } from '../../src/core/errors.ts';
import { REASONS } from '../../src/core/reasons.ts';
import { code, generatedHeader, table } from './markdown.ts';

/** docs/reference/errors.md: the operator error catalogue (`RAMPART_ERR_*`), in catalogue order. */
export function errorsReference(): string {
  const rows = Object.entries(ERRORS).map(([name, meaning]) => [code(name), meaning]);
  return `${[
    generatedHeader('Error codes', 'src/core/errors.ts'),
    '',
    'Errors an operator acts on: a config that does not load, a command line that is wrong, a',
    'listener that cannot bind. Each has a stable code `RAMPART_ERR_<AREA>_<WHAT>`. The CLI prints',
    'the code and a summary, then one line per problem: `file:line:column field: message`',
    '(see [Configuration](../concepts/configuration.md#validation-errors) and the exit codes in',
    '[CLI](../cli.md#exit-codes)). Decisions about requests use [reason codes](reasons.md) instead.',
    '',
    table(['code', 'meaning'], rows),
  ].join('\n')}\n`;
}

/** docs/reference/reasons.md: the request decision reasons, with the status each one answers. */
export function reasonsReference(): string {
  const rows = Object.entries(REASONS).map(([name, { status, doc }]) => [
    code(name),
    status === 0 ? "the upstream's 5xx" : String(status),
    doc,
  ]);
  return `${[
    generatedHeader('Reason codes', 'src/core/reasons.ts'),
    '',
    'Every decision the gateway takes about a request has a stable snake_case reason. Reasons go',
    'to the access log (`reason`, and `decisions` for each stage that decided) — never into the',
    'response: clients get an `application/problem+json` body with the generic status title and',
    'the request id only (see [Pipeline](../concepts/pipeline.md)). Status 499 is never sent; it',
    'marks an exchange the client abandoned.',
    '',
    table(['reason', 'status', 'meaning'], rows),
  ].join('\n')}\n`;
}
