// Turning user input into a RunConfig: defaults, then every check that can
// refuse a run before anything starts. Each refusal is one BadInput line
// naming the flag and what is wrong with it.

import { BadInput } from '../machine/errors.ts';
import { allocFailText, type AllocFail, type ImmapLock, type Mode, type PreemptModel, type RunConfig, type ScenarioProgram } from '../machine/config.ts';
import { MAX_MMS, MAX_VMAS, PAGE_SIZE, TLB_WAYS, layoutBytes } from '../machine/layout.ts';
import { VARIANTS, findVariant } from '../gather/variants.ts';
import { WORKLOADS, findWorkload } from '../workloads/index.ts';
import { layoutSizeFor } from './boot.ts';
import { defaultCosts, type CostTable } from '../machine/costs.ts';
import { DEFAULT_CLOCK_SKEW_US } from './clocks.ts';

export const MAX_CPUS = 31;
/** The largest machine buffer a run may ask for. */
export const MAX_MACHINE_BYTES = 4 * 1024 ** 3;

export interface RunOptions {
  variant?: string;
  workload?: string;
  mode?: string;
  seed?: string | number;
  cpus?: string | number;
  pages?: string | number;
  preempt?: string;
  allocFail?: string;
  memory?: string;
  tlbEntries?: string | number;
  overlap?: boolean;
  readerAccesses?: string | number;
  maxSteps?: string | number;
  lockupMs?: string | number;
  tasksPerCpu?: string | number;
  mms?: string | number;
  immapLock?: string;
  probe?: boolean;
  kworker?: boolean;
  /** The bdi flusher thread (--writeback / --no-writeback); by default on where the workload asks for it. */
  writeback?: boolean;
  latencyStats?: boolean;
  duration?: string;
  rounds?: string | number;
  /** Test hook, "cpu:step". */
  crash?: string;
  strategy?: string;
  depth?: string | number;
  pctSteps?: string | number;
  /** Record a trace, with at most this many events per cpu. */
  trace?: boolean;
  traceLimit?: string | number;
  /** The tasks and programs of a scenario file (workload `scenario`); checked by its loader. */
  scenario?: ScenarioProgram;
  /** The cost table (already read and checked, see loadCostFile); the default table when absent. */
  costs?: CostTable;
  modelClocks?: boolean;
  setupOnce?: boolean;
  /** µs, or 'none' (no bound; hunt's default). */
  clockSkew?: string | number;
}

/** "10s", "500ms", "2m" or a number of milliseconds. */
export function parseDuration(flag: string, v: string | undefined): number {
  if (v === undefined) return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  if (!m) throw new BadInput(`${flag} ${JSON.stringify(v)}: not a duration (examples: 10s, 500ms, 2m)`);
  const ms = Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm'];
  if (ms > 24 * 3600 * 1000) throw new BadInput(`${flag} ${v}: longer than a day`);
  return Math.round(ms);
}

function parseCrash(v: string | undefined): RunConfig['crash'] {
  if (v === undefined) return null;
  const m = /^(\d+):(\d+)$/.exec(v.trim());
  if (!m) throw new BadInput(`--crash ${JSON.stringify(v)}: must be cpu:step`);
  return { cpu: Number(m[1]), step: Number(m[2]) };
}

function int(flag: string, v: string | number | undefined, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  const s = String(v).trim();
  if (!/^-?\d+$/.test(s)) throw new BadInput(`${flag} ${JSON.stringify(String(v))}: not an integer`);
  const n = Number(s);
  if (n < min) throw new BadInput(`${flag} ${n}: must be at least ${min}`);
  if (n > max) throw new BadInput(`${flag} ${n}: must be at most ${max}`);
  return n;
}

function oneOf<T extends string>(flag: string, v: string | undefined, dflt: T, allowed: readonly T[]): T {
  if (v === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(v)) throw new BadInput(`${flag} ${JSON.stringify(v)}: must be one of ${allowed.join(', ')}`);
  return v as T;
}

export function parseAllocFail(v: string | undefined): AllocFail {
  if (v === undefined || v === 'never') return { kind: 'never' };
  if (v === 'always') return { kind: 'always' };
  if (v === 'once') return { kind: 'once' };
  const p = Number(v);
  if (v.trim() === '' || !Number.isFinite(p) || p < 0 || p > 1) throw new BadInput(`--alloc-fail ${JSON.stringify(v)}: must be never, always, once, or a probability between 0 and 1`);
  return { kind: 'probability', p };
}

/** "64M", "1G", "512K" or a byte count; returns 4 KiB frames. */
export function parseMemory(v: string): number {
  const m = /^(\d+)([KMG]?)i?B?$/i.exec(v.trim());
  if (!m) throw new BadInput(`--memory ${JSON.stringify(v)}: not a size (examples: 64M, 1G, 524288)`);
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  const bytes = Number(m[1]) * unit;
  if (bytes < PAGE_SIZE) throw new BadInput(`--memory ${v}: smaller than one page`);
  return Math.floor(bytes / PAGE_SIZE);
}

export function makeConfig(o: RunOptions, variantFlag = '--variant'): RunConfig {
  const variant = o.variant ?? 'rework';
  if (!findVariant(variant)) throw new BadInput(`${variantFlag} ${JSON.stringify(variant)}: unknown (known: ${VARIANTS.map((v) => v.name).join(', ')})`);
  const workloadName = o.scenario ? 'scenario' : (o.workload ?? 'munmap');
  const workload = findWorkload(workloadName);
  if (workloadName === 'scenario' && !o.scenario) throw new BadInput('--workload scenario: runs only from a scenario file (shootdown run FILE.yaml)');
  if (!workload) throw new BadInput(`--workload ${JSON.stringify(workloadName)}: unknown (known: ${WORKLOADS.map((w) => w.name).join(', ')})`);
  const config: RunConfig = {
    variant,
    workload: workloadName,
    mode: oneOf<Mode>('--mode', o.mode, 'deterministic', ['deterministic', 'parallel']),
    seed: int('--seed', o.seed, 1, 0, 2 ** 32 - 1),
    cpus: int('--cpus', o.cpus, 4, 1, MAX_CPUS),
    pages: int('--pages', o.pages, workload.defaultPages, 1, 4_000_000),
    preempt: oneOf<PreemptModel>('--preempt', o.preempt, 'full', ['none', 'voluntary', 'full']),
    allocFail: parseAllocFail(o.allocFail),
    memoryPages: 0,
    tlbEntries: int('--tlb-entries', o.tlbEntries, 64, TLB_WAYS, 65536),
    overlap: o.overlap ?? false,
    readerAccesses: int('--reader-accesses', o.readerAccesses, 1_000_000, 0, 1_000_000_000),
    maxSteps: int('--max-steps', o.maxSteps, 500_000_000, 1000, 2 ** 53),
    lockupMs: int('--lockup-ms', o.lockupMs, 2000, 10, 3_600_000),
    tasksPerCpu: int('--tasks-per-cpu', o.tasksPerCpu, workload.defaults?.tasksPerCpu ?? 1, 1, 16),
    mms: int('--mms', o.mms, workload.defaults?.mms ?? 1, 1, MAX_MMS),
    immapLock: immapLockOf(variant, o.immapLock),
    probe: o.probe ?? false,
    kworker: o.kworker ?? true,
    latencyStats: o.latencyStats ?? true,
    durationMs: parseDuration('--duration', o.duration),
    rounds: int('--rounds', o.rounds, 10, 1, 1_000_000_000),
    diskFile: false,
    writeback: o.writeback ?? workload.defaults?.writeback ?? false,
    crash: parseCrash(o.crash),
    traceLimit: o.trace ? int('--trace-limit', o.traceLimit, 200_000, 100, 50_000_000) : 0,
    strategy: { kind: 'random' },
    scenario: o.scenario ?? null,
    costs: o.costs ?? defaultCosts(),
    modelClocks: o.modelClocks ?? true,
    setupOnce: o.setupOnce ?? false,
    clockSkewUs: o.clockSkew === 'none' ? 0 : int('--clock-skew', o.clockSkew, DEFAULT_CLOCK_SKEW_US, 1, 1_000_000),
  };
  if (o.scenario) {
    // the scenario places its own tasks: every mm it names exists, and a cpu's runqueue holds its tasks
    const perCpu = new Map<number, number>();
    for (const t of o.scenario.tasks) perCpu.set(t.cpu, (perCpu.get(t.cpu) ?? 0) + 1);
    config.tasksPerCpu = Math.max(1, ...perCpu.values());
    config.mms = Math.max(...o.scenario.tasks.map((t) => t.mm)) + 1;
  }
  config.diskFile = config.writeback || (workload.diskFile?.(config) ?? false);
  const strategy = oneOf('--strategy', o.strategy, 'random', ['random', 'pct']);
  if (strategy === 'pct') config.strategy = { kind: 'pct', depth: int('--depth', o.depth, 3, 1, 20), steps: int('--pct-steps', o.pctSteps, 100_000, 1, 2 ** 40) };
  if (strategy !== 'random' && config.mode === 'parallel') throw new BadInput(`--strategy ${strategy}: schedules are chosen only in deterministic mode`);
  if (!o.scenario && config.mms > config.cpus * config.tasksPerCpu) {
    throw new BadInput(`--mms ${config.mms}: more address spaces than the ${config.cpus * config.tasksPerCpu} user tasks (--cpus x --tasks-per-cpu)`);
  }
  if (config.crash && config.crash.cpu >= config.cpus) throw new BadInput(`--crash ${o.crash}: cpu ${config.crash.cpu} does not exist`);
  if (config.tlbEntries % TLB_WAYS !== 0) throw new BadInput(`--tlb-entries ${config.tlbEntries}: must be a multiple of ${TLB_WAYS}`);
  const mappings = workload.mappingsNeeded(config);
  if (mappings > MAX_VMAS) {
    throw new BadInput(`--tasks-per-cpu ${config.tasksPerCpu}: workload ${workloadName} needs ${mappings} mappings in one mm, more than the ${MAX_VMAS} an mm holds (use more --mms)`);
  }
  const needed = workload.memoryNeeded(config) + 2 + config.mms;
  config.memoryPages = o.memory === undefined ? Math.max(1024, needed * 2 + 256) : parseMemory(o.memory);
  if (config.memoryPages < needed) {
    throw new BadInput(`--memory ${o.memory}: ${config.memoryPages} pages cannot hold workload ${workloadName} with --pages ${config.pages} on ${config.cpus} cpus, which needs at least ${needed} pages (${Math.ceil((needed * PAGE_SIZE) / 1024 ** 2)} MiB)`);
  }
  const bytes = layoutBytes(layoutSizeFor(config));
  if (bytes > MAX_MACHINE_BYTES) {
    throw new BadInput(`--memory ${o.memory ?? '(default)'}: the machine would need ${Math.ceil(bytes / 1024 ** 2)} MiB of shared memory, more than the ${MAX_MACHINE_BYTES / 1024 ** 3} GiB limit`);
  }
  return config;
}

/**
 * The i_mmap lock is a spinlock in 2.6.38 and a mutex from 3.0 ("mm: convert
 * i_mmap_lock to a mutex", the seed's series; an rwsem from 4.0, taken for
 * write by truncate, so still a sleeping lock). The generic designs call
 * cond_resched per pte table under it, so they have only the mutex.
 */
function immapLockOf(variant: string, flag: string | undefined): ImmapLock {
  const generic = findVariant(variant)!.design === 'generic';
  const lock = oneOf<ImmapLock>('--immap-lock', flag, generic ? 'mutex' : 'spinlock', ['spinlock', 'mutex']);
  if (generic && lock === 'spinlock') throw new BadInput(`--immap-lock spinlock: variant ${variant} is a kernel of 3.0 or later, whose i_mmap lock sleeps (use mutex)`);
  return lock;
}

/** The flags that give this config: makeConfig(flagsOf(c)) is c again, for any c makeConfig made. */
export function flagsOf(c: RunConfig): RunOptions {
  return {
    variant: c.variant,
    workload: c.workload,
    mode: c.mode,
    seed: c.seed,
    cpus: c.cpus,
    pages: c.pages,
    preempt: c.preempt,
    allocFail: allocFailText(c.allocFail),
    memory: String(c.memoryPages * PAGE_SIZE),
    tlbEntries: c.tlbEntries,
    overlap: c.overlap,
    readerAccesses: c.readerAccesses,
    maxSteps: c.maxSteps,
    lockupMs: c.lockupMs,
    tasksPerCpu: c.tasksPerCpu,
    mms: c.mms,
    immapLock: c.immapLock,
    probe: c.probe,
    kworker: c.kworker,
    writeback: c.writeback,
    latencyStats: c.latencyStats,
    duration: `${c.durationMs}ms`,
    rounds: c.rounds,
    crash: c.crash ? `${c.crash.cpu}:${c.crash.step}` : undefined,
    strategy: c.strategy.kind,
    ...(c.strategy.kind === 'pct' ? { depth: c.strategy.depth, pctSteps: c.strategy.steps } : {}),
    trace: c.traceLimit > 0,
    traceLimit: c.traceLimit,
    ...(c.scenario ? { scenario: c.scenario } : {}),
    costs: c.costs,
    modelClocks: c.modelClocks,
    setupOnce: c.setupOnce,
    clockSkew: c.clockSkewUs === 0 ? 'none' : c.clockSkewUs,
  };
}
