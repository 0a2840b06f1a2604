import { compileGateway } from '../config/compile.ts';
import { STAGES } from '../core/pipeline-order.ts';
import type { Stage } from '../core/stage.ts';
import { type Command, EXIT } from './args.ts';

export const explainCommand: Command = {
  name: 'explain',
  summary: "Print each operation's compiled pipeline",
  usage: `Usage: rampart explain [config] [--operation <operationId>]

Compile <config> (default: rampart.yaml) and print, for every operation, the fixed pipeline
with what each stage does there; stages not configured for it are marked as such.

Options:
  --operation <id>  only this operationId
  -h, --help        show this help`,
  options: { operation: { type: 'string' } },
  async run(values, positionals) {
    const gateway = compileGateway(positionals[0] ?? 'rampart.yaml', { openLogs: false });
    await gateway.close();
    const wanted = typeof values.operation === 'string' ? values.operation : undefined;
    const ops = gateway.operations.filter((o) => wanted === undefined || o.operationId === wanted);
    if (ops.length === 0) {
      process.stderr.write(`no operation ${wanted ?? ''} in this config\n`);
      return EXIT.findings;
    }
    const entryRequest = gateway.entry.requestStages;
    const out: string[] = [];
    for (const op of ops) {
      const byName = new Map<string, Stage>();
      for (const s of [...entryRequest, ...op.pipeline.stages]) byName.set(s.name, s);
      out.push(`${op.api.name} ${op.method} ${op.route} (${op.operationId})`);
      STAGES.forEach((meta, i) => {
        const stage = byName.get(meta.name);
        const text = stage
          ? `${stage.summary}${stage.mode === 'shadow' ? ' [shadow]' : ''}`
          : '— not configured';
        out.push(`  ${String(i).padStart(2)} ${meta.name.padEnd(10)} ${text}`);
      });
      out.push('');
    }
    process.stdout.write(out.join('\n'));
    return EXIT.ok;
  },
};
