// Each coverage mark is hit by the scenario written for its branch, so no
// test can silently stop driving the model through the branch it names.
import { describe, expect, it } from 'vitest';
import { MARKS, recordMarks, type MarkName } from '../src/machine/marks.ts';
import { makeConfig, type RunOptions } from '../src/engine/configure.ts';
import { runDeterministic } from '../src/engine/deterministic.ts';
import { exploreBounded } from '../src/engine/bounded.ts';

/** A mark of the bounded explorer's own: its scenario is explored within this many preemptions. */
type MarkScenario = RunOptions & { boundedPreemptions?: number };

/** For each mark: a scenario that takes its branch within the first few seeds. */
const SCENARIOS: Record<MarkName, MarkScenario> = {
  forcedFlush: { variant: 'rework', workload: 'munmap', pages: 1000, preempt: 'none' },
  batchPageFallback: { variant: 'rework', workload: 'munmap', pages: 100, allocFail: 'always' },
  flushUnderPteLock: { variant: 'legacy', workload: 'munmap', pages: 1000, preempt: 'none' },
  preemptedInGather: { variant: 'rework', workload: 'munmap', cpus: 1, tasksPerCpu: 2, mms: 2, pages: 64 },
  interruptPutOff: { variant: 'rework', workload: 'munmap', cpus: 3, pages: 64 },
  wakeupSetNeedResched: { variant: 'rework', workload: 'munmap', cpus: 1, tasksPerCpu: 2, mms: 2, pages: 64, preempt: 'none' },
  lazyLeave: { variant: 'rework', workload: 'exit', pages: 64 },
  dirtyBitWalk: { variant: 'rework', scenario: { name: 'read-then-write', tasks: [{ cpu: 0, mm: 0, program: [{ op: 'mmap', start: 0, pages: 2, file: true, shared: true, measure: false }, { op: 'read', start: 0, pages: 2, measure: false }, { op: 'write', start: 0, pages: 2, measure: false }] }] } },
  wpFaultReuse: { variant: 'rework', workload: 'writeback' },
  mkcleanRedirty: { variant: 'rework', workload: 'writeback' },
  pageLockSlept: { variant: 'rework', workload: 'writeback' },
  parkedSpinnerPassedOver: { variant: 'rework', workload: 'tlb_flush1', pages: 16, rounds: 2, clockSkew: 'none' },
  reclaimLeftMapped: { variant: 'rework', scenario: { name: 'reclaim-mapped', tasks: [{ cpu: 0, mm: 0, program: [{ op: 'mmap', start: 0, pages: 2, file: true, shared: true, measure: false }, { op: 'write', start: 0, pages: 2, measure: false }, { op: 'reclaim', pages: 2, measure: true }] }] } },
  lazyTlbGenCatchUp: { variant: 'v6.18', workload: 'mix', cpus: 2, tasksPerCpu: 2 },
  nestedFlush: { variant: 'v4.15', workload: 'madvise', overlap: true, pages: 64 },
  pollerGaveWay: { variant: 'rework', workload: 'munmap', cpus: 1, tasksPerCpu: 2, pages: 16, kworker: false, boundedPreemptions: 0 },
  timedStepStoppedReduction: { variant: 'rework', workload: 'munmap', cpus: 2, pages: 4, kworker: false, boundedPreemptions: 1 },
  sleepingStepTaken: { variant: 'rework', workload: 'munmap', cpus: 1, tasksPerCpu: 2, pages: 16, kworker: false, boundedPreemptions: 2 },
  // mprotect holds mmap_sem for write, so the zap it meets is truncate's, which takes only the file's i_mmap lock
  mprotectNested: {
    variant: 'v6.18',
    cpus: 2,
    scenario: {
      name: 'mprotect-beside-truncate',
      tasks: [
        { cpu: 0, mm: 0, program: [{ op: 'mmap', start: 0, pages: 64, file: true, measure: false }, { op: 'write', start: 0, pages: 64, measure: false }, { op: 'barrier' }, { op: 'repeat', times: 20, ops: [{ op: 'mprotect', start: 0, pages: 64, writable: false, measure: true }, { op: 'mprotect', start: 0, pages: 64, writable: true, measure: true }] }] },
        { cpu: 1, mm: 0, program: [{ op: 'barrier' }, { op: 'repeat', times: 20, ops: [{ op: 'truncate', pages: 0, measure: true }] }] },
      ],
    },
  },
  delayedRmap: { variant: 'v6.18', scenario: { name: 'zap-dirty-shared', tasks: [{ cpu: 0, mm: 0, program: [{ op: 'mmap', start: 0, pages: 4, file: true, shared: true, measure: false }, { op: 'write', start: 0, pages: 4, measure: false }, { op: 'munmap', start: 0, pages: 4, measure: true }] }] } },
};
const SEEDS = 10;

describe('coverage marks', () => {
  it('every mark has a scenario', () => {
    expect(Object.keys(SCENARIOS).sort()).toEqual(Object.keys(MARKS).sort());
  });
  for (const [name, { boundedPreemptions, ...o }] of Object.entries(SCENARIOS) as [MarkName, MarkScenario][]) {
    it(`${name}: ${MARKS[name]}`, () => {
      let hits = 0;
      if (boundedPreemptions !== undefined) hits = recordMarks(() => exploreBounded(makeConfig(o), { preemptions: boundedPreemptions, maxSchedules: 10 })).get(name) ?? 0;
      for (let seed = 1; seed <= SEEDS && hits === 0; seed++) hits = recordMarks(() => runDeterministic(makeConfig({ ...o, seed }))).get(name) ?? 0;
      expect(hits).toBeGreaterThan(0);
    }, 60_000);
  }
  it('marks are counted only while recorded', () => {
    runDeterministic(makeConfig(SCENARIOS.forcedFlush));
    const inner = recordMarks(() => {});
    expect(inner.size).toBe(0);
  });
});
