// Partial-order reduction in bounded exploration (bounded.ts, footprint.ts):
// the recorder sees every access to the machine's memory, orders of
// independent steps leave the machine the same, and the reduced search
// finds what the full one finds while running far fewer schedules.
import { describe, expect, it } from 'vitest';
import { makeConfig, type RunOptions } from '../src/engine/configure.ts';
import { bootMachine } from '../src/engine/boot.ts';
import { exploreBounded, type BoundedOptions } from '../src/engine/bounded.ts';
import { FootprintRecorder, conflicts, union } from '../src/engine/footprint.ts';
import { runSharing, sharedSteps } from '../src/engine/dependence.ts';
import { loadScenario } from '../src/scenario/load.ts';
import { CPU_FIELD, FILE_FIELD, HDR, LOCK, MM_FIELD, MM_WORDS, MUTEX, PAGE_FIELD, RWSEM, layoutRegions, type Machine } from '../src/machine/layout.ts';
import { recordMarks } from '../src/machine/marks.ts';

describe('footprint recorder', () => {
  it('sees index and Atomics accesses through the machine, tells changes from reads, leaves out the running task\'s own per-cpu counts, and puts everything back', () => {
    const { m } = bootMachine(makeConfig({ variant: 'rework', workload: 'munmap', cpus: 2, pages: 4 }));
    const raw = m.mem;
    const realAtomics = globalThis.Atomics;
    const rec = new FootprintRecorder(m);
    rec.install(m);
    try {
      const mem = m.mem;
      expect(mem).not.toBe(raw);
      const w = HDR.WORKLOAD;
      rec.begin();
      mem[w] = mem[w]! + 5; // read and changed
      Atomics.add(mem, w + 1, 1); // changed
      Atomics.store(mem, w + 2, mem[w + 2]!); // stored as it was: a read
      Atomics.compareExchange(mem, w + 3, 12345, 1); // failed: a read
      void Atomics.load(mem, w + 4); // a read
      Atomics.add(mem, w + 5, 1);
      Atomics.sub(mem, w + 5, 1); // changed and changed back: a read
      mem[m.cpu(1, CPU_FIELD.PREEMPT_COUNT)] = 7; // the running task's own: left out
      expect(mem.length).toBe(raw.length);
      const fp = rec.end();
      expect([...fp.writes].sort()).toEqual([w, w + 1]);
      expect([...fp.reads].sort()).toEqual([w + 2, w + 3, w + 4, w + 5]);
      expect(raw[w + 1]).toBe(1);
      rec.begin();
      void mem[w + 9];
      const other = new Int32Array(4);
      Atomics.store(other, 0, 3); // another array: passed through, not noted
      expect(other[0]).toBe(3);
      expect(rec.end()).toEqual({ reads: Int32Array.of(w + 9), writes: new Int32Array(0) });
      // a subarray taken in one step and read in a later one (a legacy gather's page list) is recorded at its place in the machine
      const list = mem.subarray(w + 20, w + 26);
      rec.begin();
      list[1] = 9;
      void list[2];
      Atomics.add(list, 3, 1);
      void list.subarray(4)[1];
      expect(rec.end()).toEqual({ reads: Int32Array.of(w + 22, w + 25), writes: Int32Array.of(w + 21, w + 23) });
      mem[w + 10] = 4; // between steps: not noted
      rec.begin();
      expect(rec.end()).toEqual({ reads: new Int32Array(0), writes: new Int32Array(0) });
    } finally {
      rec.uninstall(m);
    }
    expect(m.mem).toBe(raw);
    expect(globalThis.Atomics).toBe(realAtomics);
  });

  it('conflicts when one changes what the other touched, and not over words both only read', () => {
    const a = { reads: Int32Array.of(1, 2), writes: Int32Array.of(3) };
    expect(conflicts(a, { reads: Int32Array.of(1, 2, 9), writes: Int32Array.of(4) })).toBe(false);
    expect(conflicts(a, { reads: Int32Array.of(3), writes: new Int32Array(0) })).toBe(true);
    expect(conflicts(a, { reads: new Int32Array(0), writes: Int32Array.of(2) })).toBe(true);
    expect(conflicts(a, { reads: new Int32Array(0), writes: Int32Array.of(3) })).toBe(true);
    expect(union([a, { reads: Int32Array.of(3, 5), writes: Int32Array.of(1) }])).toEqual({ reads: Int32Array.of(2, 5), writes: Int32Array.of(3, 1) });
  });
});

describe('shared steps (dependence.ts)', () => {
  const fp = (reads: number[], writes: number[]) => ({ reads: Int32Array.from(reads), writes: Int32Array.from(writes) });
  it('a step is shared when another thread changes a word it touches or touches a word it changes, wherever in the run; reads alone and ignored words share nothing', () => {
    const steps = [
      { thread: 0, footprint: fp([1], [2]) }, // 2 is read by thread 1 later: shared
      { thread: 1, footprint: fp([2, 1], []) }, // reads 2, which thread 0 changes: shared; 1 only read by both
      { thread: 1, footprint: fp([], [7]) }, // 7 is its own
      { thread: 0, footprint: fp([], [7]) }, // ... no: thread 0 changes 7 too, so both are shared
      { thread: 2, footprint: fp([1], [9]) }, // 9 is changed by thread 3 too, but 9 is ignored
      { thread: 3, footprint: fp([], [9]) },
      { thread: 2, footprint: fp([5], [6]) }, // its own words only
    ];
    expect(sharedSteps(steps, new Set([9]))).toEqual([true, true, true, true, false, false, false]);
    expect(sharedSteps(steps, new Set())).toEqual([true, true, true, true, true, true, false]);
  });

  it('a lone task shares words only with its cpu (the tick, the scheduler); two threads of one mm share with each other too', () => {
    const lone = runSharing(makeConfig({ variant: 'rework', workload: 'exit', cpus: 1, pages: 8, kworker: false, clockSkew: 'none', seed: 1 }));
    expect(lone.taskSteps).toBeGreaterThan(0);
    expect(lone.taskShared).toBeGreaterThan(0);
    expect(lone.taskSharedWithTasks).toBe(0);
    const threads = runSharing(makeConfig({ variant: 'rework', workload: 'exit', cpus: 2, mms: 1, pages: 8, kworker: false, clockSkew: 'none', seed: 1 }));
    expect(threads.taskSharedWithTasks).toBeGreaterThan(0);
    expect(threads.taskSharedWithTasks).toBeLessThanOrEqual(threads.taskShared);
    expect(threads.taskShared).toBeLessThanOrEqual(threads.taskSteps);
  });
});

/**
 * What a run left that the kernel would show: frames, page tables, TLBs,
 * mms, the file and its disk. Not model time (clocks, and the release time
 * each lock keeps), which the order of independent steps may change.
 */
function machineState(m: Machine): string {
  const keep = new Set(['pages', 'freeStack', 'ptStore', 'ptFreeStack', 'tlb', 'mms', 'files', 'pageCache', 'fileDisk']);
  const mem = Int32Array.from(m.mem);
  const untimed = (lockAt: number): void => void mem.fill(0, lockAt + LOCK.RELEASE_NS, lockAt + LOCK.WORDS);
  for (let p = 0; p < m.size.pages; p++) untimed(m.pagesBase + p * PAGE_FIELD.WORDS + PAGE_FIELD.PTL);
  for (let mm = 0; mm < m.size.mms; mm++) {
    const at = m.mmsBase + mm * MM_WORDS;
    untimed(at + MM_FIELD.PAGE_TABLE_LOCK);
    untimed(at + MM_FIELD.MMAP_SEM + RWSEM.WAIT_LOCK);
  }
  untimed(m.filesBase + FILE_FIELD.I_MMAP_LOCK); // a spinlock, or a mutex whose wait lock is further in: both cleared
  untimed(m.filesBase + FILE_FIELD.I_MMAP_LOCK + MUTEX.WAIT_LOCK);
  untimed(m.filesBase + FILE_FIELD.TREE_LOCK);
  const parts: string[] = [];
  for (const r of layoutRegions(m.size)) if (keep.has(r.name)) parts.push(Buffer.from(mem.buffer, r.offset * 4, r.words * 4).toString('base64'));
  return parts.join('|');
}

/** Each run's final state, and the search's result. */
function statesOf(config: ReturnType<typeof makeConfig>, o: Omit<BoundedOptions, 'inspect'>) {
  const states: string[] = [];
  const r = exploreBounded(config, { ...o, inspect: (m) => states.push(machineState(m)) });
  return { r, states };
}

describe('bounded exploration with partial-order reduction', () => {
  const oneCpu = { variant: 'rework', workload: 'munmap', cpus: 1, tasksPerCpu: 2, pages: 16, kworker: false } as const;

  it('treats the orders of independent steps as one: every machine the full search leaves, the reduced one leaves too, from far fewer runs', () => {
    const config = makeConfig(oneCpu);
    const full = statesOf(config, { preemptions: 1, maxSchedules: 10_000, reduce: false });
    const reduced = statesOf(config, { preemptions: 1, maxSchedules: 10_000 });
    expect(full.r.exhausted && reduced.r.exhausted).toBe(true);
    const fullStates = new Set(full.states);
    // preempting the unmapper one step earlier or later, where the reader's steps touch nothing it changes, leaves the same machine
    expect(fullStates.size).toBeLessThan(full.states.length / 4);
    expect(new Set(reduced.states)).toEqual(fullStates);
    expect(reduced.r.schedules + reduced.r.skipped).toBe(full.r.schedules);
    expect(reduced.r.schedules).toBeLessThan(full.r.schedules / 10);
    expect(reduced.r.groups.map((g) => g.location)).toEqual(full.r.groups.map((g) => g.location));
  }, 60_000);

  it("exhausts the fast-mode race's space at two preemptions in at most 1,260 runs, a tenth of the full search's 13,531, and still finds the race", () => {
    const config = makeConfig({ ...oneCpu, readerAccesses: 20 });
    let r: ReturnType<typeof exploreBounded> | null = null;
    const marks = recordMarks(() => {
      r = exploreBounded(config, { preemptions: 2, maxSchedules: 100_000 });
    });
    const { schedules, exhausted, groups, redundant } = r!;
    expect(exhausted).toBe(true);
    expect(schedules).toBeLessThanOrEqual(1260);
    expect(groups.map((g) => g.rule)).toEqual(['STALE_TLB_ACCESS']);
    expect(redundant).toBeGreaterThan(0);
    expect(marks.get('sleepingStepTaken')).toBeGreaterThanOrEqual(redundant);
  }, 60_000);

  const scenarios: [string, RunOptions, number][] = [
    ['legacy-preemptible, one cpu: a task takes over the gather of the task it preempted', { ...oneCpu, variant: 'legacy-preemptible' }, 1],
    ['free-before-flush, two cpus', { variant: 'free-before-flush', workload: 'munmap', cpus: 2, pages: 4, kworker: false }, 1],
    ['no-ipi, two cpus', { variant: 'no-ipi', workload: 'munmap', cpus: 2, pages: 4, kworker: false }, 1],
    ['rework exit, one cpu, two preemptions', { variant: 'rework', workload: 'exit', cpus: 1, tasksPerCpu: 2, pages: 4, kworker: false }, 2],
    ['legacy truncate, two cpus', { variant: 'legacy', workload: 'truncate', cpus: 2, pages: 4, kworker: false }, 1],
  ];
  for (const [name, options, preemptions] of scenarios) {
    it(`finds the same violations as the full search, exhausted both ways: ${name}`, () => {
      const config = makeConfig({ clockSkew: 'none', ...options });
      const full = exploreBounded(config, { preemptions, maxSchedules: 5000, reduce: false });
      const reduced = exploreBounded(config, { preemptions, maxSchedules: 5000 });
      expect(full.exhausted).toBe(true);
      expect(reduced.exhausted).toBe(true);
      expect(reduced.groups.map((g) => g.location).sort()).toEqual(full.groups.map((g) => g.location).sort());
      expect(reduced.schedules).toBeLessThan(full.schedules);
    }, 120_000);
  }

  it('finds rmap-before-flush in its scenario file, as the full search does', () => {
    const { options } = loadScenario('examples/bounded/rmap-window.yaml');
    const config = makeConfig({ kworker: false, ...options, variant: 'rmap-before-flush', clockSkew: 'none' });
    const found = (reduce: boolean) => {
      let at = 0;
      const r = exploreBounded(config, { preemptions: 1, maxSchedules: 5000, reduce, onViolation: (_g, schedule) => ((at = schedule), true) });
      return { rules: r.groups.map((g) => g.rule), at };
    };
    const full = found(false);
    const reduced = found(true);
    expect(full.rules.length).toBeGreaterThan(0);
    expect(reduced.rules).toEqual(full.rules);
    expect(reduced.at).toBeLessThanOrEqual(full.at);
  }, 120_000);
});
