// How the deterministic engine decides a schedule. Four kinds of decision
// make one: which cpu takes the next step; at a preemption point of a cpu's
// current task, whether another runnable task of that cpu runs instead (the
// kernel would need need_resched set there, by the tick or by a wake-up; the
// strategy stands for both); elsewhere, whether a wake-up sets need_resched
// now, so that code testing need_resched() sees it and the switch comes at
// the next point the preemption model allows; and, while an interrupt waits
// for a cpu that runs a task with interrupts on, whether it is taken at this step point or
// put off (at most IRQ_DEFER_STEPS_MAX of that cpu's steps: delivery takes
// time while the target goes on). Every decision comes from the run's seed,
// so a run is reproducible from its config alone, and every decision can be
// recorded and replayed.
// - random: uniform over the cpus with work; each seed draws its own
//   preemption density, log-uniform between once in 4096 points and every
//   point (the same density for wake-ups), and its own interrupt delay (half the seeds take interrupts at
//   once, the others put them off with a probability drawn up to 63/64).
// - pct: probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010)
//   over tasks, as the paper's threads: each task gets a random priority
//   above depth d; the highest-priority task that can run runs (on its cpu,
//   preempting the current task at a preemption point when that one ranks
//   lower, and elsewhere waking as a higher-priority task would: need_resched
//   set); at d - 1 random steps the running task drops to priority d - i.
//   Each cpu's interrupt context ranks as one more thread, as CHESS treats
//   interrupts: an idle cpu takes its interrupts when its context ranks
//   highest, and a cpu running a task takes them at once only when its
//   context outranks the task (otherwise as late as IRQ_DEFER_STEPS_MAX).
//   For a bug of depth d among n threads and k steps it finds it with
//   probability at least 1 / (n * k^(d-1)) per run. PCT assumes threads
//   block rather than spin; a task that only waited (a failed spin, a yield)
//   drops below every other, as Shuttle and Coyote do. A task that never
//   waits would then starve the waiters for good, so past PCT's horizon of k
//   steps every decision becomes the random strategy's, as Coyote's
//   prioritization falls back to random scheduling after its unfair steps.
// - replay: the recorded decisions, then the seed's after them.

import type { RunConfig } from '../machine/config.ts';
import { Rng } from '../machine/rng.ts';
import type { Footprint } from './footprint.ts';

/** What a strategy may ask of the cpus; the deterministic engine answers from its runners. */
export interface SchedView {
  /** The task `cpu` steps next unless a strategy preempts it, or -1 when it has only interrupts or timers to take. */
  nextTask(cpu: number): number;
  /** The tasks that could preempt `cpu`'s current task where it stopped (none unless that is a preemption point). */
  preemptors(cpu: number): readonly number[];
}

export interface Chooser {
  /** Index into `ready` (cpu numbers with work, ascending) of the cpu to step. */
  choose(ready: readonly number[], step: number): number;
  /** The task just stepped on `cpu` only waited (a failed spin, a yield): it cannot make progress alone. */
  waited?(cpu: number, task: number): void;
  /**
   * The task just stepped on `cpu` polled a word only another task will
   * change, in a loop that ends only then (workload.ts pollWordAt): it ran,
   * but a fair schedule lets the others go first. random and pct are fair
   * by chance (random preempts at a seed's density, pct falls back to
   * random past its horizon) and ignore it; bounded cannot be, and does not.
   */
  polled?(cpu: number, task: number): void;
  /** `cpu`'s task `current` is at a preemption point and `others` could run: the index into `others` of the task to switch to, or -1. */
  preempt(cpu: number, current: number, others: readonly number[]): number;
  /** `cpu`'s task `current` is not at a preemption point and `others` could run: does a wake-up set need_resched now? */
  resched(cpu: number, current: number, others: readonly number[]): boolean;
  /** An interrupt waits for `cpu`, whose task runs with interrupts on; it was put off `deferred` times: take it at this point? */
  takeInterrupt(cpu: number, deferred: number): boolean;
  /** The engine's view of its cpus, given before the first step. */
  attach?(view: SchedView): void;
  /**
   * A chooser that has this gets every step's footprint (footprint.ts), in
   * two parts: what the cpu's interrupts and scheduler did (`sched`), then
   * what `task`'s own step did (`own`; empty, and task -1, when no task
   * stepped). `timed`: the step did something only because of its cpu's
   * model clock (runner.ts timed). Returning true ends the run there: what
   * follows is covered by schedules already run (bounded.ts's reduction).
   */
  stepped?(cpu: number, task: number, sched: Footprint, own: Footprint, timed: boolean): boolean;
}

/** The longest a pending interrupt may be put off, in steps of the cpu it waits for. */
export const IRQ_DEFER_STEPS_MAX = 64;

/** random's preemption density is 2^-x for x uniform in [0, this]: from every point down to once in 4096. */
const PREEMPT_DENSITY_LOG2_RANGE = 12;
const IRQ_DEFER_P_MAX = 63 / 64;

/** The preemption and interrupt decisions of the random strategy, also PCT's after its horizon. */
class RandomDecisions {
  readonly rng: Rng;
  /** The chance to preempt at each preemption point where another task could run. */
  readonly preemptP: number;
  /** The chance to put off a pending interrupt at each step point. */
  readonly irqDeferP: number;
  constructor(seed: number) {
    this.rng = new Rng((seed ^ 0x5bd1e995) >>> 0);
    this.preemptP = 2 ** (-(this.rng.u32() / 4294967296) * PREEMPT_DENSITY_LOG2_RANGE);
    const u = this.rng.u32() / 4294967296;
    this.irqDeferP = u < 0.5 ? 0 : (u - 0.5) * 2 * IRQ_DEFER_P_MAX;
  }
  preempt(others: readonly number[]): number {
    if (!this.rng.chance(this.preemptP)) return -1;
    return others.length === 1 ? 0 : this.rng.below(others.length);
  }
  resched(): boolean {
    return this.rng.chance(this.preemptP);
  }
  takeInterrupt(): boolean {
    return this.irqDeferP === 0 || !this.rng.chance(this.irqDeferP);
  }
}

class RandomChooser implements Chooser {
  private readonly rng: Rng;
  private readonly decisions: RandomDecisions;
  constructor(seed: number) {
    this.rng = new Rng(seed);
    this.decisions = new RandomDecisions(seed);
  }
  choose(ready: readonly number[]): number {
    return ready.length === 1 ? 0 : this.rng.below(ready.length);
  }
  preempt(_cpu: number, _current: number, others: readonly number[]): number {
    return this.decisions.preempt(others);
  }
  resched(): boolean {
    return this.decisions.resched();
  }
  takeInterrupt(): boolean {
    return this.decisions.takeInterrupt();
  }
}

class PctChooser implements Chooser {
  /** By task, then each cpu's interrupt context (entity tasks + cpu). */
  private readonly priority: number[];
  /** step -> the priority the running task drops to there */
  private readonly changes = new Map<number, number>();
  private view: SchedView | null = null;
  private readonly fair: RandomChooser;
  private unfair = true;
  /** The lowest priority any thread has: priorities only ever drop, so it is kept rather than searched for at every wait. */
  private lowest: number;
  constructor(seed: number, private readonly tasks: number, cpus: number, depth: number, private readonly horizonSteps: number) {
    const rng = new Rng(seed);
    // a random permutation of depth .. depth + threads - 1
    const threads = tasks + cpus;
    this.priority = Array.from({ length: threads }, (_, i) => depth + i);
    for (let i = threads - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      [this.priority[i], this.priority[j]] = [this.priority[j]!, this.priority[i]!];
    }
    for (let i = 1; i < depth; i++) this.changes.set(1 + rng.below(Math.max(1, horizonSteps)), depth - i);
    this.lowest = depth;
    this.fair = new RandomChooser(seed);
  }
  attach(view: SchedView): void {
    this.view = view;
  }
  waited(_cpu: number, task: number): void {
    if (task >= 0) this.priority[task] = --this.lowest;
  }
  /** The thread of `cpu` that PCT would run now: its next task, a higher-ranked one that may preempt it, or its interrupt context. */
  private best(cpu: number): number {
    const view = this.view!;
    let task = view.nextTask(cpu);
    if (task < 0) return this.tasks + cpu;
    for (const o of view.preemptors(cpu)) if (this.priority[o]! > this.priority[task]!) task = o;
    return task;
  }
  private rank(cpu: number): number {
    return this.priority[this.best(cpu)]!;
  }
  private highest(ready: readonly number[]): number {
    let best = 0;
    let bestRank = this.rank(ready[0]!);
    for (let i = 1; i < ready.length; i++) {
      const r = this.rank(ready[i]!);
      if (r > bestRank) [best, bestRank] = [i, r];
    }
    return best;
  }
  choose(ready: readonly number[], step: number): number {
    if (step >= this.horizonSteps) this.unfair = false;
    if (!this.unfair) return this.fair.choose(ready);
    const drop = this.changes.get(step);
    if (ready.length === 1 && drop === undefined) return 0;
    let best = this.highest(ready);
    if (drop !== undefined) {
      this.priority[this.best(ready[best]!)] = drop;
      this.lowest = Math.min(this.lowest, drop);
      best = this.highest(ready);
    }
    return best;
  }
  preempt(cpu: number, current: number, others: readonly number[]): number {
    if (!this.unfair) return this.fair.preempt(cpu, current, others);
    let best = -1;
    let bestPriority = this.priority[current]!;
    for (let i = 0; i < others.length; i++) {
      if (this.priority[others[i]!]! > bestPriority) [best, bestPriority] = [i, this.priority[others[i]!]!];
    }
    return best;
  }
  /** A higher-priority task is runnable: its wake-up would have set need_resched (check_preempt_curr). */
  resched(cpu: number, current: number, others: readonly number[]): boolean {
    if (!this.unfair) return this.fair.resched();
    return this.preempt(cpu, current, others) >= 0;
  }
  takeInterrupt(cpu: number): boolean {
    if (!this.unfair) return this.fair.takeInterrupt();
    const task = this.view!.nextTask(cpu);
    return task < 0 || this.priority[this.tasks + cpu]! > this.priority[task]!;
  }
}

/** A run's decisions, as an artifact keeps them. */
export interface RecordedSchedule {
  /** Run-length encoded cpu choices: [cpu, count, cpu, count, ...]. */
  decisions: number[];
  /** The preemptions a strategy chose: [step, task switched to, ...]. */
  preemptions: number[];
  /** The steps at which a strategy's wake-up set need_resched. */
  reschedules: number[];
  /** The steps at which a pending interrupt was put off. */
  irqDeferrals: number[];
}

export function emptySchedule(): RecordedSchedule {
  return { decisions: [], preemptions: [], reschedules: [], irqDeferrals: [] };
}

/** Records every decision a chooser makes. */
export class DecisionLog implements RecordedSchedule {
  readonly decisions: number[] = [];
  readonly preemptions: number[] = [];
  readonly reschedules: number[] = [];
  readonly irqDeferrals: number[] = [];
  record(cpu: number): void {
    const runs = this.decisions;
    const n = runs.length;
    if (n > 0 && runs[n - 2] === cpu) runs[n - 1]!++;
    else runs.push(cpu, 1);
  }
  schedule(): RecordedSchedule {
    return { decisions: [...this.decisions], preemptions: [...this.preemptions], reschedules: [...this.reschedules], irqDeferrals: [...this.irqDeferrals] };
  }
}

class RecordingChooser implements Chooser {
  private step = 0;
  constructor(private readonly inner: Chooser, private readonly log: DecisionLog) {}
  attach(view: SchedView): void {
    this.inner.attach?.(view);
  }
  waited(cpu: number, task: number): void {
    this.inner.waited?.(cpu, task);
  }
  polled(cpu: number, task: number): void {
    this.inner.polled?.(cpu, task);
  }
  choose(ready: readonly number[], step: number): number {
    this.step = step;
    const i = this.inner.choose(ready, step);
    this.log.record(ready[i]!);
    return i;
  }
  preempt(cpu: number, current: number, others: readonly number[]): number {
    const i = this.inner.preempt(cpu, current, others);
    if (i >= 0) this.log.preemptions.push(this.step, others[i]!);
    return i;
  }
  resched(cpu: number, current: number, others: readonly number[]): boolean {
    const set = this.inner.resched(cpu, current, others);
    if (set) this.log.reschedules.push(this.step);
    return set;
  }
  takeInterrupt(cpu: number, deferred: number): boolean {
    const take = this.inner.takeInterrupt(cpu, deferred);
    if (!take) this.log.irqDeferrals.push(this.step);
    return take;
  }
}

class ReplayChooser implements Chooser {
  private at = 0;
  private left: number;
  private step = 0;
  private readonly recordedSteps: number;
  private readonly preemptAt = new Map<number, number>();
  private readonly deferAt: Set<number>;
  private readonly reschedAt: Set<number>;
  constructor(private readonly recorded: RecordedSchedule, private readonly after: Chooser) {
    const runs = recorded.decisions;
    this.left = runs[1] ?? 0;
    let steps = 0;
    for (let i = 1; i < runs.length; i += 2) steps += runs[i]!;
    this.recordedSteps = steps;
    for (let i = 0; i + 1 < recorded.preemptions.length; i += 2) this.preemptAt.set(recorded.preemptions[i]!, recorded.preemptions[i + 1]!);
    this.deferAt = new Set(recorded.irqDeferrals);
    this.reschedAt = new Set(recorded.reschedules);
  }
  attach(view: SchedView): void {
    this.after.attach?.(view);
  }
  waited(cpu: number, task: number): void {
    this.after.waited?.(cpu, task);
  }
  polled(cpu: number, task: number): void {
    this.after.polled?.(cpu, task);
  }
  choose(ready: readonly number[], step: number): number {
    this.step = step;
    const runs = this.recorded.decisions;
    while (this.at < runs.length && this.left === 0) {
      this.at += 2;
      this.left = runs[this.at + 1] ?? 0;
    }
    if (this.at < runs.length) {
      const i = ready.indexOf(runs[this.at]!);
      if (i >= 0) {
        this.left--;
        return i;
      }
      this.at = runs.length; // the recording no longer fits this run: go on with the seed
    }
    return this.after.choose(ready, step);
  }
  preempt(cpu: number, current: number, others: readonly number[]): number {
    if (this.step >= this.recordedSteps) return this.after.preempt(cpu, current, others);
    const task = this.preemptAt.get(this.step);
    return task === undefined ? -1 : others.indexOf(task);
  }
  resched(cpu: number, current: number, others: readonly number[]): boolean {
    if (this.step >= this.recordedSteps) return this.after.resched(cpu, current, others);
    return this.reschedAt.has(this.step);
  }
  takeInterrupt(cpu: number, deferred: number): boolean {
    if (this.step >= this.recordedSteps) return this.after.takeInterrupt(cpu, deferred);
    return !this.deferAt.has(this.step);
  }
}

/** The config's strategy, following `replay` first when given; `tasks` is the size of the task table. */
export function makeChooser(config: RunConfig, tasks: number, replay?: RecordedSchedule): Chooser {
  const base: Chooser = config.strategy.kind === 'pct' ? new PctChooser(config.seed, tasks, config.cpus, config.strategy.depth, config.strategy.steps) : new RandomChooser(config.seed);
  return replay ? new ReplayChooser(replay, base) : base;
}

/** Wrap a chooser so that `log` gets every decision it makes. */
export function recording(chooser: Chooser, log: DecisionLog): Chooser {
  return new RecordingChooser(chooser, log);
}

/** PCT's lower bound on the chance one run finds a bug of depth d: 1 / (n * k^(d-1)), n threads (tasks and interrupt contexts). */
export function pctBound(threads: number, steps: number, depth: number): number {
  return 1 / (threads * Math.pow(Math.max(1, steps), depth - 1));
}
