// shootdown replay: an artifact run again, to the same violation at the same step.

import { Command } from 'commander';
import { runDeterministic } from '../engine/deterministic.ts';
import { modelFingerprint, shortFingerprint } from '../engine/fingerprint.ts';
import { withoutHostFigures } from '../engine/result.ts';
import { readArtifact } from '../report/artifact.ts';
import { explainText } from '../report/explain.ts';
import { summarize } from '../report/summary.ts';
import { checkOutputPath } from '../report/json.ts';
import { failed, writeOutputs } from './common.ts';
import type { Out } from './common.ts';

export function registerReplay(program: Command, out: Out): void {
  program
    .command('replay')
    .description('re-run an artifact: the same violation at the same step')
    .argument('<artifact>', 'a file written by hunt or shrink')
    .option('--json <file>', 'write the result as JSON (host figures left out, so two replays are byte-identical)')
    .option('--trace <file>', 'write the Perfetto trace of the failing run')
    .option('--explain', 'tell, per cpu, what led to the violation')
    .action((file: string, o: Record<string, unknown>) => {
      const a = readArtifact(file);
      // a replay of another model's artifact is still worth running (most changes leave a seed alone), but its verdict is this model's
      const mine = modelFingerprint();
      if (a.fingerprint !== undefined && a.fingerprint !== mine) process.stderr.write(`shootdown: warning: ${file} was made by model ${shortFingerprint(a.fingerprint)}, this is model ${shortFingerprint(mine)}; the replay may differ\n`);
      if (o.json) checkOutputPath('--json', o.json as string);
      if (o.trace) checkOutputPath('--trace', o.trace as string);
      const traced = Boolean(o.trace || o.explain);
      const r = withoutHostFigures(runDeterministic({ ...a.config, traceLimit: traced ? Math.max(a.config.traceLimit, 1_000_000) : 0 }, { replay: a }));
      out(summarize(r));
      const again = r.violations.find((v) => v.rule === a.rule && v.step === a.step);
      out(again ? `reproduced: ${a.rule} at step ${a.step}` : `not reproduced: ${a.rule} was expected at step ${a.step}`);
      if (o.explain) out(explainText(r, a.rule));
      writeOutputs(o, r);
      process.exitCode = failed(r) ? 1 : 0;
    });

}
