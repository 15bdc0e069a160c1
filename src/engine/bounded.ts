// Systematic exploration with a preemption bound (CHESS, Musuvathi and
// Qadeer, PLDI 2007): every schedule of the scenario with at most k
// preemptions, run one after another by re-execution. A choice is a
// preemption when the cpu that stepped last could step again and another
// runs instead; choosing among cpus when the last one has no work, or only
// waited (a failed spin, a yield: it cannot progress alone), is free, and the
// default then moves on round robin, so spin loops cannot livelock a run.
// Each run follows a prefix of choices and then never preempts; backtracking
// takes the deepest choice with an untried alternative within the bound.
// The space is exhausted when no such choice is left, or the run stops at
// --max-schedules and says so.

import type { RunConfig } from '../machine/config.ts';
import { modelAssert } from '../machine/errors.ts';
import { runDeterministic } from './deterministic.ts';
import { groupViolations, type FoundGroup } from './campaign.ts';
import type { Chooser } from './strategy.ts';

interface ChoicePoint {
  ready: number[];
  chosen: number;
  last: number;
  /** The last cpu only waited on its step: leaving it is not a preemption. */
  lastWaited: boolean;
  preemptionsBefore: number;
  tried: Set<number>;
}

function isPreemption(p: Pick<ChoicePoint, 'ready' | 'last' | 'lastWaited'>, cpu: number): boolean {
  return p.last >= 0 && cpu !== p.last && !p.lastWaited && p.ready.includes(p.last);
}

/** Steps one explored run may take: the scenarios bounded exploration suits are small. */
export const BOUNDED_RUN_STEPS_MAX = 200_000;

class BoundedChooser implements Chooser {
  /** The cpu chosen at every step. */
  readonly chosen: number[] = [];
  /** The steps where another choice was possible, in step order. */
  readonly points = new Map<number, ChoicePoint>();
  private last = -1;
  private lastWaited = false;
  private preemptions = 0;
  constructor(private readonly prefix: readonly number[], private readonly kept: ReadonlyMap<number, ChoicePoint>) {}
  waited(cpu: number): void {
    if (cpu === this.last) this.lastWaited = true;
  }
  choose(ready: readonly number[], step: number): number {
    // after a wait the next cpu round robin is the only choice: branching on every spin would never end
    const forced = this.lastWaited && ready.length > 1;
    const preferred = ready.includes(this.last) && !this.lastWaited ? this.last : (ready.find((c) => c > this.last) ?? ready[0]!);
    const cpu = step < this.prefix.length ? this.prefix[step]! : preferred;
    modelAssert(ready.includes(cpu), 'bounded exploration diverged from its prefix', () => `step ${step}: cpu ${cpu} has no work`);
    this.chosen.push(cpu);
    if (ready.length > 1 && !forced) {
      const point = this.kept.get(step) ?? { ready: [...ready], chosen: cpu, last: this.last, lastWaited: false, preemptionsBefore: this.preemptions, tried: new Set<number>() };
      point.chosen = cpu;
      point.tried.add(cpu);
      this.points.set(step, point);
      if (isPreemption(point, cpu)) this.preemptions++;
    }
    this.last = cpu;
    this.lastWaited = false;
    return ready.indexOf(cpu);
  }
}

export interface BoundedResult {
  schedules: number;
  exhausted: boolean;
  steps: number;
  groups: FoundGroup[];
  /** The choices (one cpu per step) of the first schedule that showed each group, by location. */
  firstSchedules: Map<string, number[]>;
}

export function exploreBounded(config: RunConfig, preemptions: number, maxSchedules: number, onViolation?: (found: FoundGroup, schedule: number) => void): BoundedResult {
  const groups = new Map<string, FoundGroup>();
  const firstSchedules = new Map<string, number[]>();
  let prefix: number[] = [];
  let kept = new Map<number, ChoicePoint>();
  let schedules = 0;
  let steps = 0;
  for (; schedules < maxSchedules; ) {
    const chooser = new BoundedChooser(prefix, kept);
    const r = runDeterministic({ ...config, maxSteps: Math.min(config.maxSteps, BOUNDED_RUN_STEPS_MAX) }, { chooser });
    schedules++;
    steps += r.steps;
    for (const g of groupViolations(groups, r.violations, schedules)) {
      firstSchedules.set(g.location, [...chooser.chosen]);
      onViolation?.(g, schedules);
    }
    // backtrack: the deepest choice with an untried alternative within the bound
    let next: number[] | null = null;
    const at = [...chooser.points.keys()];
    for (let i = at.length - 1; i >= 0 && next === null; i--) {
      const step = at[i]!;
      const p = chooser.points.get(step)!;
      for (const alt of p.ready) {
        if (p.tried.has(alt)) continue;
        if (p.preemptionsBefore + (isPreemption(p, alt) ? 1 : 0) > preemptions) continue;
        p.tried.add(alt);
        next = [...chooser.chosen.slice(0, step), alt];
        kept = new Map(at.slice(0, i + 1).map((s) => [s, chooser.points.get(s)!]));
        break;
      }
    }
    if (next === null) return { schedules, exhausted: true, steps, groups: [...groups.values()], firstSchedules };
    prefix = next;
  }
  return { schedules, exhausted: false, steps, groups: [...groups.values()], firstSchedules };
}
