// shootdown shrink: a failing case made smaller while the same rule fires.

import { Command } from 'commander';
import { dirname } from 'node:path';
import { shrink } from '../engine/shrink.ts';
import { readArtifact, writeArtifact } from '../report/artifact.ts';
import { checkOutputPath, writeJsonAtomic } from '../report/json.ts';
import { positiveInt } from './common.ts';
import type { Out } from './common.ts';

export function registerShrink(program: Command, out: Out): void {
  program
    .command('shrink')
    .description('make a failing case smaller while the same rule still fires')
    .argument('<artifact>', 'a file written by hunt')
    .option('--seeds <n>', 'seeds tried for each smaller case', '100')
    .option('--out <file>', 'where the smallest artifact goes (default: beside the input)')
    .action((file: string, o: Record<string, unknown>) => {
      const a = readArtifact(file);
      const seeds = positiveInt('--seeds', o.seeds);
      if (o.out) checkOutputPath('--out', o.out as string);
      const c = a.config;
      out(`shrinking ${a.rule} from --cpus ${c.cpus} --tasks-per-cpu ${c.tasksPerCpu} --pages ${c.pages}, seed ${c.seed}`);
      const { artifact } = shrink(a, seeds, (s) => out(`  ${s.change}: still ${a.rule} at seed ${s.seed}`));
      const target = (o.out as string | undefined) ?? writeArtifact(dirname(file), artifact);
      if (o.out) writeJsonAtomic(target, artifact);
      const s = artifact.config;
      out(`smallest: --cpus ${s.cpus} --tasks-per-cpu ${s.tasksPerCpu} --mms ${s.mms} --pages ${s.pages} --reader-accesses ${s.readerAccesses}, seed ${s.seed}, ${a.rule} at step ${artifact.step} -> ${target}`);
      process.exitCode = 0;
    });

}
