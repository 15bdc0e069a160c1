// The will-it-scale mirrors: each runs clean under both designs, and counts
// its operations as will-it-scale's (*iterations)++ does: a page for
// page_fault and tlb_flush, an mmap+munmap pair for mmap. The flushes of
// tlb_flush2 follow from the code: one MADV_DONTNEED of one present page is
// one gather with one page queued, so exactly one tlb_flush_mmu (one local
// flush) per op in either design, and IPIs only to other cpus running the mm.
import { describe, expect, it } from 'vitest';
import { run } from './helpers.ts';

const CPUS = 2;
const ROUNDS = 2;
const PAGES = 64;
const tasks = CPUS; // --tasks-per-cpu 1

describe('will-it-scale mirrors run clean and count ops as will-it-scale does', () => {
  const perPage = ['page_fault1', 'page_fault2', 'tlb_flush1', 'tlb_flush2'];
  for (const workload of [...perPage, 'mmap1', 'mmap2']) {
    for (const variant of ['legacy', 'rework']) {
      it(`${workload} ${variant}`, async () => {
        const r = await run({ variant, workload, cpus: CPUS, rounds: ROUNDS, pages: PAGES, seed: 3 });
        expect(r.error).toBeNull();
        expect(r.violations).toEqual([]);
        expect(r.counters.ops).toBe(perPage.includes(workload) ? tasks * PAGES * ROUNDS : tasks * ROUNDS);
        if (workload.startsWith('page_fault')) {
          expect(r.counters.pageFaults).toBe(r.counters.ops); // every store faults once: the mapping is new each round
          expect(r.counters.gatherFlushes).toBe(0);
        }
        if (workload.startsWith('mmap')) {
          // nothing was mapped, so nothing needs flushing; the rework still takes its batch page per munmap
          expect(r.counters.gatherFlushes).toBe(0);
          expect(r.counters.ipisSent).toBe(0);
          expect(r.counters.batchAllocs).toBe(variant === 'rework' ? r.counters.ops : 0);
        }
      });
    }
  }
});

describe('tlb_flush2: flushes per op', () => {
  for (const variant of ['legacy', 'rework']) {
    it(`${variant}, processes (--mms = tasks): one flush per op, no IPI`, async () => {
      const r = await run({ variant, workload: 'tlb_flush2', cpus: CPUS, mms: tasks, rounds: ROUNDS, pages: PAGES });
      expect(r.violations).toEqual([]);
      expect(r.counters.ops).toBe(tasks * PAGES * ROUNDS);
      expect(r.counters.gatherFlushes).toBe(r.counters.ops);
      expect(r.counters.tlbFlushesLocal).toBe(r.counters.ops);
      expect(r.counters.pagesFreed).toBe(r.counters.ops);
      expect(r.counters.ipisSent).toBe(0); // each mm runs on one cpu only
      expect(r.counters.flushesUnderPteLock).toBe(0);
      expect(r.counters.batchAllocs).toBe(variant === 'rework' ? r.counters.ops : 0);
    });
    it(`${variant}, threads (--mms 1): one flush per op, at most one IPI per other cpu`, async () => {
      const r = await run({ variant, workload: 'tlb_flush2', cpus: CPUS, mms: 1, rounds: ROUNDS, pages: PAGES });
      expect(r.violations).toEqual([]);
      expect(r.counters.gatherFlushes).toBe(r.counters.ops);
      expect(r.counters.ipisSent).toBeGreaterThan(0);
      expect(r.counters.ipisSent).toBeLessThanOrEqual(r.counters.ops * (CPUS - 1));
    });
  }
  it('one cpu: both designs in fast mode, still one flush per op', async () => {
    for (const variant of ['legacy', 'rework']) {
      const r = await run({ variant, workload: 'tlb_flush2', cpus: 1, tasksPerCpu: 2, rounds: 1, pages: PAGES });
      expect(r.violations).toEqual([]);
      expect(r.counters.gatherFlushes).toBe(r.counters.ops);
      expect(r.counters.batchAllocs).toBe(0);
    }
  });
});

describe('--duration ends the loop early', () => {
  it('page_fault1 stops starting rounds once the duration is over', async () => {
    const r = await run({ workload: 'page_fault1', cpus: CPUS, rounds: 1_000_000, pages: PAGES, duration: '5ms' });
    expect(r.violations).toEqual([]);
    expect(r.counters.ops % PAGES).toBe(0); // whole rounds only
    expect(r.counters.ops).toBeGreaterThan(0);
    expect(r.counters.ops).toBeLessThan(tasks * PAGES * 1000);
  });
});
