// Shrinking a failing case: try smaller configs one change at a time (fewer
// cpus, half the pages, fewer tasks, fewer mms, fewer reader accesses, no
// kernel threads, no probe) and keep a change when some seed of the smaller
// config still fires the same rule. Greedy, bounded by the candidates tried
// and the seeds per candidate. Then the schedule: each preemption and each
// wake-up's need_resched the strategy chose is dropped in turn, and the drop
// is kept when the replay still fires the rule (the run is recorded again,
// so the artifact replays exactly). The result is the smallest artifact
// found.

import type { RunConfig } from '../machine/config.ts';
import { BadInput } from '../machine/errors.ts';
import { flagsOf, makeConfig, type RunOptions } from './configure.ts';
import { runDeterministic } from './deterministic.ts';
import { artifactOf, makeArtifact, type Artifact } from './campaign.ts';
import { DecisionLog, type RecordedSchedule } from './strategy.ts';

export interface ShrinkStep {
  change: string;
  seed: number;
}

/** The options a config came from, so a smaller one is checked like any user input, and its memory sized again for it. */
function optionsOf(c: RunConfig): RunOptions {
  const { memory: _memory, ...o } = flagsOf(c);
  return o;
}

function candidates(c: RunConfig): [string, RunOptions][] {
  const o = optionsOf(c);
  const out: [string, RunOptions][] = [];
  // a scenario file places its tasks on its cpus and in its mms: only what the machine adds can go
  if (c.scenario) return c.kworker ? [['--no-kworker', { ...o, kworker: false }]] : [];
  if (c.cpus > 1) out.push([`--cpus ${c.cpus - 1}`, { ...o, cpus: c.cpus - 1, mms: Math.min(c.mms, (c.cpus - 1) * c.tasksPerCpu) }]);
  if (c.pages > 1) out.push([`--pages ${Math.floor(c.pages / 2)}`, { ...o, pages: Math.floor(c.pages / 2) }]);
  if (c.tasksPerCpu > 1) out.push([`--tasks-per-cpu ${c.tasksPerCpu - 1}`, { ...o, tasksPerCpu: c.tasksPerCpu - 1, mms: Math.min(c.mms, c.cpus * (c.tasksPerCpu - 1)) }]);
  if (c.mms > 1) out.push([`--mms ${c.mms - 1}`, { ...o, mms: c.mms - 1 }]);
  if (c.readerAccesses > 64) out.push([`--reader-accesses ${Math.floor(c.readerAccesses / 4)}`, { ...o, readerAccesses: Math.floor(c.readerAccesses / 4) }]);
  if (c.rounds > 1) out.push([`--rounds ${Math.ceil(c.rounds / 2)}`, { ...o, rounds: Math.ceil(c.rounds / 2) }]);
  if (c.kworker) out.push(['--no-kworker', { ...o, kworker: false }]);
  if (c.probe) out.push(['no --probe', { ...o, probe: false }]);
  return out;
}

/** The first seed in 1..seeds of `config` whose run fires `rule`, or -1. */
function firstSeedFiring(config: RunConfig, rule: string, seeds: number): number {
  for (let seed = 1; seed <= seeds; seed++) {
    const r = runDeterministic({ ...config, seed });
    if (r.violations.some((v) => v.rule === rule)) return seed;
  }
  return -1;
}

export function shrink(start: Artifact, seedsPerCandidate: number, onStep?: (s: ShrinkStep) => void): { artifact: Artifact; steps: ShrinkStep[] } {
  let config = start.config;
  const rule = start.rule;
  const steps: ShrinkStep[] = [];
  const CANDIDATES_MAX = 200;
  for (let tried = 0; tried < CANDIDATES_MAX; ) {
    let progressed = false;
    for (const [change, o] of candidates(config)) {
      tried++;
      let smaller: RunConfig;
      try {
        smaller = makeConfig(o);
      } catch (e) {
        if (e instanceof BadInput) continue; // that shape is not a valid scenario
        throw e;
      }
      const seed = firstSeedFiring(smaller, rule, seedsPerCandidate);
      if (seed < 0) continue;
      config = { ...smaller, seed };
      const step = { change, seed };
      steps.push(step);
      onStep?.(step);
      progressed = true;
      break;
    }
    if (!progressed) break;
  }
  const { artifact, dropped } = dropPreemptions(makeArtifact(config, rule).artifact);
  if (dropped > 0) {
    const step = { change: `${dropped} preemption${dropped === 1 ? '' : 's'} dropped`, seed: artifact.config.seed };
    steps.push(step);
    onStep?.(step);
  }
  return { artifact, steps };
}

/** Replays tried when shrinking one artifact's schedule. */
const SCHEDULE_TRIES_MAX = 400;

/** The artifact without every strategy preemption and need_resched it can do without, recorded again. */
export function dropPreemptions(start: Artifact): { artifact: Artifact; dropped: number } {
  let best = start;
  let dropped = 0;
  let tries = 0;
  for (const field of ['preemptions', 'reschedules'] as const) {
    const width = field === 'preemptions' ? 2 : 1;
    for (let i = 0; i < best[field].length / width && tries < SCHEDULE_TRIES_MAX; tries++) {
      const fewer = [...best[field].slice(0, i * width), ...best[field].slice((i + 1) * width)];
      const candidate: RecordedSchedule = { ...best, [field]: fewer };
      const log = new DecisionLog();
      const r = runDeterministic(best.config, { replay: candidate, record: log });
      const recorded = log.schedule();
      // kept only if it has fewer of this kind and no more of the other (a replay past the dropped decision may record new ones)
      const grew = recorded.preemptions.length > best.preemptions.length || recorded.reschedules.length > best.reschedules.length;
      if (!r.violations.some((v) => v.rule === start.rule) || recorded[field].length >= best[field].length || grew) {
        i++;
        continue;
      }
      dropped += (best[field].length - recorded[field].length) / width;
      best = artifactOf(best.config, start.rule, r, recorded);
    }
  }
  return { artifact: best, dropped };
}
