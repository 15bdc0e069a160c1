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

import type { RunConfig } from '../machine/config.ts';
import { modelAssert } from '../machine/errors.ts';
import { mark } from '../machine/marks.ts';
import { runDeterministic } from './deterministic.ts';
import { groupViolations, type FoundGroup } from './campaign.ts';
import { DecisionLog, type Chooser, type RecordedSchedule } from './strategy.ts';

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
}

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
  constructor(private readonly prefix: readonly number[], private readonly kept: ReadonlyMap<number, ChoicePoint>, cpus: number) {
    this.pollers = new Int32Array(cpus).fill(-1);
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
    if (ready.length > 1 && !forced) this.branch(at, [...ready], ready.map((c) => this.last >= 0 && c !== this.last && lastCanGoOn), cpu);
    this.last = cpu;
    this.lastWaited = false;
    this.stepPoller = this.pollers[cpu]!;
    this.pollers[cpu] = -1;
    return ready.indexOf(cpu);
  }
  preempt(_cpu: number, current: number, others: readonly number[]): number {
    const at = this.trail.length;
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
    this.branch(at, [CONTINUE, ...others], [false, ...others.map(() => true)], task);
    return task === CONTINUE ? -1 : others.indexOf(task);
  }
  /** Preemptions are explored at the preemption points themselves; no wake-up sets need_resched ahead of one. */
  resched(): boolean {
    return false;
  }
  takeInterrupt(): boolean {
    return true;
  }
  private branch(at: number, options: number[], preempts: boolean[], chosen: number): void {
    const point = this.kept.get(at) ?? { options, preempts, chosen, preemptionsBefore: this.preemptions, tried: new Set<number>() };
    point.chosen = chosen;
    point.tried.add(chosen);
    this.points.set(at, point);
    if (point.preempts[point.options.indexOf(chosen)]) this.preemptions++;
  }
}

export interface BoundedResult {
  schedules: number;
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
  const chooser = new BoundedChooser([], new Map(), config.cpus);
  runDeterministic(boundedConfig(config), { chooser });
  const sums = new Float64Array(preemptions + 1);
  sums[0] = 1;
  for (const p of chooser.points.values()) {
    const options = p.preempts.filter(Boolean).length;
    for (let j = preemptions; j >= 1; j--) sums[j]! += sums[j - 1]! * options;
  }
  return { schedules: sums.reduce((a, b) => a + b, 0), decisions: chooser.points.size };
}

/** Every schedule within `preemptions`, at most `maxSchedules`; `onViolation` is told each new violation, and returning true ends the search there (not exhausted). */
export function exploreBounded(config: RunConfig, preemptions: number, maxSchedules: number, onViolation?: (found: FoundGroup, schedule: number) => boolean | void): BoundedResult {
  const groups = new Map<string, FoundGroup>();
  const firstSchedules = new Map<string, RecordedSchedule>();
  let prefix: number[] = [];
  let kept = new Map<number, ChoicePoint>();
  let schedules = 0;
  let steps = 0;
  let pastLimit = 0;
  for (; schedules < maxSchedules; ) {
    const chooser = new BoundedChooser(prefix, kept, config.cpus);
    const log = new DecisionLog();
    const r = runDeterministic(boundedConfig(config), { chooser, record: log });
    schedules++;
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
        next = [...chooser.trail.slice(0, pos), alt];
        kept = new Map(at.slice(0, i + 1).map((s) => [s, chooser.points.get(s)!]));
        break;
      }
    }
    if (next === null) return { schedules, exhausted: pastLimit === 0, pastLimit, steps, groups: [...groups.values()], firstSchedules };
    prefix = next;
  }
  return { schedules, exhausted: false, pastLimit, steps, groups: [...groups.values()], firstSchedules };
}
