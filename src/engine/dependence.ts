// How much of a run an order of its threads could change. A thread is a
// task's own steps, or a cpu's interrupts and scheduler (its steps' `sched`
// part, footprint.ts). A step is shared when it touches a word a step of
// another thread of the same run changes, or changes a word such a step
// touches; every other step commutes with every step of every other
// thread of that run, so no decision to run it earlier or later changes
// what the run does. The count is exact for the run recorded and says
// nothing of other seeds. It measures whether random and pct could decide
// only where an order matters (DESIGN 4, "Decisions at dependent points").

import { CPU_FIELD, HDR, type Machine } from '../machine/layout.ts';
import type { RunConfig } from '../machine/config.ts';
import { modelAssert } from '../machine/errors.ts';
import type { Footprint } from './footprint.ts';
import { runDeterministic } from './deterministic.ts';
import { allTasks } from './boot.ts';
import { makeChooser, type Chooser } from './strategy.ts';

/** One step of one thread. */
export interface ThreadStep {
  thread: number;
  footprint: Footprint;
}

/** Steps of a run recorded at most: a bound on the log's memory. */
export const SHARING_STEPS_MAX = 2_000_000;

const ALONE = -1;
const MANY = -2;

/** Per word, the one thread that touched (or changed) it, or MANY. */
class Touchers {
  private readonly by = new Map<number, number>();
  note(word: number, thread: number): void {
    const t = this.by.get(word);
    if (t === undefined) this.by.set(word, thread);
    else if (t !== thread) this.by.set(word, MANY);
  }
  /** A thread other than `thread` touched `word`. */
  other(word: number, thread: number): boolean {
    const t = this.by.get(word) ?? ALONE;
    return t !== ALONE && t !== thread;
  }
}

/** The steps of `steps` that are shared (see the opening comment); words in `ignored` count for nothing. */
export function sharedSteps(steps: readonly ThreadStep[], ignored: ReadonlySet<number>): boolean[] {
  const touched = new Touchers();
  const changed = new Touchers();
  for (const { thread, footprint } of steps) {
    for (const w of footprint.writes) {
      touched.note(w, thread);
      changed.note(w, thread);
    }
    for (const w of footprint.reads) touched.note(w, thread);
  }
  return steps.map(({ thread, footprint }) => {
    for (const w of footprint.writes) if (!ignored.has(w) && touched.other(w, thread)) return true;
    for (const w of footprint.reads) if (!ignored.has(w) && changed.other(w, thread)) return true;
    return false;
  });
}

/**
 * The engine's own words: who spins on what (pv.ts kicks) and how many
 * user tasks are left (the run's end). No kernel path decides anything on
 * them, so a step that touches only these with another thread is not shared.
 */
export function engineWords(m: Machine): Set<number> {
  const words = new Set<number>([HDR.SPINNERS, HDR.LIVE_TASKS]);
  for (let cpu = 0; cpu < m.size.cpus; cpu++) words.add(m.cpu(cpu, CPU_FIELD.SPIN_ON));
  return words;
}

export interface Sharing {
  steps: number;
  /** Tasks' own steps, those shared, and those shared with another task (not only with a cpu's interrupts or scheduler). */
  taskSteps: number;
  taskShared: number;
  taskSharedWithTasks: number;
  /** Cpus' interrupt and scheduler parts that touched anything, and those shared. */
  schedSteps: number;
  schedShared: number;
}

/** One run of `config` under its seed's strategy, every step's footprint recorded: how many of its steps are shared. */
export function runSharing(config: RunConfig): Sharing {
  const log: ThreadStep[] = [];
  let ignored = new Set<number>();
  const recording = (base: Chooser): Chooser => ({
    choose: (ready, step) => base.choose(ready, step),
    preempt: (cpu, current, others) => base.preempt(cpu, current, others),
    resched: (cpu, current, others) => base.resched(cpu, current, others),
    takeInterrupt: (cpu, deferred) => base.takeInterrupt(cpu, deferred),
    attach: (view) => base.attach?.(view),
    waited: (cpu, task) => base.waited?.(cpu, task),
    polled: (cpu, task) => base.polled?.(cpu, task),
    stepped: (cpu, task, sched, own) => {
      modelAssert(log.length < SHARING_STEPS_MAX, 'a recorded run is too long to measure its sharing', () => `over ${SHARING_STEPS_MAX} steps`);
      if (sched.reads.length + sched.writes.length > 0) log.push({ thread: -1 - cpu, footprint: sched });
      if (task >= 0) log.push({ thread: task, footprint: own });
      return false;
    },
  });
  const r = runDeterministic(config, {
    chooser: recording(makeChooser(config, allTasks(config).length)),
    inspect: (m) => {
      ignored = engineWords(m);
    },
  });
  modelAssert(r.error === null, 'a run measured for its sharing failed', () => `${r.error?.name}: ${r.error?.message}`);
  const shared = sharedSteps(log, ignored);
  const taskLog = log.filter(({ thread }) => thread >= 0);
  const out: Sharing = { steps: r.steps, taskSteps: taskLog.length, taskShared: 0, taskSharedWithTasks: sharedSteps(taskLog, ignored).filter(Boolean).length, schedSteps: 0, schedShared: 0 };
  log.forEach(({ thread }, i) => {
    if (thread >= 0) {
      if (shared[i]) out.taskShared++;
    } else {
      out.schedSteps++;
      if (shared[i]) out.schedShared++;
    }
  });
  return out;
}
