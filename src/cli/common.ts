// What every shootdown command shares: the run flags and how a scenario
// file's settings meet them, number parsing for flags, writing results, and
// Ctrl-C handling that keeps what was measured.

import { Command, Option } from 'commander';
import { BadInput } from '../machine/errors.ts';
import { makeConfig, type RunOptions } from '../engine/configure.ts';
import { runOnce } from '../engine/run.ts';
import { checkSetupAlone } from '../engine/boot.ts';
import type { RunResult } from '../engine/result.ts';
import type { RunConfig } from '../machine/config.ts';
import { startProgress } from '../report/progress.ts';
import { writeJsonAtomic } from '../report/json.ts';
import { inFileTerms, type Scenario } from '../scenario/load.ts';
import { WORKLOADS } from '../workloads/index.ts';
import { availableParallelism } from 'node:os';
import { defaultCosts, loadCostFile } from '../machine/costs.ts';
import { hostWarning } from '../report/summary.ts';

/** Where a command prints its lines. */
export type Out = (s: string) => void;

export const EXIT_BAD_INPUT = 2;
export const SCENARIO_ARG = 'a scenario file (YAML: machine, workload or tasks, variants; see examples/)';

export function runFlags(cmd: Command): Command {
  return cmd
    .option('--workload <name>', `a built-in workload: ${WORKLOADS.map((w) => w.name).join(', ')} (see list)`, 'munmap')
    .option('--pages <n>', `pages the workload maps (default: ${WORKLOADS.map((w) => `${w.name} ${w.defaultPages}`).join(', ')})`)
    .option('--cpus <n>', 'simulated cpus', '4')
    .option('--tasks-per-cpu <n>', 'user tasks per cpu (default 1)')
    .option('--mms <n>', 'address spaces the user tasks are spread over (default 1; writeback 2)')
    .addOption(new Option('--preempt <model>', 'none, voluntary or full (compare: a list, e.g. none,full)').default('full'))
    .option('--immap-lock <type>', 'i_mmap lock: spinlock (2.6.38) or mutex (after the series; the only one of v3.11 on) (default: spinlock, mutex for v3.11 on)')
    .option('--probe', 'a cyclictest-like latency probe thread per cpu')
    .option('--no-kworker', 'no per-cpu kernel thread (it makes cpus lazy on the last user mm)')
    .option('--writeback', 'the file lives on a disk, and a flusher thread writes its dirty pages back every 1 ms (default: on for writeback)')
    .option('--no-writeback', 'no flusher thread, even for the writeback workload')
    .option('--no-latency-stats', 'no latency histograms (to measure what they cost)')
    .option('--duration <time>', 'looping workloads: stop starting rounds after this long (10s, 500ms; a budget on the watchdog clock: host time in parallel mode)')
    .option('--rounds <n>', 'looping workloads: rounds per task', '10')
    .addOption(new Option('--crash <cpu:step>', 'test hook: that cpu throws at that step').hideHelp())
    .option('--alloc-fail <policy>', 'GFP_NOWAIT batch-page allocation: never, always, once (the first on each cpu) or a probability', 'never')
    .option('--mode <mode>', 'deterministic or parallel', 'deterministic')
    .option('--seed <n>', 'seed of the deterministic scheduler and of the workload', '1')
    .option('--memory <size>', 'physical memory, e.g. 64M (default: twice what the workload needs)')
    .option('--tlb-entries <n>', 'TLB entries per cpu', '64')
    .option('--overlap', 'madvise: tasks zap their subranges in pairs, the same one twice')
    .option('--reader-accesses <n>', 'upper bound on reads per reader task', '1000000')
    .option('--max-steps <n>', 'deterministic step budget', '500000000')
    .option('--lockup-ms <n>', 'a spin or wait longer than this is a soft lockup', '2000')
    .option('--strategy <name>', 'deterministic scheduler: random or pct (hunt: also bounded)', 'random')
    .option('--depth <d>', 'pct: bug depth (priority change points + 1)', '3')
    .option('--pct-steps <k>', 'pct: steps a run is expected to take (where change points fall)')
    .option('--clock-skew <us>', 'the most a cpu\'s model clock may run ahead of the others, µs, or none (default 20; hunt: none, so a cpu may be held back as long as a descheduled vCPU)')
    .option('--costs <file>', 'a cost table (YAML, ns per event) over costs/default.yaml: what the modelled machine is')
    .addOption(new Option('--no-model-clocks', 'bench: every step costs 1 µs and events carry no times (to measure what the clocks cost)').hideHelp())
    .option('--lock-stat', 'print lock_stat for every lock class')
    .option('--trace <file>', 'write a Chrome trace / Perfetto JSON of the run (compare: one file per variant, named FILE.variant.json)')
    .option('--trace-limit <n>', 'trace events each cpu may record', '200000')
    .option('--json <file>', 'write the result as JSON');
}

export function options(o: Record<string, unknown>): RunOptions {
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
    tasksPerCpu: o.tasksPerCpu as string | undefined,
    mms: o.mms as string | undefined,
    immapLock: o.immapLock as string,
    probe: Boolean(o.probe),
    kworker: o.kworker !== false,
    writeback: o.writeback as boolean | undefined,
    latencyStats: o.latencyStats !== false,
    duration: o.duration as string | undefined,
    rounds: o.rounds as string,
    crash: o.crash as string | undefined,
    trace: o.trace !== undefined,
    strategy: o.strategy as string,
    depth: o.depth as string,
    pctSteps: o.pctSteps as string | undefined,
    traceLimit: o.traceLimit as string,
    ...(o.costs !== undefined ? { costs: loadCostFile(o.costs as string, defaultCosts()) } : {}),
    modelClocks: o.modelClocks !== false,
    clockSkew: o.clockSkew as string | undefined,
  };
}

/** RunOptions keys a scenario file may set, with the flag that sets them too. */
export const SCENARIO_FLAGS: Partial<Record<keyof RunOptions, string>> = {
  workload: '--workload', pages: '--pages', cpus: '--cpus', preempt: '--preempt', allocFail: '--alloc-fail', mode: '--mode', seed: '--seed', memory: '--memory',
  tlbEntries: '--tlb-entries', overlap: '--overlap', readerAccesses: '--reader-accesses', tasksPerCpu: '--tasks-per-cpu', mms: '--mms', immapLock: '--immap-lock',
  probe: '--probe', kworker: '--no-kworker', writeback: '--writeback', duration: '--duration', rounds: '--rounds',
};

/**
 * The run options of a command: its flags, and over their defaults what the
 * scenario file sets. A flag given on the command line for something the
 * file sets as well is a conflict, not a silent override.
 */
export function runOptions(scenario: Scenario | null, o: Record<string, unknown>, cmd: Command, variantFlag: '--variant' | '--variants'): RunOptions {
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

/** A hunt's run options: no clock skew bound unless --clock-skew sets one, so the strategy may hold a cpu back as long as a descheduled vCPU could be. */
/** A hunt's run options: no skew bound, and the workload's setup run once at boot unless `exploreSetup` (config.ts setupOnce). */
export function huntOptions(o: RunOptions, exploreSetup: boolean): RunOptions {
  return { ...o, clockSkew: o.clockSkew ?? 'none', setupOnce: !exploreSetup };
}

/**
 * makeConfig, with a refusal of what a scenario file set told as
 * `file:line: field: ...`. A config that runs its setup once is booted here,
 * so a setup that cannot run alone is refused before any worker starts.
 */
export function configFor(scenario: Scenario | null, o: RunOptions, variantFlag: '--variant' | '--variants' = '--variant'): RunConfig {
  let config: RunConfig;
  try {
    config = makeConfig(o, variantFlag);
  } catch (e) {
    throw scenario && e instanceof BadInput ? inFileTerms(scenario, e) : e;
  }
  try {
    checkSetupAlone(config);
  } catch (e) {
    throw scenario && e instanceof BadInput ? new BadInput(`${scenario.file}: ${e.message}`) : e;
  }
  return config;
}

export function variantList(o: Record<string, unknown>): string[] {
  const names = String(o.variants).split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new BadInput('--variants: empty list');
  return names;
}

/** Run each config in turn, with a progress bar when it takes a while. */
export async function runAll(label: string, configs: RunConfig[], what: (c: RunConfig) => string): Promise<RunResult[]> {
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
export function withoutTrace(r: RunResult): RunResult {
  const { trace: _trace, ...rest } = r;
  return rest;
}

export function writeOutputs(o: Record<string, unknown>, r: RunResult): void {
  if (o.trace && r.trace) writeJsonAtomic(o.trace as string, r.trace);
  if (o.json) writeJsonAtomic(o.json as string, withoutTrace(r));
}

/** compare --trace out.json writes out.legacy.json, out.rework.json. */
export function traceFileFor(file: string, variant: string): string {
  return file.endsWith('.json') ? `${file.slice(0, -5)}.${variant}.json` : `${file}.${variant}.json`;
}

export function positiveInt(flag: string, v: unknown, max = Number.MAX_SAFE_INTEGER): number {
  const s = String(v).trim();
  if (!/^\d+$/.test(s) || Number(s) < 1) throw new BadInput(`${flag} ${JSON.stringify(String(v))}: must be a positive integer`);
  if (Number(s) > max) throw new BadInput(`${flag} ${s}: must be at most ${max}`);
  return Number(s);
}

export function nonNegativeInt(flag: string, v: unknown): number {
  const s = String(v).trim();
  if (!/^\d+$/.test(s)) throw new BadInput(`${flag} ${JSON.stringify(String(v))}: must be a whole number`);
  return Number(s);
}

export function parseShard(v: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  if (!m || Number(m[2]) < 1 || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new BadInput(`--shard ${JSON.stringify(v)}: must be i/n with 1 <= i <= n`);
  return { index: Number(m[1]), count: Number(m[2]) };
}

export function failed(r: RunResult): boolean {
  return r.violations.length > 0 || r.error !== null;
}


let hostWarned = false;

/** Ctrl-C or SIGTERM stops the run at the next slice; what was measured is still reported. More cpus than host cores is said once, on stderr. */
export async function runWithSignals(config: ReturnType<typeof makeConfig>): Promise<RunResult> {
  const warning = hostWarning(config, availableParallelism());
  if (warning && !hostWarned) process.stderr.write(`${warning}\n`);
  hostWarned ||= warning !== null;
  return runOnce(config, interrupts.signal);
}

/**
 * Ctrl-C or SIGTERM: the first stops the work at its next check and keeps
 * what was measured (the results are printed and written, exit 130 or 143);
 * a second exits at once.
 */
export class Interrupts {
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

export const interrupts = new Interrupts();
