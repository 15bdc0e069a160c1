// shootdown run: one workload under one variant.

import { Command } from 'commander';
import { clockName, summarize } from '../report/summary.ts';
import { lockStatText } from '../stats/lockstat.ts';
import { checkOutputPath } from '../report/json.ts';
import { loadScenario } from '../scenario/load.ts';
import { SCENARIO_ARG, configFor, failed, runFlags, runOptions, runWithSignals, writeOutputs } from './common.ts';
import type { Out } from './common.ts';

export function registerRun(program: Command, out: Out): void {
  runFlags(program.command('run').description('run one workload under one variant').argument('[scenario]', SCENARIO_ARG).option('--variant <name>', 'gather design or mutant (see list)', 'rework')).action(async (file: string | undefined, o: Record<string, unknown>, cmd: Command) => {
    const scenario = file ? loadScenario(file) : null;
    const base = runOptions(scenario, o, cmd, '--variant');
    const config = configFor(scenario, { ...base, variant: o.variant as string });
    if (o.json) checkOutputPath('--json', o.json as string);
    if (o.trace) checkOutputPath('--trace', o.trace as string);
    const r = await runWithSignals(config);
    out(summarize(r));
    if (o.lockStat) out(lockStatText(r.lockStat, clockName(r)));
    writeOutputs(o, r);
    process.exitCode = failed(r) ? 1 : 0;
  });

}
