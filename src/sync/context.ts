// Kctx is what a kernel path sees of the world: this cpu, `current`, the
// machine, and where to count and report. One exists per cpu; the engine
// points it at the task it runs. Kernel paths take it as their first argument
// the way kernel code reaches `current` and `smp_processor_id()`.

import type { RunConfig, VariantTraits } from '../machine/config.ts';
import type { Machine } from '../machine/layout.ts';
import type { Rng } from '../machine/rng.ts';
import type { Counters } from '../stats/counters.ts';
import type { Oracle } from '../oracle/rules.ts';
import { CpuLatency } from '../stats/latency.ts';
import { LockStat } from '../stats/lockstat.ts';
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
  /** Microseconds: real time in parallel mode, steps in deterministic mode. */
  readonly now: () => number;
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
  /** schedule_timeout: when the running task, about to sleep, wants its timer to wake it (µs), or Infinity. */
  timerWakeAtUs: number;
  /** This cpu's latency histograms and longest sections. */
  readonly lat: CpuLatency;
  /** The open non-preemptible (preempt or irqs off) and irqs-off sections on this cpu: start time and who opened them. */
  offSinceUs: number;
  offWhere: string;
  irqsOffSinceUs: number;
  irqsOffWhere: string;
  /** When each lock held on this cpu was taken (µs): by lock word for spinlocks, by lockHoldKey for sleeping locks. */
  readonly lockSinceUs: Map<number, number>;
  /** This cpu's lock_stat table. */
  readonly lockStat: LockStat;
  /** This cpu's trace buffer, or null when not tracing. */
  readonly trace: CpuTrace | null;
  /** Lock waits and holds are timed (for lock_stat, the histograms or the trace); off, a lock op reads no clock. */
  readonly timesLocks: boolean;
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

/** A cpu's context before any task runs on it: no task, no mm, nothing held. */
export function newKctx(base: Pick<Kctx, 'm' | 'cpu' | 'config' | 'traits' | 'oracle' | 'rng' | 'now'> & { stats?: Counters; latencyStats: boolean }): Kctx {
  return {
    m: base.m,
    mem: base.m.mem,
    cpu: base.cpu,
    config: base.config,
    traits: base.traits,
    oracle: base.oracle,
    rng: base.rng,
    now: base.now,
    task: -1,
    fn: USER_FN,
    mm: -1,
    stats: base.stats ?? newCounters(),
    cpuStats: newCounters(),
    gfpNowaitCalls: 0,
    ptlHeld: 0,
    ptlFreedThisHold: 0,
    gatherDepth: 0,
    timerWakeAtUs: Infinity,
    lat: new CpuLatency(base.latencyStats),
    offSinceUs: 0,
    offWhere: '',
    irqsOffSinceUs: 0,
    irqsOffWhere: '',
    lockSinceUs: new Map(),
    lockStat: new LockStat(base.latencyStats),
    trace: base.config.traceLimit > 0 ? new CpuTrace(base.cpu, base.config.traceLimit) : null,
    timesLocks: base.latencyStats || base.config.traceLimit > 0,
  };
}
