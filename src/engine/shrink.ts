// Shrinking a failing case: try smaller configs one change at a time (fewer
// cpus, half the pages, fewer tasks, fewer mms, fewer reader accesses, no
// kernel threads, no probe) and keep a change when some seed of the smaller
// config still fires the same rule. Greedy, bounded by the candidates tried
// and the seeds per candidate; the result is the smallest artifact found.

import type { RunConfig } from '../machine/config.ts';
import { BadInput } from '../machine/errors.ts';
import { makeConfig, type RunOptions } from './configure.ts';
import { runDeterministic } from './deterministic.ts';
import { makeArtifact, type Artifact } from './campaign.ts';

export interface ShrinkStep {
  change: string;
  seed: number;
}

/** The options a config came from, so a smaller one is checked and sized like any user input. */
function optionsOf(c: RunConfig): RunOptions {
  return {
    variant: c.variant,
    workload: c.workload,
    seed: c.seed,
    cpus: c.cpus,
    pages: c.pages,
    preempt: c.preempt,
    allocFail: c.allocFail.kind === 'probability' ? String(c.allocFail.p) : c.allocFail.kind,
    tlbEntries: c.tlbEntries,
    overlap: c.overlap,
    readerAccesses: c.readerAccesses,
    maxSteps: c.maxSteps,
    lockupMs: c.lockupMs,
    tasksPerCpu: c.tasksPerCpu,
    mms: c.mms,
    immapLock: c.immapLock,
    probe: c.probe,
    kworker: c.kworker,
    rounds: c.rounds,
    ...(c.scenario ? { scenario: c.scenario } : {}),
    ...(c.strategy.kind === 'pct' ? { strategy: 'pct', depth: c.strategy.depth, pctSteps: c.strategy.steps } : {}),
  };
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
  return { artifact: makeArtifact(config, rule).artifact, steps };
}
