// One simulated cpu: its runqueue, its scheduler and its run loop, the same in
// both modes. Before each step the cpu takes interrupts when they are on
// (IPIs, expired timers, the scheduler tick), then decides whether the
// current task keeps the cpu: a task that went to sleep leaves the runqueue;
// a task with need_resched set is preempted only where the preemption model
// allows it (return to user space and cond_resched everywhere, might_sleep
// under voluntary, any point with preempt_count 0 and interrupts on under
// full). context_switch saves the task's preempt_count (thread_info) and
// does switch_mm, or enter_lazy_tlb for a kernel thread. Tasks never
// migrate. The engine decides who steps when; the runner only knows how.
// In deterministic mode a strategy (`decider`) also decides, at each
// preemption point the model allows, whether another runnable task of this
// cpu preempts the current one; elsewhere, whether a wake-up sets
// need_resched; and at which step point a pending interrupt is taken (at
// most IRQ_DEFER_STEPS_MAX steps late). Every preemption point
// passed where another task could have run is counted by the kernel
// function it is in, with the preemptions taken there, for coverage.
// Model time: each step advances the cpu's clock by the cost of its kind; a
// context switch costs its own, and a woken task runs no earlier than its
// wake-up time plus the wake-up cost. The tick and timers follow this clock;
// hung tasks and lockups follow the watchdog's (ctx.watchNow).

import { CPU_FIELD, HDR, TASK_FIELD, TaskKind, TaskState, loadNs, type Machine } from '../machine/layout.ts';
import type { RunConfig } from '../machine/config.ts';
import { PATH_DONE, PathStack, Step, STEP_NAMES, type Path, type StepKind } from '../machine/step.ts';
import { Rng } from '../machine/rng.ts';
import { ModelAssert, SoftLockup, modelAssert } from '../machine/errors.ts';
import { mark } from '../machine/marks.ts';
import { newCounters, type Counters } from '../stats/counters.ts';
import type { Oracle, Violation } from '../oracle/rules.ts';
import { charge, clockAtLeast, newKctx, USER_FN, type Kctx } from '../sync/context.ts';
import { sectionClose, sectionOpen } from '../sync/preempt.ts';
import { wakeUpProcess, HUNG_TASK_LOCKUPS } from '../sync/sched.ts';
import { switchMm, enterLazyTlb, serviceIpis, activeMm } from '../cpu/tlbflush.ts';
import { findVariant } from '../gather/variants.ts';
import { findWorkload } from '../workloads/index.ts';
import { kworkerThread, probeThread, bdiFlusherThread } from '../workloads/kthreads.ts';
import { taskCounters, userTaskPath, type TaskRecord, type TaskSpec, type Workload } from '../workloads/workload.ts';
import type { CpuReport, RunError } from './result.ts';
import { IRQ_DEFER_STEPS_MAX, type Chooser } from './strategy.ts';
import { IDLE_HOLD } from './clocks.ts';
import { changedForAll } from '../sync/pv.ts';

/** Preemption points passed with another task runnable, and preemptions taken there, by kernel function and step kind: `function:KIND`. */
export interface PointCount {
  point: string;
  passed: number;
  preempted: number;
}

/** The deterministic strategy's say inside a cpu's step. */
export type StepDecider = Pick<Chooser, 'preempt' | 'resched' | 'takeInterrupt'>;

/** The scheduler tick (HZ = 1000). */
export const TICK_US = 1000;
/** A task that has run this long is asked to give way when another task is runnable. */
export const TIMESLICE_US = 3 * TICK_US;

/** A task on this cpu and what is saved of it while it is switched out. */
interface Slot {
  index: number;
  spec: TaskSpec;
  rec: TaskRecord;
  path: PathStack | null;
  /** The kind of step point it is stopped at. */
  at: StepKind | -1;
  /** On the runqueue: runnable, or preempted while setting itself asleep. */
  onRq: boolean;
  exited: boolean;
  mm: number;
  preemptCount: number;
  /** Interrupts-off depth when it was switched out (only a task that slept with interrupts off, a reported bug, has one). */
  irqsDisabled: number;
  ptlHeld: number;
  ptlFreedThisHold: number;
  gatherDepth: number;
  timerWakeAtNs: number;
  sleptAtUs: number;
  /** ctx.fn while it is switched out. */
  fn: string;
}

/** How a kernel thread's step points are named: after its thread function. */
const KTHREAD_FN: Record<number, string> = { [TaskKind.KWORKER]: 'worker_thread', [TaskKind.PROBE]: 'probe_thread', [TaskKind.FLUSHER]: 'bdi_writeback_thread' };

function kthreadFn(kind: number): string {
  const fn = KTHREAD_FN[kind];
  modelAssert(fn !== undefined, 'a kernel thread with no thread function', () => `kind ${kind}`);
  return fn;
}

export class CpuRunner {
  readonly ctx: Kctx;
  readonly records: TaskRecord[] = [];
  private readonly slots: Slot[];
  private curr: Slot | null = null;
  /** Round-robin position in `slots`. */
  private cursor = 0;
  private readonly workload: Workload;
  readonly idleStats: Counters = newCounters();
  steps = 0;
  /** When the next scheduler tick is due, model ns. */
  private nextTickNs = TICK_US * 1000;
  private sliceStartUs = 0;
  private kthreadsStopped = false;
  private readonly crashAtStep: number;
  private readonly hasKthreads: boolean;
  /** The strategy's decisions, in deterministic mode; null in parallel mode, where the host decides. */
  private decider: StepDecider | null = null;
  /** Steps the pending interrupts have been put off. */
  private irqDeferred = 0;
  /** By kernel function: [passed, preempted] for each step kind. */
  private readonly points = new Map<string, Int32Array>();
  private readonly othersBuf: number[] = [];

  /** The kind of the last step a task took here, or -1 when the cpu went idle. */
  private lastKind: StepKind | -1 = -1;
  /** This cpu's words the runner reads at every step. */
  private readonly ipiPendingAt: number;
  private readonly irqsDisabledAt: number;
  /** HDR.WORD_EPOCH when the task last yielded in a user-space wait. */
  private yieldEpoch = 0;

  /** `watchNow`: the watchdog's clock, µs (ctx.watchNow). */
  constructor(m: Machine, readonly cpu: number, config: RunConfig, tasks: TaskSpec[], oracle: Oracle, watchNow: () => number) {
    const traits = findVariant(config.variant);
    const workload = findWorkload(config.workload);
    if (!traits || !workload) throw new ModelAssert('run config', `unknown variant ${config.variant} or workload ${config.workload}`);
    this.workload = workload;
    this.ctx = newKctx({
      m,
      cpu,
      config,
      traits,
      oracle,
      rng: new Rng((config.seed ^ Math.imul(cpu + 1, 0x9e3779b1)) >>> 0),
      watchNow,
      stats: this.idleStats,
      latencyStats: config.latencyStats,
    });
    this.slots = tasks
      .map((spec, index) => ({ spec, index }))
      .filter((t) => t.spec.cpu === cpu)
      .map(({ spec, index }) => {
        const rec: TaskRecord = { task: index, cpu, mm: spec.mm, kind: spec.kind, stats: newCounters(), measured: null, inOp: false, rssBefore: 0, rssAfter: 0, tlbFlushEventsFrom: -1, tlbFlushEventsTo: -1, finished: false };
        this.records.push(rec);
        return { index, spec, rec, path: null, at: -1, onRq: true, exited: false, mm: spec.mm, preemptCount: 0, irqsDisabled: 0, ptlHeld: 0, ptlFreedThisHold: 0, gatherDepth: 0, timerWakeAtNs: Infinity, sleptAtUs: 0, fn: spec.kind === TaskKind.USER ? USER_FN : kthreadFn(spec.kind) } satisfies Slot;
      });
    this.hasKthreads = this.slots.some((s) => s.spec.kind !== TaskKind.USER);
    this.ipiPendingAt = m.cpu(cpu, CPU_FIELD.IPI_PENDING);
    this.irqsDisabledAt = m.cpu(cpu, CPU_FIELD.IRQS_DISABLED);
    this.crashAtStep = config.crash && config.crash.cpu === cpu ? config.crash.step : -1;
  }

  private state(s: Slot): number {
    return Atomics.load(this.ctx.mem, this.ctx.m.task(s.index, TASK_FIELD.STATE));
  }
  private runnable(s: Slot): boolean {
    return !s.exited && (s.onRq || this.state(s) === TaskState.RUNNING);
  }

  /** Every task on this cpu has exited. */
  get done(): boolean {
    return this.slots.every((s) => s.exited);
  }

  /** A task could run now (the current one is not blocked, or another is runnable). */
  get busy(): boolean {
    const c = this.curr;
    if (c !== null && c.at !== Step.SLEEP) return true;
    for (const s of this.slots) if (this.runnable(s)) return true;
    return false;
  }

  private earliestTimerNs = Infinity;
  /** Timers change only at a context switch and when they fire. */
  private updateEarliestTimer(): void {
    let t = Infinity;
    for (const s of this.slots) if (!s.exited && s.timerWakeAtNs < t) t = s.timerWakeAtNs;
    this.earliestTimerNs = t;
  }

  hasPendingIpi(): boolean {
    return Atomics.load(this.ctx.mem, this.ipiPendingAt) !== 0;
  }

  irqsEnabled(): boolean {
    return this.ctx.mem[this.irqsDisabledAt] === 0;
  }

  private kthreadsToStop(): boolean {
    return !this.kthreadsStopped && this.hasKthreads && Atomics.load(this.ctx.mem, HDR.LIVE_TASKS) === 0;
  }

  /** hrtimer expiry: wake sleepers whose time has come; the probe is real-time and preempts. */
  private fireTimers(nowNs: number): void {
    for (const s of this.slots) {
      if (s.exited || s.timerWakeAtNs > nowNs) continue;
      s.timerWakeAtNs = Infinity;
      wakeUpProcess(this.ctx, s.index, s.spec.kind === TaskKind.PROBE);
    }
    this.updateEarliestTimer();
  }

  /** scheduler_tick: end the current slice when another task waits; khungtaskd's check on lock sleepers. */
  private schedulerTick(nowUs: number): void {
    this.nextTickNs = (Math.floor(nowUs / TICK_US) + 1) * TICK_US * 1000;
    const { ctx } = this;
    if (this.curr && nowUs - this.sliceStartUs >= TIMESLICE_US && this.slots.some((s) => s !== this.curr && this.runnable(s))) {
      Atomics.store(ctx.mem, ctx.m.cpu(this.cpu, CPU_FIELD.NEED_RESCHED), 1);
    }
    this.checkHungTasks();
  }

  /** khungtaskd: a task asleep on a lock (no timer) for HUNG_TASK_LOCKUPS lockup limits ends the run. */
  checkHungTasks(): void {
    const nowUs = this.ctx.watchNow();
    const hungUs = this.ctx.config.lockupMs * 1000 * HUNG_TASK_LOCKUPS;
    for (const s of this.slots) {
      if (s.exited || s.onRq || s.timerWakeAtNs !== Infinity || this.state(s) !== TaskState.SLEEPING) continue;
      if (nowUs - s.sleptAtUs > hungUs) throw new SoftLockup(this.cpu, `task ${s.index} asleep on a lock`, `blocked for ${Math.round((nowUs - s.sleptAtUs) / 1000)} ms (hung task)`);
    }
  }

  /**
   * Whether the current task may be switched out at the step point it
   * stopped at, need_resched being set. cond_resched (and might_resched under
   * voluntary) test only need_resched, as 2.6.38's should_resched does: in
   * atomic context, a bug already reported by might_sleep, they schedule
   * anyway. schedule() called by a task woken before it slept is a scheduling
   * point in every model.
   */
  private preemptibleAt(at: StepKind | -1): boolean {
    const { ctx } = this;
    const model = ctx.config.preempt;
    if (at === Step.RESCHED || (at === Step.MIGHT_RESCHED && model === 'voluntary')) return true;
    if (ctx.mem[ctx.m.cpu(this.cpu, CPU_FIELD.PREEMPT_COUNT)] !== 0 || !this.irqsEnabled()) return false;
    if (at === Step.USER || at === Step.YIELD || at === Step.SLEEP) return true;
    return model === 'full';
  }

  /** The next runnable task other than the current one: the real-time probe first, then round robin. */
  private pickNext(): Slot | null {
    const next = this.peekNext();
    if (next && next.spec.kind !== TaskKind.PROBE) this.cursor = this.slots.indexOf(next);
    return next;
  }

  /** The task pickNext would choose, leaving the round robin where it is. */
  private peekNext(): Slot | null {
    const n = this.slots.length;
    for (const s of this.slots) if (s.spec.kind === TaskKind.PROBE && s !== this.curr && this.runnable(s)) return s;
    for (let i = 1; i <= n; i++) {
      const s = this.slots[(this.cursor + i) % n]!;
      if (s !== this.curr && this.runnable(s)) return s;
    }
    return null;
  }

  /** context_switch(prev, next): save prev's thread state, switch the mm, load next's. */
  private contextSwitch(next: Slot | null, preempted: boolean): void {
    const { ctx } = this;
    const { m, mem } = ctx;
    const pcAt = m.cpu(this.cpu, CPU_FIELD.PREEMPT_COUNT);
    const irqAt = m.cpu(this.cpu, CPU_FIELD.IRQS_DISABLED);
    const prev = this.curr;
    if (prev) {
      prev.mm = ctx.mm;
      prev.preemptCount = mem[pcAt]!;
      prev.irqsDisabled = mem[irqAt]!;
      prev.ptlHeld = ctx.ptlHeld;
      prev.ptlFreedThisHold = ctx.ptlFreedThisHold;
      prev.gatherDepth = ctx.gatherDepth;
      prev.timerWakeAtNs = ctx.timerWakeAtNs;
      prev.fn = ctx.fn;
      mem[m.task(prev.index, TASK_FIELD.PREEMPT_COUNT)] = prev.preemptCount;
      ctx.trace?.instant(preempted ? 'preempt' : 'switch', 'sched', ctx.now(), { prev: prev.index, next: next ? next.index : -1, inGather: prev.gatherDepth, at: `${prev.fn}:${STEP_NAMES[prev.at] ?? 'START'}` });
      const prevStats = taskCounters(prev.rec);
      if (preempted) {
        prevStats.involuntarySwitches++;
        if (prev.gatherDepth > 0) {
          mark('preemptedInGather');
          prevStats.preemptionsInGather++;
        }
      } else if (!prev.exited) {
        prevStats.voluntarySwitches++; // it slept or yielded
      }
      // a task that sleeps while atomic (a reported bug) takes its preempt_count and irq state with it;
      // finish_task_switch turns interrupts on for the next one
      if (preempted && prev.at !== Step.YIELD) this.countPoint(prev.fn, prev.at, 1);
      if (prev.preemptCount > 0 || prev.irqsDisabled > 0) sectionClose(ctx, 'schedule');
      mem[irqAt] = 0;
    }
    Atomics.store(mem, m.cpu(this.cpu, CPU_FIELD.NEED_RESCHED), 0);
    Atomics.add(mem, m.cpu(this.cpu, CPU_FIELD.NR_SWITCHES), 1);
    this.curr = next;
    if (!next) {
      this.updateEarliestTimer();
      this.load(-1, -1, this.idleStats, 0);
      if (activeMm(ctx) >= 0) enterLazyTlb(ctx);
      return;
    }
    next.onRq = true;
    clockAtLeast(ctx, loadNs(mem, m.task(next.index, TASK_FIELD.WAKE_NS)) + ctx.costs.wakeupNs);
    if (next !== prev) charge(ctx, ctx.costs.contextSwitchNs);
    this.load(next.index, next.mm, taskCounters(next.rec), next.preemptCount);
    ctx.ptlHeld = next.ptlHeld;
    ctx.ptlFreedThisHold = next.ptlFreedThisHold;
    ctx.gatherDepth = next.gatherDepth;
    ctx.fn = next.fn;
    ctx.timerWakeAtNs = Infinity;
    next.timerWakeAtNs = Infinity;
    mem[irqAt] = next.irqsDisabled;
    if (next.preemptCount > 0 || next.irqsDisabled > 0) sectionOpen(ctx, 'schedule');
    if (next.mm >= 0) switchMm(ctx, next.mm);
    else if (activeMm(ctx) >= 0) enterLazyTlb(ctx);
    this.sliceStartUs = ctx.now();
    this.updateEarliestTimer();
    if (next.path === null) next.path = new PathStack(this.start(next));
  }

  private load(task: number, mm: number, stats: Counters, preemptCount: number): void {
    const { ctx } = this;
    ctx.task = task;
    ctx.mm = mm;
    ctx.stats = stats;
    ctx.mem[ctx.m.cpu(this.cpu, CPU_FIELD.PREEMPT_COUNT)] = preemptCount;
    Atomics.store(ctx.mem, ctx.m.cpu(this.cpu, CPU_FIELD.CURRENT_TASK), task + 1);
  }

  private start(s: Slot): Path {
    if (s.spec.kind === TaskKind.KWORKER) return kworkerThread(this.ctx);
    if (s.spec.kind === TaskKind.PROBE) return probeThread(this.ctx);
    if (s.spec.kind === TaskKind.FLUSHER) return bdiFlusherThread(this.ctx);
    return userTaskPath(this.workload, this.ctx, s.rec, s.spec);
  }

  private finishCurrent(): void {
    const { ctx } = this;
    const s = this.curr!;
    modelAssert(ctx.ptlHeld === 0 && ctx.mem[ctx.m.cpu(this.cpu, CPU_FIELD.PREEMPT_COUNT)] === 0 && this.irqsEnabled(), 'task ended in atomic context', () => `task ${ctx.task} on cpu ${this.cpu}`);
    modelAssert(ctx.gatherDepth === 0, 'task ended inside a gather', () => `task ${ctx.task}`);
    s.rec.finished = true;
    s.exited = true;
    s.onRq = false;
    s.path = null;
    Atomics.store(ctx.mem, ctx.m.task(s.index, TASK_FIELD.STATE), TaskState.EXITED);
    if (s.spec.kind === TaskKind.USER && Atomics.sub(ctx.mem, HDR.LIVE_TASKS, 1) === 1) changedForAll(ctx.m); // every cpu's kernel threads are to stop
    s.mm = ctx.mm;
    this.contextSwitch(null, false);
  }

  /**
   * Take pending interrupts, let the scheduler act, then one step of the
   * current task. Returns the step kind, or -1 if no task ran.
   */
  step(): StepKind | -1 {
    const { ctx } = this;
    if (this.steps === this.crashAtStep) throw new Error(`injected crash on cpu ${this.cpu} at its step ${this.steps}`);
    const ipiPending = this.hasPendingIpi();
    this.timed = false;
    if ((ipiPending || ctx.clockNs >= this.nextTickNs || this.earliestTimerNs <= ctx.clockNs) && this.irqsEnabled() && this.takeInterruptsNow(ipiPending)) {
      if (ipiPending) {
        // a cpu that only waits takes an IPI at once; one with a task to run goes on until it arrives (as the clocks count waiting: observe)
        const waits = this.curr === null || this.lastKind === Step.SPIN || (this.lastKind === Step.YIELD && this.runnableOthers().length === 0);
        serviceIpis(ctx, waits ? Infinity : ctx.clockNs);
        if (!waits && this.hasPendingIpi()) this.timed = true;
      }
      if (ctx.clockNs >= this.nextTickNs) {
        this.timed = true;
        this.schedulerTick(ctx.now());
      }
      if (this.earliestTimerNs <= ctx.clockNs) {
        this.timed = true;
        this.fireTimers(ctx.clockNs);
      }
    }
    if (this.kthreadsToStop()) {
      this.kthreadsStopped = true; // kthread_stop: wake each so it sees kthread_should_stop()
      for (const s of this.slots) if (!s.exited && s.spec.kind !== TaskKind.USER) wakeUpProcess(ctx, s.index);
    }
    const curr = this.curr;
    if (curr) {
      if (curr.at === Step.SLEEP && this.state(curr) === TaskState.SLEEPING) {
        curr.onRq = false; // deactivate_task: it sleeps until someone wakes it
        curr.sleptAtUs = ctx.watchNow();
        this.contextSwitch(this.pickNext(), false);
      } else if (curr.at === Step.YIELD) {
        // sched_yield: the task stays runnable, so the kernel counts it as involuntary (nivcsw)
        const next = this.pickNext();
        if (next) this.contextSwitch(next, true);
      } else {
        this.reschedule(curr);
      }
    } else {
      const next = this.pickNext();
      if (next) this.contextSwitch(next, false);
    }
    const s = this.curr;
    this.steppedTask = -1;
    if (s === null) return (this.lastKind = -1);
    this.steps++;
    this.steppedTask = s.index;
    this.taskStepStarts?.();
    const kind = s.path!.next();
    this.polled = ctx.polled;
    ctx.polled = false;
    if (kind === PATH_DONE) {
      this.finishCurrent();
      return (this.lastKind = -1);
    }
    ctx.clockNs += ctx.stepCostNs[kind]!;
    if (kind === Step.YIELD) this.yieldEpoch = Atomics.load(ctx.mem, HDR.WORD_EPOCH);
    if (s.spec.kind === TaskKind.USER) this.activeUntilNs = ctx.clockNs;
    s.at = kind;
    return (this.lastKind = kind);
  }

  /**
   * The last step did something only because of this cpu's model clock: an
   * IPI left pending as not yet arrived, the tick, a timer. Another order of
   * independent steps may move the clock, so bounded's reduction trusts no
   * reordering across such a step (bounded.ts).
   */
  timed = false;

  /** Called between the scheduler's part of a step and the task's own (the engine's footprint recorder splits them there). */
  taskStepStarts: (() => void) | null = null;

  /** The task that took the last step here (-1 when no task ran): set before it runs, so a task that ended in it is still named. */
  steppedTask = -1;

  /** The last step of its task only polled a word another task will change (workload.ts pollWordAt). */
  polled = false;

  /** The model time of this cpu's last step of a user task (ns): where the run's length ends. */
  activeUntilNs = 0;

  /** This cpu's model clock, ns. */
  get clockNs(): number {
    return this.ctx.clockNs;
  }

  /**
   * The cpu as the clocks see it (clocks.ts), worked out by observe() once
   * per look, since each part needs the runqueue walked:
   * - busy: a task could run;
   * - userWait: its task waits in user space and no other task of the cpu
   *   is runnable (and no workload word changed since it last looked);
   * - waits: it holds no running cpu back by its clock (idle, or its task
   *   only waits for another cpu: a spin, a user-space wait);
   * - work: something is due now (a task, an interrupt raised, a timer
   *   expired, kernel threads to stop);
   * - actNs: the earliest model time it may next make an event another cpu
   *   could see: its clock (a spinner's too: it acks IPIs at its clock);
   *   while idle or in a user-space wait, its next timer;
   * - holdNs: how far it holds the running cpus back: its clock while it
   *   runs; Infinity while it waits (a user-space waiter at its next timer
   *   holds there, as it will take the timer when it steps); IDLE_HOLD
   *   while idle, for the asking cpu to work out.
   */
  readonly seen = { busy: false, userWait: false, waits: true, work: false, actNs: 0, holdNs: 0 };

  observe(): void {
    const v = this.seen;
    const clockNs = this.ctx.clockNs;
    const busy = this.busy;
    // a user-space waiter alone on its cpu, like an idle cpu, makes no event of its own before its next timer until a workload word changes
    const waitsInUser = busy && this.lastKind === Step.YIELD && Atomics.load(this.ctx.mem, HDR.WORD_EPOCH) === this.yieldEpoch && this.runnableOthers().length === 0;
    const ipiPending = this.hasPendingIpi();
    const actsNow = (busy && !waitsInUser) || ipiPending || this.kthreadsToStop();
    v.busy = busy;
    v.userWait = waitsInUser;
    // waits: holds no running cpu back by its clock, or has an interrupt to take, so nothing may hold it back
    v.waits = !busy || ipiPending || this.lastKind === Step.SPIN || waitsInUser;
    v.work = busy || actsNow || this.earliestTimerNs <= clockNs;
    v.actNs = actsNow ? clockNs : Math.max(clockNs, this.earliestTimerNs);
    if (!busy) v.holdNs = actsNow ? clockNs : IDLE_HOLD;
    else if (this.lastKind === Step.SPIN) v.holdNs = Infinity; // a spinner must not hold back the cpu it waits for, nor any cpu that cpu waits for
    else if (waitsInUser) v.holdNs = this.earliestTimerNs <= clockNs ? clockNs : Infinity;
    else v.holdNs = clockNs;
  }

  /**
   * Its last step only waited for another cpu, and another step would only
   * wait again until a kick (pv.ts) says what it waits for changed: a failed
   * spin where no task may preempt it and no interrupt is raised, or a lone
   * user-space wait. Needs a fresh observe().
   */
  waitsForKick(): boolean {
    if (this.lastKind === Step.YIELD) return this.seen.userWait;
    return this.lastKind === Step.SPIN && !this.hasPendingIpi() && this.preemptors().length === 0;
  }

  /**
   * Time passes for a cpu that waits with nothing of its own to time it (an
   * idle cpu, a task in a user-space wait) only up to its next timer, and
   * only once no other cpu may act before it (`othersNs`, the others'
   * earliest act horizon): then it takes the timer at its expiry, however
   * far the others have run. Otherwise its clock stays: what it waits for
   * (a wake-up, an IPI, a workload word) carries its own time. An interrupt
   * already raised is taken first. Needs a fresh observe(); says whether
   * the clock moved (observe() again then).
   */
  followOthers(othersNs: number): boolean {
    const v = this.seen;
    if (v.busy ? !v.userWait : v.actNs === this.ctx.clockNs && v.work) return false;
    const timerNs = this.earliestTimerNs;
    if (timerNs > othersNs || timerNs <= this.ctx.clockNs || timerNs === Infinity) return false;
    clockAtLeast(this.ctx, timerNs);
    return true;
  }


  /**
   * The scheduler's look at a running task: with need_resched set, switch if
   * the point allows it; otherwise a deterministic strategy may preempt here
   * (at a preemption point) or have a wake-up set need_resched (elsewhere).
   */
  private reschedule(curr: Slot): void {
    const { ctx } = this;
    const needAt = ctx.m.cpu(this.cpu, CPU_FIELD.NEED_RESCHED);
    const needResched = Atomics.load(ctx.mem, needAt) !== 0;
    if (!needResched && (this.decider === null || curr.at === -1 || this.slots.length < 2)) return; // a task that has not run yet is at no point of its own
    if (this.preemptibleAt(curr.at)) {
      if (!needResched) return this.preemptIfChosen(curr);
      const next = this.pickNext();
      if (next) {
        this.countPoint(ctx.fn, curr.at, 0);
        this.contextSwitch(next, true);
      } else {
        Atomics.store(ctx.mem, needAt, 0);
      }
    } else if (!needResched) {
      const others = this.runnableOthers();
      if (others.length > 0 && this.decider!.resched(this.cpu, curr.index, others)) {
        mark('wakeupSetNeedResched');
        Atomics.store(ctx.mem, needAt, 1);
      }
    }
  }

  /** Let a deterministic strategy decide preemptions and interrupt timing on this cpu. */
  decideWith(decider: StepDecider): void {
    this.decider = decider;
  }

  /**
   * Whether pending interrupts are taken at this step point: at once, unless
   * a task runs here and the strategy puts them off, which it may do for at
   * most IRQ_DEFER_STEPS_MAX steps of this cpu.
   */
  private takeInterruptsNow(ipiPending: boolean): boolean {
    if (this.decider === null || this.curr === null) return true;
    const clockNs = this.ctx.clockNs;
    if (!ipiPending && clockNs < this.nextTickNs && this.earliestTimerNs > clockNs) return true;
    if (this.irqDeferred >= IRQ_DEFER_STEPS_MAX || this.decider.takeInterrupt(this.cpu, this.irqDeferred)) {
      this.irqDeferred = 0;
      return true;
    }
    this.irqDeferred++;
    mark('interruptPutOff');
    return false;
  }

  /** The other tasks that are runnable now, by task number (a view into a reused buffer). */
  private runnableOthers(): readonly number[] {
    const out = this.othersBuf;
    let n = 0;
    for (const s of this.slots) if (s !== this.curr && this.runnable(s)) out[n++] = s.index;
    if (out.length !== n) out.length = n; // resizing an array every step is a measurable cost; it rarely changes
    return out;
  }

  /** At a preemption point with need_resched clear: the strategy may switch to another runnable task (the tick or a wake-up would have set it). */
  private preemptIfChosen(curr: Slot): void {
    const others = this.runnableOthers();
    if (others.length === 0) return;
    this.countPoint(this.ctx.fn, curr.at, 0);
    const i = this.decider!.preempt(this.cpu, curr.index, others);
    if (i < 0) return;
    const next = this.slots.find((s) => s.index === others[i]);
    modelAssert(next !== undefined && next !== curr, 'a preemption chose a task that cannot run here', () => `task ${others[i]} on cpu ${this.cpu}`);
    this.contextSwitch(next, true);
  }

  private countPoint(fn: string, at: StepKind | -1, preempted: 0 | 1): void {
    if (this.decider === null || at < 0) return;
    let counts = this.points.get(fn);
    if (!counts) this.points.set(fn, (counts = new Int32Array(2 * STEP_NAMES.length)));
    counts[2 * at + preempted]!++;
  }

  /** The task this cpu steps next unless a strategy preempts it, or -1 when it has only interrupts or timers to take. */
  nextTask(): number {
    const c = this.curr;
    if (c !== null && !(c.at === Step.SLEEP && this.state(c) === TaskState.SLEEPING) && c.at !== Step.YIELD) return c.index;
    const next = this.peekNext();
    if (next) return next.index;
    return c !== null && c.at === Step.YIELD ? c.index : -1;
  }

  /** The tasks that could preempt the current task where it stopped: none unless that is a preemption point. */
  preemptors(): readonly number[] {
    const c = this.curr;
    if (c === null || c.at === -1 || c.at === Step.YIELD || !this.preemptibleAt(c.at)) return [];
    if (c.at === Step.SLEEP && this.state(c) === TaskState.SLEEPING) return []; // it leaves the cpu anyway
    return this.runnableOthers();
  }

  /** Preemption points passed on this cpu and how often each was preempted. */
  preemptionPoints(): PointCount[] {
    const out: PointCount[] = [];
    for (const [fn, counts] of this.points) {
      for (let kind = 0; kind < STEP_NAMES.length; kind++) {
        const passed = counts[2 * kind]!;
        if (passed > 0 || counts[2 * kind + 1]! > 0) out.push({ point: `${fn}:${STEP_NAMES[kind]}`, passed, preempted: counts[2 * kind + 1]! });
      }
    }
    return out;
  }

  traceViolation(v: Violation): void {
    this.ctx.trace?.instant(v.rule, 'violation', this.ctx.now(), { detail: v.detail, task: v.task, frame: v.frame });
  }

  /** What this cpu measured, for the result. */
  report(threadId: number, violations: Violation[], violationsDropped: number, error: RunError | null): CpuReport {
    return {
      cpu: this.cpu,
      threadId,
      steps: this.steps,
      records: this.records,
      cpuStats: this.ctx.cpuStats,
      idleStats: this.idleStats,
      violations,
      violationsDropped,
      latency: this.ctx.lat.encode(),
      lockStat: this.ctx.lockStat.snapshot(),
      trace: this.ctx.trace ? { events: this.ctx.trace.events, dropped: this.ctx.trace.dropped } : null,
      error,
      activeUntilNs: this.activeUntilNs,
    };
  }
}
