import { existsSync } from 'node:fs';
import { STAGES } from '../../src/core/pipeline-order.ts';
import { code, generatedHeader, table } from './markdown.ts';

const ROOT = new URL('../../', import.meta.url);

/** A stage is available in this build when its folder exists (ARCHITECTURE §5: src/stages/<stage>). */
function available(name: string): boolean {
  return existsSync(new URL(`src/stages/${name}`, ROOT));
}

/** docs/reference/pipeline.md: the fixed order from src/core/pipeline-order.ts, as a table and a diagram. */
export function pipelineReference(): string {
  const rows = STAGES.map((stage, i) => [
    String(i),
    code(stage.name),
    stage.does,
    stage.replies.length > 0 ? stage.replies.join(', ') : '—',
    available(stage.name) ? 'yes' : 'planned',
  ]);
  return `${[
    generatedHeader('Pipeline stages', 'src/core/pipeline-order.ts'),
    '',
    'The fixed order every request goes through. Configuration turns stages on and tunes them;',
    'it never reorders them. A stage either lets the request continue or replies with one of the',
    'statuses listed. "available" says whether the stage exists in this build; planned stages',
    'are slots in the order already. See [Pipeline](../concepts/pipeline.md) for the stage',
    'contract and `rampart explain` for the compiled chain of each operation.',
    '',
    table(['#', 'stage', 'does', 'replies', 'available'], rows),
    '',
    '```text',
    diagram(),
    '```',
    '',
    'Stages up to `route` form the entry pipeline that every request runs. The rest run from the',
    "matched operation's chain. A request that is refused before it matches an operation still",
    'gets the `response` hardening and an access log line.',
  ].join('\n')}\n`;
}

function diagram(): string {
  const routeIndex = STAGES.findIndex((s) => s.name === 'route');
  const width = Math.max(...STAGES.map((s) => s.name.length)) + 2;
  const replies = (list: readonly number[]) => (list.length > 0 ? `──► ${list.join(' ')}` : '');
  const repliesWidth = Math.max(...STAGES.map((s) => replies(s.replies).length)) + 2;
  const block = (from: number, to: number, label: string): string[] =>
    STAGES.slice(from, to).map((stage, k, all) => {
      const i = from + k;
      const mark = all.length === 1 ? '─' : k === 0 ? '┐' : k === all.length - 1 ? '┘' : '│';
      const text = `${String(i).padStart(4)}  ${stage.name.padEnd(width)}${replies(stage.replies).padEnd(repliesWidth)}${mark}`;
      return (k === 0 ? `${text} ${label}` : text).trimEnd();
    });
  return [
    '  request',
    '     │',
    '     ▼',
    ...block(0, routeIndex + 1, 'entry pipeline: every request'),
    '     │  operation matched',
    '     ▼',
    ...block(routeIndex + 1, STAGES.length, "the operation's chain"),
    '     │',
    '     ▼',
    '  response sent, access log written',
  ].join('\n');
}
