// Exact counts against kernel-facts 2.6 (reference scenario R): TLB flushes
// (= shootdowns = free batches) of one munmap of N pages, pte-lock
// acquisitions by the zap path, and the work done under the pte lock.
import { describe, expect, it } from 'vitest';
import { run } from './helpers.ts';

// N: [PRE !PREEMPT, PRE PREEMPT, SEED alloc ok, SEED alloc always fails]
const FLUSHES: Record<number, [number, number, number, number]> = {
  100: [1, 13, 1, 13],
  506: [2, 64, 1, 64],
  512: [2, 65, 2, 65],
  1000: [2, 126, 2, 126],
  1024: [4, 129, 3, 129],
  4096: [13, 513, 9, 513],
  100000: [293, 12501, 196, 12525],
};
// flushes issued while the pte lock is held, legacy !PREEMPT (the rest of the table is 0)
const IN_LOCK: Record<number, number> = { 100: 0, 506: 1, 512: 1, 1000: 1, 1024: 2, 4096: 8, 100000: 195 };

const munmap = (variant: string, n: number, preempt: string, allocFail = 'never') =>
  run({ variant, workload: 'munmap', pages: n, cpus: 2, preempt, allocFail, readerAccesses: 200 });

describe('gather flushes per munmap (kernel-facts 2.6)', () => {
  for (const [nText, [preNone, preFull, seedOk, seedFail]] of Object.entries(FLUSHES)) {
    const n = Number(nText);
    it(`N = ${n}`, async () => {
      const legacyNone = await munmap('legacy', n, 'none');
      const legacyFull = await munmap('legacy', n, 'full');
      expect(legacyNone.counters.gatherFlushes).toBe(preNone);
      expect(legacyFull.counters.gatherFlushes).toBe(preFull);
      expect(legacyNone.counters.flushesUnderPteLock).toBe(IN_LOCK[n]);
      expect(legacyFull.counters.flushesUnderPteLock).toBe(0);
      for (const preempt of ['none', 'full']) {
        const ok = await munmap('rework', n, preempt);
        const fail = await munmap('rework', n, preempt, 'always');
        expect(ok.counters.gatherFlushes, `rework --preempt ${preempt}`).toBe(seedOk);
        expect(fail.counters.gatherFlushes, `rework --preempt ${preempt} --alloc-fail always`).toBe(seedFail);
        for (const r of [ok, fail]) {
          expect(r.counters.flushesUnderPteLock).toBe(0);
          expect(r.counters.pagesFreedUnderPteLock).toBe(0);
          expect(r.counters.rssBefore - r.counters.rssAfter).toBe(n);
          expect(r.violations).toEqual([]);
        }
        expect(fail.counters.batchAllocFailures).toBe(seedFail + 1); // at gather start and after every flush
        expect(ok.counters.batchAllocFailures).toBe(0);
      }
      for (const r of [legacyNone, legacyFull]) {
        expect(r.counters.pagesFreed).toBe(n);
        expect(r.counters.pageTablesFreed).toBe(Math.ceil(n / 512));
        expect(r.counters.rssBefore - r.counters.rssAfter).toBe(n);
        expect(r.violations).toEqual([]);
        expect(r.error).toBeNull();
      }
    });
  }
});

describe('pte-lock acquisitions by the zap path (kernel-facts 2.6)', () => {
  const cases: [string, number, string, number][] = [
    ['legacy', 1000, 'none', 2],
    ['legacy', 1000, 'full', 125],
    ['rework', 1000, 'none', 3],
    ['rework', 1000, 'full', 126],
    ['legacy', 4096, 'none', 8],
    ['legacy', 4096, 'full', 512],
    ['rework', 4096, 'none', 16],
    ['rework', 4096, 'full', 520],
  ];
  for (const [variant, n, preempt, want] of cases) {
    it(`${variant} N = ${n} --preempt ${preempt}: ${want}`, async () => {
      expect((await munmap(variant, n, preempt)).counters.pteLockAcquisitions).toBe(want);
    });
  }
});

describe('work done under the pte lock', () => {
  it('legacy --preempt none frees pages under the pte lock; at most one full batch per table when aligned', async () => {
    const r = await munmap('legacy', 4096, 'none');
    expect(r.counters.pagesFreedUnderPteLock).toBe(8 * 506);
    expect(r.counters.maxPagesFreedInOnePteLockHold).toBe(506);
  });
  it('rework never flushes or frees under the pte lock, with or without the batch page', async () => {
    for (const allocFail of ['never', 'always', '0.5']) {
      const r = await munmap('rework', 4096, 'none', allocFail);
      expect(r.counters.flushesUnderPteLock).toBe(0);
      expect(r.counters.pagesFreedUnderPteLock).toBe(0);
      expect(r.counters.maxPagesFreedInOnePteLockHold).toBe(0);
    }
  });
  it('a batch page that fails once at the start and then succeeds: first flush after 8 pages, then 512 at a time', async () => {
    // 8, then 512 (pages 9..520), then 480 + 2 page tables at tlb_finish_mmu
    const r = await munmap('rework', 1000, 'none', 'once');
    expect(r.counters.gatherFlushes).toBe(3);
    expect(r.counters.forcedFlushes).toBe(2);
    expect(r.counters.batchAllocFailures).toBe(1);
    expect(r.counters.batchAllocs).toBe(1);
  });
});

describe('rss accounting', () => {
  it('rework-seed (init_rss_vec before again:) over-decrements rss and trips RSS_MISMATCH', async () => {
    const r = await munmap('rework-seed', 1000, 'none');
    // the first table's 512 pages are applied once before the forced restart and again after it
    expect(r.counters.rssBefore - r.counters.rssAfter).toBe(1000 + 512);
    expect(r.violations.map((v) => v.rule)).toEqual(['RSS_MISMATCH']);
  });
  it('rework-seed without a forced restart (N < 512) is exact', async () => {
    const r = await munmap('rework-seed', 100, 'none');
    expect(r.counters.rssBefore - r.counters.rssAfter).toBe(100);
    expect(r.violations).toEqual([]);
  });
});

describe('fast mode (one cpu online)', () => {
  it('legacy on one cpu frees every page as it is removed and runs clean', async () => {
    for (const preempt of ['none', 'full']) {
      const r = await run({ variant: 'legacy', workload: 'munmap', pages: 1000, cpus: 1, preempt });
      expect(r.counters.pagesFreedUnderPteLock).toBe(1000);
      expect(r.counters.ipisSent).toBe(0);
      expect(r.violations).toEqual([]);
    }
  });
});
