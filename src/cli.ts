// The shootdown command. Exit codes: 0 clean, 1 a violation or a failed run,
// 2 bad input (one line naming the problem, never a stack trace).

import { Command, CommanderError, Option } from 'commander';
import { BadInput } from './machine/errors.ts';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { makeConfig, parseDuration, type RunOptions } from './engine/configure.ts';
import { runCampaign, makeArtifact, type CampaignResult, type FoundGroup } from './engine/campaign.ts';
import { runDeterministic } from './engine/deterministic.ts';
import { DecisionLog, pctBound } from './engine/strategy.ts';
import { exploreBounded } from './engine/bounded.ts';
import type { Artifact } from './engine/campaign.ts';
import { shrink } from './engine/shrink.ts';
import { artifactName, readArtifact, writeArtifact } from './report/artifact.ts';
import { explainText } from './report/explain.ts';
import { runOnce } from './engine/run.ts';
import { RESULT_SCHEMA, type RunResult } from './engine/result.ts';
import type { RunConfig } from './machine/config.ts';
import type { CompareFile, ScaleFile } from './report/formats.ts';
import { scaleCsv, scaleRows } from './report/scale.ts';
import { startProgress } from './report/progress.ts';
import { loadReportInputs, writeHtmlReport } from './report/html.ts';
import { clockName, compareTable, listText, summarize, workloadText } from './report/summary.ts';
import { lockStatText } from './stats/lockstat.ts';
import { checkOutputPath, folderBeside, OutputFailed, STDOUT_PATH, writeJsonAtomic, writeTextAtomic } from './report/json.ts';
import { inFileTerms, loadScenario, type Scenario } from './scenario/load.ts';
import { WORKLOADS } from './workloads/index.ts';
import type { Campaign } from './queue/blocks.ts';
import { defaultBlockSeeds, followCampaign, openCampaign, startCampaign, type QueueCampaignResult } from './queue/coordinator.ts';
import { QueueFailed, parseQueueUrl } from './queue/redis.ts';
import { LOCK_MS_DEFAULT, runQueueWorker } from './queue/worker.ts';

const EXIT_BAD_INPUT = 2;
const SCENARIO_ARG = 'a scenario file (YAML: machine, workload or tasks, variants; see examples/)';

function runFlags(cmd: Command): Command {
  return cmd
    .option('--workload <name>', `a built-in workload: ${WORKLOADS.map((w) => w.name).join(', ')} (see list)`, 'munmap')
    .option('--pages <n>', `pages the workload maps (default: ${WORKLOADS.map((w) => `${w.name} ${w.defaultPages}`).join(', ')})`)
    .option('--cpus <n>', 'simulated cpus', '4')
    .option('--tasks-per-cpu <n>', 'user tasks per cpu', '1')
    .option('--mms <n>', 'address spaces the user tasks are spread over', '1')
    .addOption(new Option('--preempt <model>', 'none, voluntary or full').default('full'))
    .option('--immap-lock <type>', 'i_mmap lock: spinlock (2.6.38) or mutex (after the series)', 'spinlock')
    .option('--probe', 'a cyclictest-like latency probe thread per cpu')
    .option('--no-kworker', 'no per-cpu kernel thread (it makes cpus lazy on the last user mm)')
    .option('--no-latency-stats', 'no latency histograms (to measure what they cost)')
    .option('--duration <time>', 'looping workloads: stop starting rounds after this long (10s, 500ms)')
    .option('--rounds <n>', 'looping workloads: rounds per task', '10')
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
    .option('--strategy <name>', 'deterministic scheduler: random or pct (hunt: also bounded)', 'random')
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

/** RunOptions keys a scenario file may set, with the flag that sets them too. */
const SCENARIO_FLAGS: Partial<Record<keyof RunOptions, string>> = {
  workload: '--workload', pages: '--pages', cpus: '--cpus', preempt: '--preempt', allocFail: '--alloc-fail', mode: '--mode', seed: '--seed', memory: '--memory',
  tlbEntries: '--tlb-entries', overlap: '--overlap', readerAccesses: '--reader-accesses', tasksPerCpu: '--tasks-per-cpu', mms: '--mms', immapLock: '--immap-lock',
  probe: '--probe', kworker: '--no-kworker', duration: '--duration', rounds: '--rounds',
};

/**
 * The run options of a command: its flags, and over their defaults what the
 * scenario file sets. A flag given on the command line for something the
 * file sets as well is a conflict, not a silent override.
 */
function runOptions(scenario: Scenario | null, o: Record<string, unknown>, cmd: Command, variantFlag: '--variant' | '--variants'): RunOptions {
  const flags = options(o);
  if (!scenario) return flags;
  const merged: RunOptions = { ...flags };
  for (const [key, value] of Object.entries(scenario.options) as [keyof RunOptions, never][]) {
    const flag = SCENARIO_FLAGS[key];
    if (flag) {
      const optionKey = flag === '--no-kworker' ? 'kworker' : flag.slice(2).replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
      if (cmd.getOptionValueSource(optionKey) === 'cli') throw new BadInput(`${flag}: ${scenario.file} sets this already; drop the flag or edit the file`);
    }
    merged[key] = value;
  }
  if (scenario.options.scenario && cmd.getOptionValueSource('workload') === 'cli') throw new BadInput(`--workload: ${scenario.file} gives its own tasks; drop the flag`);
  if (scenario.variants && cmd.getOptionValueSource(variantFlag.slice(2)) !== 'cli') {
    if (variantFlag === '--variants') o.variants = scenario.variants.join(',');
    else o.variant = scenario.variants[0];
  }
  return merged;
}

/** makeConfig, with a refusal of what a scenario file set told as `file:line: field: ...`. */
function configFor(scenario: Scenario | null, o: RunOptions, variantFlag: '--variant' | '--variants' = '--variant'): RunConfig {
  try {
    return makeConfig(o, variantFlag);
  } catch (e) {
    throw scenario && e instanceof BadInput ? inFileTerms(scenario, e) : e;
  }
}

function variantList(o: Record<string, unknown>): string[] {
  const names = String(o.variants).split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new BadInput('--variants: empty list');
  return names;
}

/** Run each config in turn, with a progress bar when it takes a while. */
async function runAll(label: string, configs: RunConfig[], what: (c: RunConfig) => string): Promise<RunResult[]> {
  const results: RunResult[] = [];
  const progress = startProgress(label, configs.length);
  try {
    for (const c of configs) {
      if (interrupts.signal.aborted) break; // the runs done so far are reported
      results.push(await runWithSignals(c));
      progress.tick(what(c));
    }
  } finally {
    progress.stop();
  }
  return results;
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

function positiveInt(flag: string, v: unknown, max = Number.MAX_SAFE_INTEGER): number {
  const s = String(v).trim();
  if (!/^\d+$/.test(s) || Number(s) < 1) throw new BadInput(`${flag} ${JSON.stringify(String(v))}: must be a positive integer`);
  if (Number(s) > max) throw new BadInput(`${flag} ${s}: must be at most ${max}`);
  return Number(s);
}

function nonNegativeInt(flag: string, v: unknown): number {
  const s = String(v).trim();
  if (!/^\d+$/.test(s)) throw new BadInput(`${flag} ${JSON.stringify(String(v))}: must be a whole number`);
  return Number(s);
}

function parseShard(v: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  if (!m || Number(m[2]) < 1 || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new BadInput(`--shard ${JSON.stringify(v)}: must be i/n with 1 <= i <= n`);
  return { index: Number(m[1]), count: Number(m[2]) };
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

  runFlags(program.command('compare').description('the same workload and seed under several variants, side by side').argument('[scenario]', SCENARIO_ARG).option('--variants <list>', 'comma-separated variants', 'legacy,rework')).action(async (file: string | undefined, o: Record<string, unknown>, cmd: Command) => {
    const scenario = file ? loadScenario(file) : null;
    const base = runOptions(scenario, o, cmd, '--variants');
    const configs = variantList(o).map((variant) => configFor(scenario, { ...base, variant }, '--variants'));
    if (o.json) checkOutputPath('--json', o.json as string);
    if (o.trace) checkOutputPath('--trace', o.trace as string);
    const results = await runAll('compare', configs, (c) => c.variant);
    if (o.trace) for (const r of results) if (r.trace) writeJsonAtomic(traceFileFor(o.trace as string, r.variant), r.trace);
    const c0 = configs[0]!;
    out(`shootdown compare: ${workloadText(c0)}, ${c0.cpus} cpus, --preempt ${c0.preempt}, ${c0.mode} mode, seed ${c0.seed}`);
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

  runFlags(
    program
      .command('hunt')
      .description('many seeds of the deterministic scheduler; each distinct violation once, with an artifact to replay')
      .option('--variant <name>', 'gather design or mutant (see list)', 'rework')
      .option('--seeds <n>', 'seeds to try (default 1000, or unlimited with --time)')
      .option('--time <duration>', 'stop starting seeds after this long (30s, 5m)')
      .option('--first-seed <n>', 'the first seed', '1')
      .option('--jobs <n>', 'worker threads (default: every core)')
      .option('--stop-on-first', 'stop at the first failing seed')
      .option('--shard <i/n>', 'run only this shard of the seed space')
      .option('--artifacts <dir>', 'where artifacts go (default: beside --json, or here)')
      .option('--preemptions <k>', 'bounded: at most this many preemptions per schedule', '1')
      .option('--max-schedules <n>', 'bounded: stop after this many schedules', '100000')
      .option('--queue <url>', 'run the campaign on `shootdown worker`s through Redis: redis://[:password@]host:port/db, or rediss:// for TLS')
      .option('--campaign <id>', 'with --queue: follow a campaign already started (after the coordinator was stopped, or from another machine)')
      .option('--block-seeds <n>', 'with --queue: seeds per block (default: the seeds in about 64 blocks, at most 500)')
      .argument('[scenario]', SCENARIO_ARG),
  ).action(async (file: string | undefined, o: Record<string, unknown>, cmd: Command) => {
    if (o.queue !== undefined || o.campaign !== undefined) return huntOnQueue(file, o, cmd);
    const scenario = file ? loadScenario(file) : null;
    const base = runOptions(scenario, o, cmd, '--variant');
    if (o.strategy === 'bounded') return huntBounded(scenario, base, o);
    const config = configFor(scenario, { ...base, variant: o.variant as string });
    if (config.mode !== 'deterministic') throw new BadInput('--mode parallel: hunt explores schedules, which only deterministic mode chooses');
    const timeMs = o.time === undefined ? Infinity : parseDuration('--time', o.time as string);
    const seeds = o.seeds === undefined ? (o.time === undefined ? 1000 : Number.MAX_SAFE_INTEGER) : positiveInt('--seeds', o.seeds);
    const jobs = o.jobs === undefined ? availableParallelism() : positiveInt('--jobs', o.jobs, 256);
    const firstSeed = positiveInt('--first-seed', o.firstSeed);
    const shard = o.shard === undefined ? null : parseShard(o.shard as string);
    const dir = (o.artifacts as string | undefined) ?? (o.json ? folderBeside(o.json as string) : '.');
    if (!existsSync(dir)) throw new BadInput(`--artifacts ${dir}: folder does not exist`);
    if (o.json) checkOutputPath('--json', o.json as string);
    if (config.strategy.kind === 'pct' && o.pctSteps === undefined) {
      config.strategy.steps = runOnceSync({ ...config, strategy: { kind: 'random' }, seed: firstSeed }).steps;
    }
    out(`shootdown hunt: ${config.variant} on ${workloadText(config)}, ${config.cpus} cpus x ${config.tasksPerCpu} tasks, --preempt ${config.preempt}, strategy ${config.strategy.kind}, ${jobs} jobs${shard ? `, shard ${shard.index}/${shard.count}` : ''}`);
    if (config.strategy.kind === 'pct') {
      out(`  pct depth ${config.strategy.depth} over about ${config.strategy.steps} steps: each run finds a bug of that depth with probability at least ${pctBound(config.cpus, config.strategy.steps, config.strategy.depth).toExponential(2)}`);
    }
    const progress = startProgress('hunt', Number.isFinite(timeMs) && seeds === Number.MAX_SAFE_INTEGER ? 0 : seeds);
    let result: CampaignResult;
    try {
      result = await runCampaign({ base: config, firstSeed, seeds, timeMs, jobs, stopOnFirst: Boolean(o.stopOnFirst), shard, onSeed: (s, fresh) => {
        progress.tick(`seed ${s.seed}`);
        if (fresh) out(`found ${fresh.rule} at seed ${fresh.seed}: ${fresh.detail}`);
        if (s.error) out(`seed ${s.seed} failed: ${s.error.name}: ${s.error.message}`);
      } }, interrupts.signal);
    } finally {
      progress.stop();
    }
    finishHunt(o, config, shard, dir, result, (g) => makeArtifact({ ...config, seed: g.seed }, g.rule).artifact, {});
  });

  /** A campaign's ending, local or queued: artifacts, the summary, the JSON file, the exit code. */
  function finishHunt(o: Record<string, unknown>, config: RunConfig, shard: { index: number; count: number } | null, dir: string, result: CampaignResult, artifactOf: (g: FoundGroup) => Artifact, extra: Record<string, unknown>): void {
    const artifacts: string[] = [];
    for (const g of result.groups) artifacts.push(writeArtifact(dir, artifactOf(g)));
    out(`${result.seedsRun} seeds in ${(result.elapsedMs / 1000).toFixed(1)} s, ${result.seedsPerSec} seeds/s; ${result.groups.length} distinct violations, ${result.errors.length} failed runs`);
    for (const g of result.groups) out(`  ${g.rule} x${g.count}, first at seed ${g.seed}: ${g.detail}`);
    for (const f of artifacts) out(`  artifact: ${f}`);
    const found = result.groups.length > 0 || result.errors.length > 0;
    if (o.json) {
      writeJsonAtomic(o.json as string, {
        schema: RESULT_SCHEMA,
        command: 'hunt',
        variant: config.variant,
        workload: config.workload,
        strategy: config.strategy,
        shard,
        seedsRun: result.seedsRun,
        seedsPerSec: result.seedsPerSec,
        found,
        violations: result.groups.map((g) => ({ rule: g.rule, location: g.location, seed: g.seed, count: g.count, detail: g.detail })),
        errors: result.errors,
        firstFailingSeed: result.firstFailingSeed,
        artifacts,
        config,
        ...extra,
      });
    }
    process.exitCode = found ? 1 : 0;
  }

  /** hunt --queue: the campaign's blocks go on a queue for `shootdown worker`s, and their results come back here. */
  async function huntOnQueue(file: string | undefined, o: Record<string, unknown>, cmd: Command): Promise<void> {
    if (o.queue === undefined) throw new BadInput('--campaign: names a campaign on a queue; give --queue URL too');
    const target = parseQueueUrl('--queue', o.queue as string);
    for (const [key, flag] of [['shard', '--shard'], ['time', '--time'], ['stopOnFirst', '--stop-on-first'], ['jobs', '--jobs']] as const) {
      if (o[key] !== undefined) throw new BadInput(`${flag}: not with --queue (the queue splits the seeds into blocks; each worker has its own --jobs)`);
    }
    if (o.strategy === 'bounded') throw new BadInput('--strategy bounded: runs in one thread; a queue campaign runs random or pct seeds');
    let campaign: Campaign;
    let dir: string;
    const checkOutputs = (): string => {
      const d = (o.artifacts as string | undefined) ?? (o.json ? folderBeside(o.json as string) : '.');
      if (!existsSync(d)) throw new BadInput(`--artifacts ${d}: folder does not exist`);
      if (o.json) checkOutputPath('--json', o.json as string);
      return d;
    };
    if (o.campaign !== undefined) {
      if (file) throw new BadInput(`${file}: --campaign re-attaches to a campaign that has its config already; drop the file`);
      dir = checkOutputs();
      campaign = await openCampaign(target, o.campaign as string);
    } else {
      const scenario = file ? loadScenario(file) : null;
      const config = configFor(scenario, { ...runOptions(scenario, o, cmd, '--variant'), variant: o.variant as string });
      if (config.mode !== 'deterministic') throw new BadInput('--mode parallel: hunt explores schedules, which only deterministic mode chooses');
      const seeds = o.seeds === undefined ? 1000 : positiveInt('--seeds', o.seeds);
      const firstSeed = positiveInt('--first-seed', o.firstSeed);
      const blockSeeds = o.blockSeeds === undefined ? defaultBlockSeeds(seeds) : positiveInt('--block-seeds', o.blockSeeds);
      dir = checkOutputs();
      if (config.strategy.kind === 'pct' && o.pctSteps === undefined) config.strategy.steps = runOnceSync({ ...config, strategy: { kind: 'random' }, seed: firstSeed }).steps;
      campaign = await startCampaign(target, config, firstSeed, seeds, blockSeeds);
    }
    const c = campaign.config;
    out(`shootdown hunt: campaign ${campaign.id} on ${target.shown}: ${c.variant} on ${workloadText(c)}, ${c.cpus} cpus x ${c.tasksPerCpu} tasks, --preempt ${c.preempt}, strategy ${c.strategy.kind}, seeds ${campaign.firstSeed}..${campaign.firstSeed + campaign.seeds - 1} in ${campaign.blocks} blocks`);
    const progress = startProgress('hunt', campaign.seeds);
    let r: QueueCampaignResult;
    try {
      r = await followCampaign(target, campaign, {
        signal: interrupts.signal,
        log: (line) => process.stderr.write(`shootdown: ${line}\n`),
        onBlock: (b, opened) => {
          for (let i = 0; i < b.seedsRun; i++) progress.tick(`block ${b.index}`);
          for (const g of opened) out(`found ${g.rule} at seed ${g.seed}: ${g.detail}`);
          for (const e of b.errors) out(`seed ${e.seed} failed: ${e.name}: ${e.message}`);
        },
      });
    } finally {
      progress.stop();
    }
    if (!r.complete) out(`campaign ${campaign.id}: ${r.result.seedsRun} of ${campaign.seeds} seeds have results; it goes on on the workers (re-attach: hunt --queue URL --campaign ${campaign.id})`);
    for (const f of r.failedBlocks) out(`  block ${f.index} failed: ${f.reason}`);
    finishHunt(o, c, null, dir, r.result, (g) => r.artifacts.get(g.location)!, { campaign: campaign.id, complete: r.complete, failedBlocks: r.failedBlocks });
    if (!r.complete || r.failedBlocks.length > 0) process.exitCode = 1;
  }

  /** hunt --strategy bounded: every schedule with at most k preemptions, one thread. */
  function huntBounded(scenario: Scenario | null, base: RunOptions, o: Record<string, unknown>): void {
    const config = configFor(scenario, { ...base, strategy: 'random', variant: o.variant as string });
    if (config.mode !== 'deterministic') throw new BadInput('--mode parallel: hunt explores schedules, which only deterministic mode chooses');
    const k = nonNegativeInt('--preemptions', o.preemptions);
    const maxSchedules = positiveInt('--max-schedules', o.maxSchedules);
    const dir = (o.artifacts as string | undefined) ?? (o.json ? folderBeside(o.json as string) : '.');
    if (!existsSync(dir)) throw new BadInput(`--artifacts ${dir}: folder does not exist`);
    if (o.json) checkOutputPath('--json', o.json as string);
    out(`shootdown hunt: ${config.variant} on ${workloadText(config)}, ${config.cpus} cpus x ${config.tasksPerCpu} tasks, every schedule with at most ${k} preemptions (up to ${maxSchedules})`);
    const t0 = performance.now();
    const r = exploreBounded(config, k, maxSchedules, (v, schedule) => out(`found ${v.rule} in schedule ${schedule}: ${v.detail}`));
    const secs = (performance.now() - t0) / 1000;
    out(`${r.schedules} schedules (${r.exhausted ? 'the space is exhausted' : 'stopped at --max-schedules: the space is not exhausted'}), ${r.steps} steps in ${secs.toFixed(1)} s; ${r.groups.length} distinct violations`);
    const artifacts: string[] = [];
    for (const g of r.groups) {
      const decisions = new DecisionLog();
      for (const cpu of r.firstSchedules.get(g.location)!) decisions.record(cpu);
      const file = join(dir, artifactName(config, g.rule).replace(/seed\d+/, `bounded${k}-schedule${g.seed}`));
      writeJsonAtomic(file, { schema: 2, kind: 'artifact', config, rule: g.rule, step: g.step, detail: g.detail, decisions: decisions.runs } satisfies Artifact);
      artifacts.push(file);
      out(`  ${g.rule} in ${g.count} schedules, first in schedule ${g.seed}: ${g.detail}\n  artifact: ${file}`);
    }
    if (o.json) {
      writeJsonAtomic(o.json as string, {
        schema: RESULT_SCHEMA,
        command: 'hunt',
        variant: config.variant,
        workload: config.workload,
        strategy: { kind: 'bounded', preemptions: k },
        schedules: r.schedules,
        exhausted: r.exhausted,
        seedsRun: r.schedules,
        found: r.groups.length > 0,
        violations: r.groups.map((g) => ({ rule: g.rule, location: g.location, schedule: g.seed, count: g.count, detail: g.detail })),
        firstFailingSeed: null,
        artifacts,
        config,
      });
    }
    process.exitCode = r.groups.length > 0 ? 1 : 0;
  }

  program
    .command('replay')
    .description('re-run an artifact: the same violation at the same step')
    .argument('<artifact>', 'a file written by hunt or shrink')
    .option('--json <file>', 'write the result as JSON (wall time left out, so two replays are byte-identical)')
    .option('--trace <file>', 'write the Perfetto trace of the failing run')
    .option('--explain', 'tell, per cpu, what led to the violation')
    .action((file: string, o: Record<string, unknown>) => {
      const a = readArtifact(file);
      if (o.json) checkOutputPath('--json', o.json as string);
      if (o.trace) checkOutputPath('--trace', o.trace as string);
      const traced = Boolean(o.trace || o.explain);
      const r = { ...runDeterministic({ ...a.config, traceLimit: traced ? Math.max(a.config.traceLimit, 1_000_000) : 0 }, { replay: a.decisions }), elapsedMs: 0 };
      out(summarize(r));
      const again = r.violations.find((v) => v.rule === a.rule && v.step === a.step);
      out(again ? `reproduced: ${a.rule} at step ${a.step}` : `not reproduced: ${a.rule} was expected at step ${a.step}`);
      if (o.explain) out(explainText(r, a.rule));
      writeOutputs(o, r);
      process.exitCode = failed(r) ? 1 : 0;
    });

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
    .command('worker')
    .description('take blocks of queue campaigns (hunt --queue) from Redis and run them on local threads, until stopped')
    .requiredOption('--queue <url>', 'redis://[:password@]host:port/db, or rediss:// for TLS')
    .option('--jobs <n>', 'worker threads (default: every core)')
    .option('--lock-ms <n>', `how long a block of a killed worker waits before another worker takes it (default ${LOCK_MS_DEFAULT})`)
    .action(async (o: Record<string, unknown>) => {
      const target = parseQueueUrl('--queue', o.queue as string);
      const jobs = o.jobs === undefined ? availableParallelism() : positiveInt('--jobs', o.jobs, 256);
      const lockMs = o.lockMs === undefined ? LOCK_MS_DEFAULT : positiveInt('--lock-ms', o.lockMs, 3_600_000);
      if (lockMs < 500) throw new BadInput(`--lock-ms ${lockMs}: must be at least 500 (the lock is renewed at half of it)`);
      await runQueueWorker({ target, jobs, lockMs, signal: interrupts.signal, log: out });
    });

  program
    .command('list')
    .description('variants, workloads and oracle rules')
    .action(() => out(listText()));
  return program;
}

function runOnceSync(config: ReturnType<typeof makeConfig>): RunResult {
  return runDeterministic(config);
}

/** Ctrl-C or SIGTERM stops the run at the next slice; what was measured is still reported. */
async function runWithSignals(config: ReturnType<typeof makeConfig>): Promise<RunResult> {
  return runOnce(config, interrupts.signal);
}

/**
 * Ctrl-C or SIGTERM: the first stops the work at its next check and keeps
 * what was measured (the results are printed and written, exit 130 or 143);
 * a second exits at once.
 */
class Interrupts {
  private readonly controller = new AbortController();
  private received: NodeJS.Signals | null = null;
  private readonly onSignal = (sig: NodeJS.Signals): void => {
    if (this.received) process.exit(Interrupts.exitCodeOf(sig));
    this.received = sig;
    process.stderr.write(`shootdown: ${sig}: stopping and keeping what was measured (${sig} again quits at once)\n`);
    this.controller.abort();
  };
  get signal(): AbortSignal {
    return this.controller.signal;
  }
  static exitCodeOf(sig: NodeJS.Signals): number {
    return sig === 'SIGINT' ? 130 : 143;
  }
  install(): void {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }
  remove(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
  exitCode(): number | null {
    return this.received ? Interrupts.exitCodeOf(this.received) : null;
  }
}

const interrupts = new Interrupts();

const FILE_FLAGS = ['--json', '--trace', '--csv', '--out', '--html'];

/** `--json -` (or any output file given as -) puts that file on stdout, so the text a command prints goes to stderr instead. */
function fileOnStdout(argv: readonly string[]): boolean {
  return argv.some((a, i) => FILE_FLAGS.some((f) => a === `${f}=${STDOUT_PATH}` || (a === f && argv[i + 1] === STDOUT_PATH)));
}

export async function main(argv: string[]): Promise<number> {
  const text = fileOnStdout(argv) ? process.stderr : process.stdout;
  const program = buildProgram((s) => text.write(s + '\n'));
  interrupts.install();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return interrupts.exitCode() ?? (typeof process.exitCode === 'number' ? process.exitCode : 0);
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
    if (e instanceof OutputFailed || e instanceof QueueFailed) {
      process.stderr.write(`shootdown: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`shootdown: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n`);
    return 1;
  } finally {
    interrupts.remove();
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
