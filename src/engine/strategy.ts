// How the deterministic engine chooses which cpu steps next. Every choice
// comes from the run's seed, so a run is reproducible from its config alone,
// and every choice can be recorded (run-length encoded) and replayed.
// - random: uniform over the cpus with work.
// - pct: probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010):
//   each cpu gets a random priority above depth d; the highest-priority cpu
//   with work runs; at d - 1 random steps the running cpu drops to priority
//   d - i. For a bug of depth d among n cpus and k steps it finds it with
//   probability at least 1 / (n * k^(d-1)) per run. PCT assumes threads
//   block rather than spin; a cpu that only waited (a failed spin on a lock
//   whose holder has lower priority) drops below every other, as Shuttle
//   and Coyote do, or the run would livelock.
// - replay: the recorded choices, then the seed's random choices after them.

import type { RunConfig } from '../machine/config.ts';
import { Rng } from '../machine/rng.ts';

export interface Chooser {
  /** Index into `ready` (cpu numbers with work, ascending) of the cpu to step. */
  choose(ready: readonly number[], step: number): number;
  /** The cpu just stepped only waited (a failed spin, a yield): it cannot make progress alone. */
  waited?(cpu: number): void;
}

class RandomChooser implements Chooser {
  private readonly rng: Rng;
  constructor(seed: number) {
    this.rng = new Rng(seed);
  }
  choose(ready: readonly number[]): number {
    return ready.length === 1 ? 0 : this.rng.below(ready.length);
  }
}

class PctChooser implements Chooser {
  private readonly priority: number[];
  /** step -> the priority the running cpu drops to there */
  private readonly changes = new Map<number, number>();
  constructor(seed: number, cpus: number, depth: number, steps: number) {
    const rng = new Rng(seed);
    // a random permutation of depth .. depth + cpus - 1
    this.priority = Array.from({ length: cpus }, (_, i) => depth + i);
    for (let i = cpus - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      [this.priority[i], this.priority[j]] = [this.priority[j]!, this.priority[i]!];
    }
    for (let i = 1; i < depth; i++) this.changes.set(1 + rng.below(Math.max(1, steps)), depth - i);
  }
  waited(cpu: number): void {
    this.priority[cpu] = Math.min(...this.priority) - 1;
  }
  choose(ready: readonly number[], step: number): number {
    let best = 0;
    for (let i = 1; i < ready.length; i++) if (this.priority[ready[i]!]! > this.priority[ready[best]!]!) best = i;
    const drop = this.changes.get(step);
    if (drop !== undefined) {
      this.priority[ready[best]!] = drop;
      best = 0;
      for (let i = 1; i < ready.length; i++) if (this.priority[ready[i]!]! > this.priority[ready[best]!]!) best = i;
    }
    return best;
  }
}

/** Run-length encoded choices: [cpu, count, cpu, count, ...]. */
export class DecisionLog {
  readonly runs: number[] = [];
  record(cpu: number): void {
    const n = this.runs.length;
    if (n > 0 && this.runs[n - 2] === cpu) this.runs[n - 1]!++;
    else this.runs.push(cpu, 1);
  }
}

class ReplayChooser implements Chooser {
  private at = 0;
  private left: number;
  constructor(private readonly runs: readonly number[], private readonly after: Chooser) {
    this.left = runs[1] ?? 0;
  }
  waited(cpu: number): void {
    this.after.waited?.(cpu);
  }
  choose(ready: readonly number[], step: number): number {
    while (this.at < this.runs.length && this.left === 0) {
      this.at += 2;
      this.left = this.runs[this.at + 1] ?? 0;
    }
    if (this.at < this.runs.length) {
      const i = ready.indexOf(this.runs[this.at]!);
      if (i >= 0) {
        this.left--;
        return i;
      }
      this.at = this.runs.length; // the recording no longer fits this run: go on with the seed
    }
    return this.after.choose(ready, step);
  }
}

export function makeChooser(config: RunConfig, replay?: readonly number[]): Chooser {
  const base: Chooser = config.strategy.kind === 'pct' ? new PctChooser(config.seed, config.cpus, config.strategy.depth, config.strategy.steps) : new RandomChooser(config.seed);
  return replay ? new ReplayChooser(replay, base) : base;
}

/** PCT's lower bound on the chance one run finds a bug of depth d: 1 / (n * k^(d-1)). */
export function pctBound(cpus: number, steps: number, depth: number): number {
  return 1 / (cpus * Math.pow(Math.max(1, steps), depth - 1));
}
