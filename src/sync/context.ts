// Kctx is what a kernel path sees of the world: this cpu, `current`, the
// machine, and where to count and report. One exists per cpu; the engine
// points it at the task it runs. Kernel paths take it as their first argument
// the way kernel code reaches `current` and `smp_processor_id()`.
// The cpu's model clock is here too: `clockNs` only moves forward, by the
// cost of what the cpu does (`charge`) and to the time of an event another
// cpu made that this one waited for (`clockAtLeast`); `now()` reads it, in
// both modes, so every time a kernel path measures is model time.

import type { RunConfig, VariantTraits } from '../machine/config.ts';
import { stepCosts, type CostTable } from '../machine/costs.ts';
import type { Machine } from '../machine/layout.ts';
import type { Rng } from '../machine/rng.ts';
import type { Counters } from '../stats/counters.ts';
import type { Oracle } from '../oracle/rules.ts';
import { CpuLatency } from '../stats/latency.ts';
import { HoldTimes, LockStat } from '../stats/lockstat.ts';
import { CpuTrace } from '../stats/trace.ts';
import { newCounters } from '../stats/counters.ts';

export interface Kctx {
  readonly m: Machine;
  readonly mem: Int32Array;
  readonly cpu: number;
  readonly config: RunConfig;
  readonly traits: VariantTraits;
  readonly oracle: Oracle;
  /** Per-cpu stream for this cpu's own random events (GFP_NOWAIT failure). */
  readonly rng: Rng;
  /** This cpu's model clock, in ns. */
  clockNs: number;
  /** Model time in µs: clockNs / 1000. */
  readonly now: () => number;
  /**
   * The watchdog's clock in µs (lockups, hung tasks, --duration): host time
   * in parallel mode, the engine's step count in deterministic mode. It
   * bounds waits; no reported figure is read from it.
   */
  readonly watchNow: () => number;
  /** The watchdog's clock is the host's (parallel mode): host figures may be taken from it. */
  readonly watchIsHost: boolean;
  /** What events cost (ns), and each step kind's cost by Step number. */
  readonly costs: CostTable;
  readonly stepCostNs: Float64Array;
  /** Events carry and charge model time; off (a bench's baseline), each step costs FLAT_STEP_NS and nothing else moves the clock. */
  readonly modelClocks: boolean;
  /** The running task, or -1 when the cpu is idle. */
  task: number;
  /** The innermost named kernel function the running task is in ('user' in user space): names its step points for preemption coverage. */
  fn: string;
  /** current->mm, or -1 (a kernel thread, or a task past exit_mm). */
  mm: number;
  /** The running task's counters (the idle counters when no task runs). */
  stats: Counters;
  /** Counters of work done in interrupt context on this cpu (IPI handling). */
  readonly cpuStats: Counters;
  /** GFP_NOWAIT allocations attempted on this cpu (for the `once` failure policy). */
  gfpNowaitCalls: number;
  /** pte locks held by the running task; flushes and frees under one are counted. */
  ptlHeld: number;
  /** Pages freed during the current pte-lock hold. */
  ptlFreedThisHold: number;
  /** Gathers the running task has open (tlb_gather_mmu not yet finished). */
  gatherDepth: number;
  /** schedule_timeout: when the running task, about to sleep, wants its timer to wake it (model ns), or Infinity. */
  timerWakeAtNs: number;
  /** This cpu's latency histograms and longest sections. */
  readonly lat: CpuLatency;
  /** The open non-preemptible (preempt or irqs off) and irqs-off sections on this cpu: start time and who opened them. */
  offSinceUs: number;
  offWhere: string;
  irqsOffSinceUs: number;
  irqsOffWhere: string;
  /** When each lock held on this cpu was taken (µs): by lock word for spinlocks, by lockHoldKey for sleeping locks. */
  readonly lockSinceUs: HoldTimes;
  /** This cpu's lock_stat table. */
  readonly lockStat: LockStat;
  /** This cpu's trace buffer, or null when not tracing. */
  readonly trace: CpuTrace | null;
  /** Lock waits and holds are timed (for lock_stat, the histograms or the trace); off, a lock op reads no clock. */
  readonly timesLocks: boolean;
  /**
   * The running task's current step polled a word that only another task
   * will change, and found it unchanged (a spin-loop hint, as Loom's
   * `spin_loop`): it costs nothing and changes nothing in the run, but a
   * fair scheduler lets the others go first (runner.ts, bounded.ts).
   */
  polled: boolean;
}

/** What a task's step points are named while it runs in user space. */
export const USER_FN = 'user';

/**
 * Entering a named kernel function: its step points are named after it, as a
 * function-graph tracer would attribute them, until it returns. Returns the
 * caller's name, which the function puts back when it returns (`ctx.fn =
 * caller`). Only the functions whose preemption points a user asks about
 * are named; the others' points count to their nearest named caller.
 */
export function fnEnter(ctx: Kctx, name: string): string {
  const caller = ctx.fn;
  ctx.fn = name;
  return caller;
}

/** A sleeping lock may be held by several tasks of one cpu (readers): its hold is timed per task. */
export function lockHoldKey(lock: number, task: number): number {
  return lock * 4096 + task + 1;
}

/** A step's cost when the model clocks are off. */
export const FLAT_STEP_NS = 1000;

/** This cpu spent `ns` doing something. */
export function charge(ctx: Kctx, ns: number): void {
  if (ctx.modelClocks) ctx.clockNs += ns;
}

/** An event this cpu waited for happened at `ns` on another cpu's clock: this cpu goes on no earlier. */
export function clockAtLeast(ctx: Kctx, ns: number): void {
  if (ctx.modelClocks && ns > ctx.clockNs) ctx.clockNs = ns;
}

/** A cpu's context before any task runs on it: no task, no mm, nothing held. */
export function newKctx(base: Pick<Kctx, 'm' | 'cpu' | 'config' | 'traits' | 'oracle' | 'rng' | 'watchNow'> & { stats?: Counters; latencyStats: boolean }): Kctx {
  const ctx: Kctx = {
    m: base.m,
    mem: base.m.mem,
    cpu: base.cpu,
    config: base.config,
    traits: base.traits,
    oracle: base.oracle,
    rng: base.rng,
    clockNs: 0,
    now: () => ctx.clockNs / 1000,
    watchNow: base.watchNow,
    watchIsHost: base.config.mode === 'parallel',
    costs: base.config.costs,
    stepCostNs: base.config.modelClocks ? stepCosts(base.config.costs) : new Float64Array(12).fill(FLAT_STEP_NS),
    modelClocks: base.config.modelClocks,
    task: -1,
    fn: USER_FN,
    mm: -1,
    stats: base.stats ?? newCounters(),
    cpuStats: newCounters(),
    gfpNowaitCalls: 0,
    ptlHeld: 0,
    ptlFreedThisHold: 0,
    gatherDepth: 0,
    timerWakeAtNs: Infinity,
    lat: new CpuLatency(base.latencyStats),
    offSinceUs: 0,
    offWhere: '',
    irqsOffSinceUs: 0,
    irqsOffWhere: '',
    lockSinceUs: new HoldTimes(),
    lockStat: new LockStat(base.latencyStats),
    trace: base.config.traceLimit > 0 ? new CpuTrace(base.cpu, base.config.traceLimit) : null,
    timesLocks: base.latencyStats || base.config.traceLimit > 0,
    polled: false,
  };
  return ctx;
}
