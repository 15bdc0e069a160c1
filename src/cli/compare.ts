// shootdown compare: the same workload and seed under several variants, side by side.

import { Command } from 'commander';
import { RESULT_SCHEMA } from '../engine/result.ts';
import type { CompareFile } from '../report/formats.ts';
import { clockName, compareTable, workloadText } from '../report/summary.ts';
import { lockStatText } from '../stats/lockstat.ts';
import { checkOutputPath, writeJsonAtomic } from '../report/json.ts';
import { loadScenario } from '../scenario/load.ts';
import { SCENARIO_ARG, configFor, failed, runAll, runFlags, runOptions, traceFileFor, variantList, withoutTrace } from './common.ts';
import type { Out } from './common.ts';

export function registerCompare(program: Command, out: Out): void {
  runFlags(program.command('compare').description('the same workload and seed under several variants, side by side').argument('[scenario]', SCENARIO_ARG).option('--variants <list>', 'comma-separated variants', 'legacy,rework')).action(async (file: string | undefined, o: Record<string, unknown>, cmd: Command) => {
    const scenario = file ? loadScenario(file) : null;
    const base = runOptions(scenario, o, cmd, '--variants');
    const preempts = String(base.preempt ?? 'full').split(',').map((p) => p.trim());
    const configs = preempts.flatMap((preempt) => variantList(o).map((variant) => configFor(scenario, { ...base, preempt, variant }, '--variants')));
    const name = (c: (typeof configs)[number]): string => (preempts.length > 1 ? `${c.variant}.${c.preempt}` : c.variant);
    if (o.json) checkOutputPath('--json', o.json as string);
    if (o.trace) checkOutputPath('--trace', o.trace as string);
    const results = await runAll('compare', configs, name);
    if (o.trace) for (const r of results) if (r.trace) writeJsonAtomic(traceFileFor(o.trace as string, name(r.config)), r.trace);
    const c0 = configs[0]!;
    out(`shootdown compare: ${workloadText(c0)}, ${c0.cpus} cpus, --preempt ${preempts.join(',')}, ${c0.mode} mode, seed ${c0.seed}${c0.probe ? ', probe on' : ''}`);
    out(compareTable(results));
    if (o.lockStat) for (const r of results) out(`\n${name(r.config)}:\n${lockStatText(r.lockStat, clockName(r))}`);
    for (const r of results) if (r.error) out(`${name(r.config)}: ${r.error.name}: ${r.error.message}`);
    if (o.json) writeJsonAtomic(o.json as string, { schema: RESULT_SCHEMA, command: 'compare', results: results.map(withoutTrace) } satisfies CompareFile);
    process.exitCode = results.some(failed) ? 1 : 0;
  });

}
