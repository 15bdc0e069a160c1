// The shootdown command. Exit codes: 0 clean, 1 a violation or a failed run,
// 2 bad input (one line naming the problem, never a stack trace).

import { Command, CommanderError, Option } from 'commander';
import { BadInput } from './machine/errors.ts';
import { makeConfig, type RunOptions } from './engine/configure.ts';
import { runOnce } from './engine/run.ts';
import { RESULT_SCHEMA, type RunResult } from './engine/result.ts';
import type { CompareFile, ScaleFile } from './report/formats.ts';
import { scaleCsv, scaleRows } from './report/scale.ts';
import { startProgress } from './report/progress.ts';
import { loadReportInputs, writeHtmlReport } from './report/html.ts';
import { clockName, compareTable, listText, summarize } from './report/summary.ts';
import { lockStatText } from './stats/lockstat.ts';
import { checkOutputPath, writeJsonAtomic, writeTextAtomic } from './report/json.ts';

const EXIT_BAD_INPUT = 2;

function runFlags(cmd: Command): Command {
  return cmd
    .option('--workload <name>', 'munmap, exit, madvise or mix', 'munmap')
    .option('--pages <n>', 'pages the workload maps (default: munmap 1000, exit 1000 per task, madvise 256 per task, mix 128 per task)')
    .option('--cpus <n>', 'simulated cpus', '4')
    .option('--tasks-per-cpu <n>', 'user tasks per cpu', '1')
    .option('--mms <n>', 'address spaces the user tasks are spread over', '1')
    .addOption(new Option('--preempt <model>', 'none, voluntary or full').default('full'))
    .option('--immap-lock <type>', 'i_mmap lock: spinlock (2.6.38) or mutex (after the series)', 'spinlock')
    .option('--probe', 'a cyclictest-like latency probe thread per cpu')
    .option('--no-kworker', 'no per-cpu kernel thread (it makes cpus lazy on the last user mm)')
    .option('--no-latency-stats', 'no latency histograms (to measure what they cost)')
    .option('--duration <time>', 'mix: stop starting rounds after this long (10s, 500ms)')
    .option('--rounds <n>', 'mix: rounds per task', '10')
    .addOption(new Option('--crash <cpu:step>', 'test hook: that cpu throws at that step').hideHelp())
    .option('--alloc-fail <policy>', 'GFP_NOWAIT batch-page allocation: never, always, once (the first on each cpu) or a probability', 'never')
    .option('--mode <mode>', 'deterministic or parallel', 'deterministic')
    .option('--seed <n>', 'seed of the deterministic scheduler and of the workload', '1')
    .option('--memory <size>', 'physical memory, e.g. 64M (default: twice what the workload needs)')
    .option('--tlb-entries <n>', 'TLB entries per cpu', '64')
    .option('--overlap', 'madvise: subranges of neighbouring tasks overlap')
    .option('--reader-accesses <n>', 'upper bound on reads per reader task', '1000000')
    .option('--max-steps <n>', 'deterministic step budget', '500000000')
    .option('--lockup-ms <n>', 'a spin or wait longer than this is a soft lockup', '2000')
    .option('--strategy <name>', 'deterministic scheduler: random or pct', 'random')
    .option('--depth <d>', 'pct: bug depth (priority change points + 1)', '3')
    .option('--pct-steps <k>', 'pct: steps a run is expected to take (where change points fall)')
    .option('--lock-stat', 'print lock_stat for every lock class')
    .option('--trace <file>', 'write a Chrome trace / Perfetto JSON of the run (compare: one file per variant, named FILE.variant.json)')
    .option('--trace-limit <n>', 'trace events each cpu may record', '200000')
    .option('--json <file>', 'write the result as JSON');
}

function options(o: Record<string, unknown>): RunOptions {
  return {
    workload: o.workload as string,
    pages: o.pages as string,
    cpus: o.cpus as string,
    preempt: o.preempt as string,
    allocFail: o.allocFail as string,
    mode: o.mode as string,
    seed: o.seed as string,
    memory: o.memory as string | undefined,
    tlbEntries: o.tlbEntries as string,
    overlap: Boolean(o.overlap),
    readerAccesses: o.readerAccesses as string,
    maxSteps: o.maxSteps as string,
    lockupMs: o.lockupMs as string,
    tasksPerCpu: o.tasksPerCpu as string,
    mms: o.mms as string,
    immapLock: o.immapLock as string,
    probe: Boolean(o.probe),
    kworker: o.kworker !== false,
    latencyStats: o.latencyStats !== false,
    duration: o.duration as string | undefined,
    rounds: o.rounds as string,
    crash: o.crash as string | undefined,
    trace: o.trace !== undefined,
    strategy: o.strategy as string,
    depth: o.depth as string,
    pctSteps: o.pctSteps as string | undefined,
    traceLimit: o.traceLimit as string,
  };
}

/** The result JSON never carries the trace; the trace goes to its own file. */
function withoutTrace(r: RunResult): RunResult {
  const { trace: _trace, ...rest } = r;
  return rest;
}

function writeOutputs(o: Record<string, unknown>, r: RunResult): void {
  if (o.trace && r.trace) writeJsonAtomic(o.trace as string, r.trace);
  if (o.json) writeJsonAtomic(o.json as string, withoutTrace(r));
}

/** compare --trace out.json writes out.legacy.json, out.rework.json. */
function traceFileFor(file: string, variant: string): string {
  return file.endsWith('.json') ? `${file.slice(0, -5)}.${variant}.json` : `${file}.${variant}.json`;
}

function failed(r: RunResult): boolean {
  return r.violations.length > 0 || r.error !== null;
}

export function buildProgram(out: (s: string) => void): Command {
  const program = new Command('shootdown')
    .description('SMP emulator of the Linux unmap and TLB-shootdown paths, 2.6.38 against "mm: mmu_gather rework"')
    .exitOverride()
    .configureOutput({ writeOut: (s) => out(s.trimEnd()), writeErr: () => {} })
    .showHelpAfterError(false);

  runFlags(program.command('run').description('run one workload under one variant').option('--variant <name>', 'gather design or mutant (see list)', 'rework')).action(async (o: Record<string, unknown>) => {
    const config = makeConfig({ ...options(o), variant: o.variant as string });
    if (o.json) checkOutputPath('--json', o.json as string);
    if (o.trace) checkOutputPath('--trace', o.trace as string);
    const r = await runWithSignals(config);
    out(summarize(r));
    if (o.lockStat) out(lockStatText(r.lockStat, clockName(r)));
    writeOutputs(o, r);
    process.exitCode = failed(r) ? 1 : 0;
  });

  runFlags(program.command('compare').description('the same workload and seed under several variants, side by side').option('--variants <list>', 'comma-separated variants', 'legacy,rework')).action(async (o: Record<string, unknown>) => {
    const names = String(o.variants).split(',').map((s) => s.trim()).filter(Boolean);
    if (names.length === 0) throw new BadInput('--variants: empty list');
    const configs = names.map((variant) => makeConfig({ ...options(o), variant }, '--variants'));
    if (o.json) checkOutputPath('--json', o.json as string);
    if (o.trace) checkOutputPath('--trace', o.trace as string);
    const results: RunResult[] = [];
    const progress = startProgress('compare', configs.length);
    try {
      for (const c of configs) {
        results.push(await runWithSignals(c));
        progress.tick(c.variant);
      }
    } finally {
      progress.stop();
    }
    if (o.trace) for (const r of results) if (r.trace) writeJsonAtomic(traceFileFor(o.trace as string, r.variant), r.trace);
    const c0 = configs[0]!;
    out(`shootdown compare: workload ${c0.workload}, --pages ${c0.pages}, ${c0.cpus} cpus, --preempt ${c0.preempt}, ${c0.mode} mode, seed ${c0.seed}`);
    out(compareTable(results));
    if (o.lockStat) for (const r of results) out(`\n${r.variant}:\n${lockStatText(r.lockStat, clockName(r))}`);
    for (const r of results) if (r.error) out(`${r.variant}: ${r.error.name}: ${r.error.message}`);
    if (o.json) writeJsonAtomic(o.json as string, { schema: RESULT_SCHEMA, command: 'compare', results: results.map(withoutTrace) } satisfies CompareFile);
    process.exitCode = results.some(failed) ? 1 : 0;
  });

  runFlags(
    program
      .command('scale')
      .description('run each cpu count for each variant; a will-it-scale-style CSV')
      .option('--variants <list>', 'comma-separated variants', 'legacy,rework')
      .option('--csv <file>', 'write the CSV here (default: print it)'),
  ).action(async (o: Record<string, unknown>) => {
    const counts = String(o.cpus).split(',').map((s) => s.trim());
    const names = String(o.variants).split(',').map((s) => s.trim()).filter(Boolean);
    if (names.length === 0) throw new BadInput('--variants: empty list');
    const configs = counts.flatMap((cpus) => names.map((variant) => makeConfig({ ...options(o), cpus, variant }, '--variants')));
    const cpuCounts = [...new Set(configs.map((c) => c.cpus))];
    if (cpuCounts.length !== counts.length) throw new BadInput(`--cpus ${String(o.cpus)}: a cpu count is repeated`);
    for (const [flag, file] of [['--csv', o.csv], ['--json', o.json], ['--trace', o.trace]] as const) if (file) checkOutputPath(flag, file as string);
    const results: RunResult[] = [];
    const progress = startProgress('scale', configs.length);
    try {
      for (const c of configs) {
        results.push(await runWithSignals(c));
        progress.tick(`${c.variant} on ${c.cpus} cpus`);
      }
    } finally {
      progress.stop();
    }
    const rows = scaleRows(results);
    const csv = scaleCsv(rows);
    if (o.csv) writeTextAtomic(o.csv as string, csv);
    else out(csv.trimEnd());
    for (const r of results) if (r.error) out(`${r.variant} on ${r.config.cpus} cpus: ${r.error.name}: ${r.error.message}`);
    if (o.json) writeJsonAtomic(o.json as string, { schema: RESULT_SCHEMA, command: 'scale', workload: configs[0]!.workload, rows, results: results.map(withoutTrace) } satisfies ScaleFile);
    process.exitCode = results.some(failed) ? 1 : 0;
  });

  program
    .command('report')
    .description('one self-contained HTML page from run, compare and scale JSON files')
    .argument('<files...>', 'result files written with --json')
    .requiredOption('--html <file>', 'the page to write')
    .action((files: string[], o: Record<string, unknown>) => {
      const inputs = loadReportInputs(files);
      writeHtmlReport(o.html as string, inputs);
      out(`shootdown report: ${inputs.length} file${inputs.length === 1 ? '' : 's'} -> ${o.html as string}`);
    });

  program
    .command('list')
    .description('variants, workloads and oracle rules')
    .action(() => out(listText()));
  return program;
}

/** Ctrl-C or SIGTERM stops the run at the next slice; what was measured is still reported. */
async function runWithSignals(config: ReturnType<typeof makeConfig>): Promise<RunResult> {
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await runOnce(config, ac.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram((s) => process.stdout.write(s + '\n'));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      process.stderr.write(`shootdown: ${e.message.replace(/^error: /, '')}\n`);
      return EXIT_BAD_INPUT;
    }
    if (e instanceof BadInput) {
      process.stderr.write(`shootdown: ${e.message}\n`);
      return EXIT_BAD_INPUT;
    }
    process.stderr.write(`shootdown: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
