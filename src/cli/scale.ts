// shootdown scale: each cpu count for each variant, as a will-it-scale CSV.

import { Command } from 'commander';
import { BadInput } from '../machine/errors.ts';
import { RESULT_SCHEMA } from '../engine/result.ts';
import type { ScaleFile } from '../report/formats.ts';
import { scaleCsv, scaleRows } from '../report/scale.ts';
import { checkOutputPath, writeJsonAtomic, writeTextAtomic } from '../report/json.ts';
import { loadScenario } from '../scenario/load.ts';
import { SCENARIO_ARG, configFor, failed, runAll, runFlags, runOptions, variantList, withoutTrace } from './common.ts';
import type { Out } from './common.ts';

export function registerScale(program: Command, out: Out): void {
  runFlags(
    program
      .command('scale')
      .description('run each cpu count for each variant; a will-it-scale-style CSV')
      .option('--variants <list>', 'comma-separated variants', 'legacy,rework')
      .option('--csv <file>', 'write the CSV here (default: print it)')
      .argument('[scenario]', SCENARIO_ARG),
  ).action(async (file: string | undefined, o: Record<string, unknown>, cmd: Command) => {
    const scenario = file ? loadScenario(file) : null;
    if (scenario?.options.scenario) throw new BadInput(`${scenario.file}: its tasks are pinned to cpus; scale needs a scenario with a built-in workload`);
    if (scenario?.options.cpus !== undefined) throw new BadInput(`${scenario.file}: machine.cpus is set; scale takes the cpu counts from --cpus, so leave it out of the file`);
    const base = runOptions(scenario, o, cmd, '--variants');
    const counts = String(o.cpus).split(',').map((s) => s.trim());
    const names = variantList(o);
    const configs = counts.flatMap((cpus) => names.map((variant) => configFor(scenario, { ...base, cpus, variant }, '--variants')));
    const cpuCounts = [...new Set(configs.map((c) => c.cpus))];
    if (cpuCounts.length !== counts.length) throw new BadInput(`--cpus ${String(o.cpus)}: a cpu count is repeated`);
    for (const [flag, file] of [['--csv', o.csv], ['--json', o.json], ['--trace', o.trace]] as const) if (file) checkOutputPath(flag, file as string);
    const results = await runAll('scale', configs, (c) => `${c.variant} on ${c.cpus} cpus`);
    const rows = scaleRows(results);
    const csv = scaleCsv(rows);
    if (o.csv) writeTextAtomic(o.csv as string, csv);
    else out(csv.trimEnd());
    for (const r of results) if (r.error) out(`${r.variant} on ${r.config.cpus} cpus: ${r.error.name}: ${r.error.message}`);
    if (o.json) writeJsonAtomic(o.json as string, { schema: RESULT_SCHEMA, command: 'scale', workload: configs[0]!.workload, rows, results: results.map(withoutTrace) } satisfies ScaleFile);
    process.exitCode = results.some(failed) ? 1 : 0;
  });

}
