// Systematic exploration with a preemption bound (CHESS, Musuvathi and
// Qadeer, PLDI 2007): every schedule of the scenario with at most k
// preemptions, run one after another by re-execution. A preemption is a
// switch away from a task that could have continued: another cpu taking the
// step while the cpu that stepped last could step again, or another task of
// a cpu taking over at a preemption point of its current task. Choosing
// among cpus when the last one has no work, or only waited (a failed spin, a
// yield, a poll of a word only another task sets: it cannot progress alone),
// is free, and the default then moves on round robin, so spin loops cannot
// livelock a run; a task that only polled also gives way to the next task of
// its cpu (CHESS's fair schedules: none runs a poller for ever); the kernel's own
// switches (sleeps, yields, the tick) are not choices. Interrupts are taken
// at once. Each run follows a prefix of decisions and then never preempts;
// backtracking takes the deepest decision with an untried alternative
// within the bound. The space is exhausted when no such decision is left,
// or the run stops at --max-schedules and says so.
// Partial-order reduction (DESIGN 4) keeps that meaning while running each
// reordering of independent steps once: a switch is covered by the same
// switch at the decision after the stretch its actor would have taken
// instead, which has the same preemptions, when what the switch runs and
// that stretch touch nothing the other changes (footprint.ts). Invariant:
// every schedule left unrun, or cut short, is such a reordering of one run
// to its end within the same bound.

import type { RunConfig } from '../machine/config.ts';
import type { Machine } from '../machine/layout.ts';
import { modelAssert } from '../machine/errors.ts';
import { mark } from '../machine/marks.ts';
import { runDeterministic } from './deterministic.ts';
import { groupViolations, type FoundGroup } from './campaign.ts';
import { DecisionLog, type Chooser, type RecordedSchedule } from './strategy.ts';
import { conflicts, sameFootprint, union, type Footprint } from './footprint.ts';

/** A task decision's option for letting the current task go on. */
const CONTINUE = -1;

interface ChoicePoint {
  /** cpus (a cpu decision), or CONTINUE and the tasks that could preempt (a task decision). */
  options: number[];
  /** Whether taking each option is a preemption. */
  preempts: boolean[];
  chosen: number;
  preemptionsBefore: number;
  tried: Set<number>;
  /**
   * Who the option that is no preemption lets go on (the reduction's
   * actor): a task decision's current task on its cpu, or a cpu decision's
   * last cpu, whatever task it runs (task -1); cpu -1 when every option is
   * free (the last cpu could not go on).
   */
  actor: Actor;
  /** That option: CONTINUE, or the last cpu. */
  goOn: number;
  /**
   * Once going on ran: the steps its actor took, alone, up to its next
   * decision of the same kind, where the same options were open at the
   * same preemption count (so "go on, then switch there" is a schedule of
   * the space); absent when it was not so.
   */
  stretch?: Stretch;
  /** That next decision. */
  next?: ChoicePoint;
  /** By option switched to: what every cpu did until the actor stepped again (one footprint for the whole burst). */
  bursts: Map<number, Footprint>;
}

interface Actor {
  cpu: number;
  /** The task, or -1 for any task of the cpu. */
  task: number;
}

function isActor(a: Actor, cpu: number, task: number): boolean {
  return cpu === a.cpu && (a.task < 0 || task === a.task);
}

/** An actor's steps from a decision to its next one: [sched, own] footprints of each, and what they touched in all. */
interface Stretch {
  steps: Footprint[];
  union: Footprint;
}

/** The longest stretch recorded: a bound, past which the decision simply has none. */
const STRETCH_STEPS_MAX = 4096;

/** Steps one explored run may take: the scenarios bounded exploration suits are small. */
export const BOUNDED_RUN_STEPS_MAX = 200_000;
/**
 * The watchdog's lockup limit in an explored run. The watchdog's clock
 * gives each busy cpu a µs per step, so 25 ms is at most 200,000 steps of
 * 8 cpus: a spin that lasts it is a lockup the run shows within its step
 * budget, where the default 2 s would leave every deadlock cut short at
 * the budget and so unreported. Fair schedules keep it true: a spinner
 * gives way after every failed look, so what it waits for gets the cpu.
 */
export const BOUNDED_LOCKUP_MS = 25;

/** The config an explored run takes: the step budget and lockup limit above (an artifact records it, so a replay is the same run). */
export function boundedConfig(config: RunConfig): RunConfig {
  return { ...config, maxSteps: Math.min(config.maxSteps, BOUNDED_RUN_STEPS_MAX), lockupMs: Math.min(config.lockupMs, BOUNDED_LOCKUP_MS) };
}

class BoundedChooser implements Chooser {
  /** Every decision of the run in order: a cpu, or a task decision's choice. */
  readonly trail: number[] = [];
  /** The decisions where another option was possible, by position in the trail. */
  readonly points = new Map<number, ChoicePoint>();
  private last = -1;
  private lastWaited = false;
  private preemptions = 0;
  /** By cpu: the task whose last step there only polled (strategy.ts polled), or -1. */
  private readonly pollers: Int32Array;
  /** The task that polled on the cpu stepping now: it gives way at its next preemption point. */
  private stepPoller = -1;
  /**
   * The sleep set (Godefroid 1996): actors with the stretch they took from
   * a decision where they went on, explored before with no more
   * preemptions. One stays asleep until a step of another actor touches
   * what its stretch changed or changes what it touched; a sleeping actor
   * that takes the same stretch again makes this schedule a reordering of
   * one already run.
   */
  private readonly sleep: { actor: Actor; stretch: Stretch; taken: number }[] = [];
  /** The decision whose going on runs for the first time, and the stretch it is recording. */
  private recording: { point: ChoicePoint; steps: Footprint[] } | null = null;
  /** A decision's switch being run: what happens until its actor steps again is that switch's burst. */
  private bursting: { point: ChoicePoint; option: number; steps: Footprint[] } | null = null;
  /**
   * Where the run is once it reached a reordering of a schedule already run
   * (a sleeping actor took its stretch again): NONE before; BLOCKED until
   * its next step, whose decisions are still explored (the schedule run
   * before had no decision there); CLOSED after that step, whose decisions
   * that schedule covers; the next step ends the run.
   */
  private redundancy: 'NONE' | 'BLOCKED' | 'CLOSED' = 'NONE';
  /** The run ended early for that reason. */
  cut = false;
  /**
   * A step of this run acted on its cpu's model clock (runner.ts timed),
   * which footprints leave out. Reordering the steps of two cpus leaves
   * every cpu's own steps, and so its clock at each, as they were; but
   * reordering two tasks of one cpu moves that cpu's clock at each step,
   * and through the times it publishes (a flush's send time, a lock's
   * release) the clocks of the cpus that wait for it. So from then on this
   * run trusts no reordering of tasks, and withdraws what it recorded for
   * task decisions.
   */
  private timedRun = false;
  /** The stretches and bursts this run recorded, to withdraw if it turns out timed. */
  private readonly recordedHere: { point: ChoicePoint; option: number | null }[] = [];
  /** Present only when reducing: the engine records footprints for a chooser that has it. */
  readonly stepped?: Chooser['stepped'];
  constructor(private readonly prefix: readonly number[], private readonly kept: ReadonlyMap<number, ChoicePoint>, cpus: number, reduce: boolean) {
    this.pollers = new Int32Array(cpus).fill(-1);
    if (reduce) this.stepped = (cpu, task, sched, own, timed) => this.footprint(cpu, task, sched, own, timed);
  }
  waited(cpu: number): void {
    if (cpu === this.last) this.lastWaited = true;
  }
  /** A poll is a yield to a fair scheduler (CHESS's fairness): the other cpus and tasks go first, and that switch is free. */
  polled(cpu: number, task: number): void {
    this.waited(cpu);
    this.pollers[cpu] = task;
  }
  choose(ready: readonly number[]): number {
    // after a wait the next cpu round robin is the only choice: branching on every spin would never end
    const forced = this.lastWaited && ready.length > 1;
    const lastCanGoOn = ready.includes(this.last) && !this.lastWaited;
    const preferred = lastCanGoOn ? this.last : (ready.find((c) => c > this.last) ?? ready[0]!);
    const at = this.trail.length;
    const cpu = at < this.prefix.length ? this.prefix[at]! : preferred;
    modelAssert(ready.includes(cpu), 'bounded exploration diverged from its prefix', () => `decision ${at}: cpu ${cpu} has no work`);
    this.trail.push(cpu);
    if (cpu !== preferred) this.leaveCovered();
    const rec = this.recording;
    let stretchEnded: ChoicePoint | null = null;
    if (rec !== null) {
      const sameCpuDecision = rec.point.actor.task < 0 && ready.length > 1 && !forced && lastCanGoOn && this.last === rec.point.actor.cpu;
      if (sameCpuDecision) stretchEnded = this.endStretch(rec.point.options.every((c) => ready.includes(c)));
      else if (cpu !== rec.point.actor.cpu || forced) this.endStretch(false);
    }
    if (ready.length > 1 && !forced) {
      const actor = { cpu: lastCanGoOn ? this.last : -1, task: -1 };
      const point = this.branch(at, [...ready], ready.map((c) => this.last >= 0 && c !== this.last && lastCanGoOn), cpu, actor, lastCanGoOn ? this.last : -1);
      if (stretchEnded !== null) stretchEnded.next = point;
      if (lastCanGoOn) this.reduceAt(point, cpu, at);
    }
    this.last = cpu;
    this.lastWaited = false;
    this.stepPoller = this.pollers[cpu]!;
    this.pollers[cpu] = -1;
    return ready.indexOf(cpu);
  }
  preempt(cpu: number, current: number, others: readonly number[]): number {
    const at = this.trail.length;
    const rec = this.recording;
    let stretchEnded: ChoicePoint | null = null;
    if (rec !== null && rec.point.actor.task >= 0 && rec.point.actor.cpu === cpu) {
      stretchEnded = this.endStretch(current === rec.point.actor.task && current !== this.stepPoller && rec.point.options.every((t) => t === CONTINUE || others.includes(t)));
    }
    if (current === this.stepPoller) {
      // a poller gives way to the next task round robin; not a choice, so not a preemption
      mark('pollerGaveWay');
      const next = others.find((t) => t > current) ?? others[0]!;
      this.trail.push(next);
      return others.indexOf(next);
    }
    const task = at < this.prefix.length ? this.prefix[at]! : CONTINUE;
    modelAssert(task === CONTINUE || others.includes(task), 'bounded exploration diverged from its prefix', () => `decision ${at}: task ${task} cannot run`);
    this.trail.push(task);
    if (task !== CONTINUE) this.leaveCovered();
    const point = this.branch(at, [CONTINUE, ...others], [false, ...others.map(() => true)], task, { cpu, task: current }, CONTINUE);
    if (stretchEnded !== null) stretchEnded.next = point;
    this.reduceAt(point, task, at);
    return task === CONTINUE ? -1 : others.indexOf(task);
  }

  /**
   * The reduction at a decision with an option that goes on: going on for
   * the first time records its stretch; a switch, explored after going on
   * (depth first), puts that stretch to sleep and records its burst.
   */
  private reduceAt(point: ChoicePoint, chosen: number, at: number): void {
    if (this.stepped === undefined || this.redundancy !== 'NONE' || (this.timedRun && point.actor.task >= 0)) return;
    // stretches and bursts are recorded only where every later decision is the default one, as in the schedules they stand for
    if (chosen === point.goOn) {
      if (point.stretch === undefined && this.recording === null && at >= this.prefix.length) this.recording = { point, steps: [] };
      return;
    }
    modelAssert(point.tried.has(point.goOn), 'a decision explored a switch before going on', () => `decision ${at}`);
    if (point.stretch !== undefined) this.sleep.push({ actor: point.actor, stretch: point.stretch, taken: 0 });
    if (!point.bursts.has(chosen) && this.bursting === null && at === this.prefix.length - 1) this.bursting = { point, option: chosen, steps: [] };
  }

  /**
   * A step's footprint: it extends the stretch or burst being recorded,
   * wakes the sleepers it conflicts with, and may be a sleeper's own
   * stretch taken again (the schedule is then a reordering of one already
   * run: Godefroid's sleep sets).
   */
  private footprint(cpu: number, task: number, sched: Footprint, own: Footprint, timed: boolean): boolean {
    if (this.redundancy === 'CLOSED') return (this.cut = true);
    if (timed && !this.timedRun) this.trustNoReordering();
    if (this.redundancy === 'BLOCKED') this.redundancy = 'CLOSED';
    const rec = this.recording;
    if (rec !== null) {
      if (!isActor(rec.point.actor, cpu, task) || task < 0 || rec.steps.length >= 2 * STRETCH_STEPS_MAX) this.endStretch(false);
      else rec.steps.push(sched, own);
    }
    const burst = this.bursting;
    if (burst !== null) {
      if (isActor(burst.point.actor, cpu, task)) {
        burst.point.bursts.set(burst.option, union(burst.steps));
        this.recordedHere.push({ point: burst.point, option: burst.option });
        this.bursting = null;
      } else {
        burst.steps.push(sched, own);
      }
    }
    for (let i = this.sleep.length - 1; i >= 0; i--) {
      const s = this.sleep[i]!;
      const union = s.stretch.union;
      if (!isActor(s.actor, cpu, task)) {
        if (conflicts(union, sched) || conflicts(union, own)) this.sleep.splice(i, 1);
      } else if (conflicts(union, sched) || !sameFootprint(s.stretch.steps[2 * s.taken + 1]!, own)) {
        this.sleep.splice(i, 1);
      } else if (++s.taken === s.stretch.steps.length / 2) {
        this.sleep.splice(i, 1);
        if (this.redundancy === 'NONE') {
          mark('sleepingStepTaken');
          this.redundancy = 'BLOCKED';
        }
      }
    }
    return false;
  }

  /** A decision other than the default one, just after a reordering was reached: this run is a new schedule from here, not the one already run. */
  private leaveCovered(): void {
    if (this.redundancy === 'BLOCKED') this.redundancy = 'NONE';
  }

  /** The stretch being recorded ends at its actor's next decision (`swappable`: the point it belongs to, for that decision to be its `next`) or at anything else (not). */
  private endStretch(swappable: boolean): ChoicePoint | null {
    const rec = this.recording!;
    this.recording = null;
    if (!swappable || rec.steps.length === 0) return null;
    rec.point.stretch = { steps: rec.steps, union: union(rec.steps) };
    this.recordedHere.push({ point: rec.point, option: null });
    return rec.point;
  }

  /** A timed step (see timedRun): no task sleeps, nothing more is recorded for task decisions, and what this run recorded for them is withdrawn. */
  private trustNoReordering(): void {
    mark('timedStepStoppedReduction');
    this.timedRun = true;
    const ofTask = (p: ChoicePoint): boolean => p.actor.task >= 0;
    for (let i = this.sleep.length - 1; i >= 0; i--) if (this.sleep[i]!.actor.task >= 0) this.sleep.splice(i, 1);
    if (this.recording !== null && ofTask(this.recording.point)) this.recording = null;
    if (this.bursting !== null && ofTask(this.bursting.point)) this.bursting = null;
    if (this.redundancy === 'BLOCKED') this.redundancy = 'NONE';
    for (const { point, option } of this.recordedHere) {
      if (!ofTask(point)) continue;
      if (option === null) point.stretch = undefined;
      else point.bursts.delete(option);
    }
  }

  /** Preemptions are explored at the preemption points themselves; no wake-up sets need_resched ahead of one. */
  resched(): boolean {
    return false;
  }
  takeInterrupt(): boolean {
    return true;
  }
  private branch(at: number, options: number[], preempts: boolean[], chosen: number, actor: Actor, goOn: number): ChoicePoint {
    const point = this.kept.get(at) ?? { options, preempts, chosen, preemptionsBefore: this.preemptions, tried: new Set<number>(), actor, goOn, bursts: new Map<number, Footprint>() };
    point.chosen = chosen;
    point.tried.add(chosen);
    if (this.redundancy === 'CLOSED') for (const o of point.options) point.tried.add(o);
    this.points.set(at, point);
    if (point.preempts[point.options.indexOf(chosen)]) this.preemptions++;
    return point;
  }
}

export interface BoundedResult {
  /** Runs made, the redundant ones included. */
  schedules: number;
  /** Runs ended early as reorderings of schedules already run (the reduction's sleep sets). */
  redundant: number;
  /** Schedules not run at all: reorderings of schedules already run, known to be so from the footprints those recorded. */
  skipped: number;
  /** Every schedule within the bound ran to its end: none left, and none cut short. */
  exhausted: boolean;
  /** Schedules cut short at their step budget (StepLimit): they ended nothing, so the space is not exhausted. */
  pastLimit: number;
  steps: number;
  groups: FoundGroup[];
  /** The decisions of the first schedule that showed each group, by location. */
  firstSchedules: Map<string, RecordedSchedule>;
}

/**
 * Switching to `task` at task decision `p`, as the last preemption the
 * bound allows, reorders a schedule already run: `p`'s task would take its
 * stretch to its next decision, where switching to `task` was run, and
 * what every cpu did in that switch's burst neither touched what the
 * stretch changed nor changed what it touched. Then this schedule runs the
 * same burst, then the same stretch, and from there on the same steps with
 * no preemption left; so it is that one, reordered.
 */
function coveredLater(p: ChoicePoint, task: number): boolean {
  const burst = p.next?.bursts.get(task);
  if (p.stretch === undefined || burst === undefined || conflicts(burst, p.stretch.union)) return false;
  p.bursts.set(task, burst); // the same steps: the decision before this one may be judged by it in turn
  return true;
}

/**
 * How many schedules exploreBounded would run within `preemptions`, from
 * one run without preemptions: the ways to pick at most k of its decisions
 * and a preempting option at each (the elementary symmetric sums of the
 * options per decision, as CHESS counts its space, Musuvathi and Qadeer
 * 2007). Exact for k = 1 on one cpu; otherwise an estimate, since a
 * preemption changes the decisions that follow it and a free choice (another
 * cpu when the last cannot go on) opens runs of its own: within a factor of
 * two of the runs on the munmap scenarios measured (DESIGN 4).
 */
export function estimateBoundedSpace(config: RunConfig, preemptions: number): { schedules: number; decisions: number } {
  const chooser = new BoundedChooser([], new Map(), config.cpus, false);
  runDeterministic(boundedConfig(config), { chooser });
  const sums = new Float64Array(preemptions + 1);
  sums[0] = 1;
  for (const p of chooser.points.values()) {
    const options = p.preempts.filter(Boolean).length;
    for (let j = preemptions; j >= 1; j--) sums[j]! += sums[j - 1]! * options;
  }
  return { schedules: sums.reduce((a, b) => a + b, 0), decisions: chooser.points.size };
}

export interface BoundedOptions {
  preemptions: number;
  maxSchedules: number;
  /** Told each new violation; returning true ends the search there (not exhausted). */
  onViolation?: (found: FoundGroup, schedule: number) => boolean | void;
  /** Partial-order reduction (on unless false): schedules that only reorder independent steps are run once. */
  reduce?: boolean;
  /** Shown the machine at the end of every run (tests compare what the runs left). */
  inspect?: (m: Machine) => void;
}

/** Every schedule within `preemptions`, at most `maxSchedules` runs. */
export function exploreBounded(config: RunConfig, { preemptions, maxSchedules, onViolation, reduce = true, inspect }: BoundedOptions): BoundedResult {
  const groups = new Map<string, FoundGroup>();
  const firstSchedules = new Map<string, RecordedSchedule>();
  let prefix: number[] = [];
  let kept = new Map<number, ChoicePoint>();
  let schedules = 0;
  let steps = 0;
  let pastLimit = 0;
  let redundant = 0;
  let skipped = 0;
  for (; schedules < maxSchedules; ) {
    const chooser = new BoundedChooser(prefix, kept, config.cpus, reduce);
    const log = new DecisionLog();
    const r = runDeterministic(boundedConfig(config), { chooser, record: log, inspect });
    schedules++;
    if (chooser.cut) redundant++;
    steps += r.steps;
    if (r.error?.name === 'StepLimit') pastLimit++;
    let stop = false;
    for (const g of groupViolations(groups, r.violations, schedules)) {
      firstSchedules.set(g.location, log.schedule());
      if (onViolation?.(g, schedules) === true) stop = true;
    }
    if (stop) break;
    // backtrack: the deepest decision with an untried alternative within the bound
    let next: number[] | null = null;
    const at = [...chooser.points.keys()];
    for (let i = at.length - 1; i >= 0 && next === null; i--) {
      const pos = at[i]!;
      const p = chooser.points.get(pos)!;
      for (let o = 0; o < p.options.length; o++) {
        const alt = p.options[o]!;
        if (p.tried.has(alt)) continue;
        if (p.preemptionsBefore + (p.preempts[o] ? 1 : 0) > preemptions) continue;
        p.tried.add(alt);
        if (reduce && p.preempts[o] && p.preemptionsBefore + 1 === preemptions && coveredLater(p, alt)) {
          skipped++;
          continue;
        }
        next = [...chooser.trail.slice(0, pos), alt];
        kept = new Map(at.slice(0, i + 1).map((s) => [s, chooser.points.get(s)!]));
        break;
      }
    }
    if (next === null) return { schedules, redundant, skipped, exhausted: pastLimit === 0, pastLimit, steps, groups: [...groups.values()], firstSchedules };
    prefix = next;
  }
  return { schedules, redundant, skipped, exhausted: false, pastLimit, steps, groups: [...groups.values()], firstSchedules };
}
