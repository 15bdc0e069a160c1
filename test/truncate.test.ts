// truncate of a file mapped MAP_PRIVATE by several mms: unmap_mapping_range
// under the i_mmap lock, zap_page_range on each mapper's mm, 2.6.38's lock
// break and restart (vm_truncate_count, restart_addr). Exact counts come from
// kernel-facts 1.4 and 2.6 applied per vma: the truncate is one zap_page_range
// per mapper, then a second unmap_mapping_range (truncate_pagecache) that
// finds every pte none.
import { describe, expect, it } from 'vitest';
import { run, rules } from './helpers.ts';
import type { RunOptions } from '../src/engine/configure.ts';

const MMS = 4;
const PAGES = 256;
// one user task per cpu and no kworker: nothing else wants the truncating cpu, so
// need_resched stays clear and only a waiter on the i_mmap lock can break the walk
const quiet: RunOptions = { workload: 'truncate', mms: MMS, cpus: 4, tasksPerCpu: 1, kworker: false, pages: PAGES };

describe('truncate to 0 zaps every mapper, exactly', () => {
  // [variant, preempt, flushes, pte-lock acquisitions]
  const cases: [string, string, number, number][] = [
    // legacy !PREEMPT: 256 < 506, one flush per vma at tlb_finish_mmu
    ['legacy', 'none', MMS, 2 * MMS],
    // legacy PREEMPT: a ZAP_BLOCK_SIZE of 8 pages finishes the gather: 32 flushes per vma
    ['legacy', 'full', MMS * (PAGES / 8), MMS * (PAGES / 8) + MMS],
    ['rework', 'none', MMS, 2 * MMS],
  ];
  for (const [variant, preempt, flushes, ptl] of cases) {
    it(`${variant} --preempt ${preempt}`, async () => {
      for (const immapLock of ['spinlock', 'mutex']) {
        const r = await run({ ...quiet, variant, preempt, immapLock, seed: 3 });
        const what = `${variant} ${preempt} ${immapLock}`;
        expect(r.error, what).toBeNull();
        expect(r.violations, what).toEqual([]);
        expect(r.counters.ops).toBe(1);
        expect(r.counters.pagesFreed, what).toBe(MMS * PAGES);
        expect(r.totals.pagesFreed, what).toBe(MMS * PAGES); // nothing re-instantiated past EOF and freed later
        expect(r.counters.pageTablesFreed, what).toBe(0); // truncate leaves the page tables to munmap
        expect(r.counters.rssBefore - r.counters.rssAfter, what).toBe(PAGES);
        expect(r.counters.rssAfter, what).toBe(0);
        expect(r.counters.gatherFlushes, what).toBe(flushes);
        // one hold per 8-page block (PREEMPT) or per table, then one per vma for the all-none second pass;
        // the same however often the lock broke, so a restart resumes at restart_addr
        expect(r.counters.pteLockAcquisitions, what).toBe(ptl);
        expect(r.counters.flushesUnderPteLock, what).toBe(0);
        expect(r.totals.segfaults, what).toBeGreaterThan(0); // SIGBUS past EOF, survived
      }
    });
  }
  it('rework --preempt full: one flush per vma plus one per break inside a vma', async () => {
    for (const immapLock of ['spinlock', 'mutex']) {
      const r = await run({ ...quiet, variant: 'rework', preempt: 'full', immapLock, seed: 3 });
      expect(r.violations).toEqual([]);
      expect(r.counters.pagesFreed).toBe(MMS * PAGES);
      expect(r.counters.pteLockAcquisitions).toBe(MMS * (PAGES / 8) + MMS);
      // the gather left unflushed at a break is finished by zap_page_range
      expect(r.counters.gatherFlushes).toBeGreaterThanOrEqual(MMS);
      expect(r.counters.gatherFlushes).toBeLessThanOrEqual(MMS + r.counters.iMmapLockBreaks);
      expect(r.counters.pagesFreedUnderPteLock).toBe(0);
    }
  });
  it('large mappings: per-vma flushes follow kernel-facts 2.6 (3000 pages: legacy 8, rework 6)', async () => {
    for (const [variant, perVma] of [['legacy', 8], ['rework', 6]] as const) {
      const r = await run({ ...quiet, mms: 2, cpus: 2, variant, preempt: 'none', pages: 3000, seed: 1 });
      expect(r.violations).toEqual([]);
      expect(r.counters.pagesFreed).toBe(6000);
      expect(r.counters.gatherFlushes).toBe(2 * perVma);
    }
  });
});

describe('the i_mmap lock break', () => {
  it('a spinning waiter breaks the walk only under CONFIG_PREEMPT (spin_needbreak), and the restart redoes no work', async () => {
    for (const variant of ['legacy', 'rework']) {
      for (let seed = 1; seed <= 4; seed++) {
        const none = await run({ ...quiet, variant, preempt: 'none', immapLock: 'spinlock', seed });
        const full = await run({ ...quiet, variant, preempt: 'full', immapLock: 'spinlock', seed });
        expect(none.violations).toEqual([]);
        expect(full.violations).toEqual([]);
        expect(none.counters.iMmapLockBreaks, `${variant} seed ${seed}`).toBe(0);
        expect(full.counters.iMmapLockBreaks, `${variant} seed ${seed}`).toBeGreaterThanOrEqual(1);
        // each break is one cond_resched with the lock dropped, the only one on this path
        expect(full.counters.condResched).toBe(full.counters.iMmapLockBreaks);
        expect(full.counters.pteLockAcquisitions).toBe(MMS * (PAGES / 8) + MMS);
        expect(full.counters.pagesFreed).toBe(MMS * PAGES);
      }
    }
  });
  it('mutex_is_contended is not tied to the preemption model: a sleeping waiter breaks the walk under --preempt none too', async () => {
    for (const variant of ['legacy', 'rework']) {
      let breaks = 0;
      for (let seed = 1; seed <= 4; seed++) {
        const r = await run({ ...quiet, variant, preempt: 'none', immapLock: 'mutex', seed });
        expect(r.violations).toEqual([]);
        expect(r.counters.pagesFreed).toBe(MMS * PAGES);
        breaks += r.counters.iMmapLockBreaks;
      }
      expect(breaks, variant).toBeGreaterThan(0);
    }
  });
  it('need_resched breaks it too: a second task on the truncating cpu, --preempt none', async () => {
    // 2 x 3000 pages outlasts a time slice, so the tick asks the truncator to give way
    const r = await run({ workload: 'truncate', variant: 'legacy', preempt: 'none', immapLock: 'spinlock', mms: 2, cpus: 2, tasksPerCpu: 2, pages: 3000, seed: 1 });
    expect(r.violations).toEqual([]);
    expect(r.counters.iMmapLockBreaks).toBeGreaterThanOrEqual(1);
    expect(r.counters.pagesFreed).toBe(6000);
  });
});

describe('the i_mmap lock as a mutex under the 2.6.38 gather', () => {
  // unmap_mapping_range takes the i_mmap lock before zap_page_range's tlb_gather_mmu and drops it
  // only after the gather is finished (2.6.38 finishes it in unmap_vmas before returning short), so
  // truncate never sleeps with the per-cpu gather's preemption off; free_pgtables does, because it
  // takes the lock in unlink_file_vma inside the gather (munmap, exit_mmap).
  it('truncate does not sleep in atomic context; exit_mmap does', async () => {
    for (const preempt of ['none', 'full']) {
      const t = await run({ ...quiet, variant: 'legacy', preempt, immapLock: 'mutex', seed: 2 });
      expect(t.violations, preempt).toEqual([]);
      expect(t.lockStat.find((l) => l.class === '&mapping->i_mmap_mutex')?.acquisitions ?? 0).toBeGreaterThan(MMS);
    }
    const exit = await run({ workload: 'exit', variant: 'legacy', immapLock: 'mutex', cpus: 2, pages: 50, seed: 1 });
    expect(rules(exit)).toContain('SLEEP_IN_ATOMIC');
  });
});

describe('the oracles see what truncate frees', () => {
  it('free-before-flush and no-ipi are caught on the truncate workload', async () => {
    for (const variant of ['free-before-flush', 'no-ipi']) {
      const r = await run({ workload: 'truncate', variant, seed: 1, mms: MMS, cpus: 4, tasksPerCpu: 2, pages: 600 });
      expect(rules(r), variant).toContain('FREE_WHILE_REMOTE_TLB');
    }
  });
});

describe('determinism', () => {
  it('the same seed gives the same truncate, byte for byte (elapsed time aside)', async () => {
    const o: RunOptions = { workload: 'truncate', variant: 'rework', immapLock: 'mutex', mms: 3, cpus: 3, tasksPerCpu: 2, pages: 64, seed: 5 };
    const a = await run(o);
    const b = await run(o);
    expect(JSON.stringify({ ...a, host: null })).toBe(JSON.stringify({ ...b, host: null }));
  });
});

describe('clean over many seeds', () => {
  // the lock, the preemption model and the shape vary with the seed
  for (const variant of ['legacy', 'rework']) {
    it(`${variant}, 30 seeds`, async () => {
      const bad: string[] = [];
      for (let seed = 1; seed <= 30; seed++) {
        const immapLock = seed % 2 === 0 ? 'mutex' : 'spinlock';
        const preempt = ['none', 'voluntary', 'full'][seed % 3]!;
        const r = await run({ workload: 'truncate', variant, seed, immapLock, preempt, mms: 2 + (seed % 3), cpus: 3, tasksPerCpu: 2, pages: 64 + 8 * (seed % 5) });
        const want = r.config.mms * r.config.pages;
        if (r.error || r.violations.length > 0 || r.counters.pagesFreed !== want) {
          bad.push(`seed ${seed} ${immapLock} ${preempt}: ${r.violations[0]?.rule ?? r.error?.message ?? `freed ${r.counters.pagesFreed} of ${want}`}`);
        }
      }
      expect(bad).toEqual([]);
    });
  }
});
