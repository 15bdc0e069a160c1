// MAP_SHARED file mappings and the file's page cache. A fault maps the
// page-cache page itself (found, or added once however many tasks fault it
// at once); a zap drops the pte's reference after the gather's flush and the
// page stays in the cache; truncate unmaps, then takes the pages out of the
// cache and frees them. Exact counts follow from the code: in tlb_flush3 a
// page is two faults (the write on a new pte, the read-back after
// MADV_DONTNEED) and one flush, and no page is freed; in page_fault3 a page
// is one fault, and the first round adds every page to the cache. The
// oracles keep their meaning: a page-cache page truncate frees while
// another cpu's TLB maps it is FREE_WHILE_REMOTE_TLB, and a free before the
// flush is still caught when the page is one truncate let go while a
// gather held it; the real designs run the same race clean.
import { describe, expect, it } from 'vitest';
import { run } from './helpers.ts';
import { parseScenario } from '../src/scenario/load.ts';
import { makeConfig, type RunOptions } from '../src/engine/configure.ts';
import { MM_FIELD, PAGE_FIELD, VMA_FLAGS, pteFrame } from '../src/machine/layout.ts';
import { Oracle } from '../src/oracle/rules.ts';
import { newKctx } from '../src/sync/context.ts';
import { bootCtx, bootMachine, runToEnd } from '../src/engine/boot.ts';
import { freePage } from '../src/page/alloc.ts';
import { tlbFlushOne } from '../src/cpu/tlb.ts';
import { switchMm } from '../src/cpu/tlbflush.ts';
import { userAccess } from '../src/mm/fault.ts';
import { insertVma } from '../src/mm/vma.ts';
import { lookupPteTable, pteIndex } from '../src/mm/pgtable.ts';
import { truncateFile } from '../src/mm/truncate.ts';

const CPUS = 2;
const PAGES = 32;
const ROUNDS = 3;
const TASKS = CPUS; // --tasks-per-cpu 1

function scenario(name: string, yaml: string): RunOptions {
  return parseScenario(`${name}.yaml`, yaml).options;
}

describe('tlb_flush3 and page_fault3: exact counts', () => {
  for (const variant of ['legacy', 'rework']) {
    for (const mms of [1, TASKS]) {
      const shape = mms === 1 ? 'threads' : 'processes';
      it(`tlb_flush3 ${variant} ${shape}`, async () => {
        const r = await run({ variant, workload: 'tlb_flush3', cpus: CPUS, mms, rounds: ROUNDS, pages: PAGES, seed: 5 });
        expect(r.error).toBeNull();
        expect(r.violations).toEqual([]);
        const ops = TASKS * PAGES * ROUNDS;
        expect(r.counters.ops).toBe(ops);
        expect(r.counters.pageFaults).toBe(2 * ops); // the write, then the read-back after MADV_DONTNEED
        expect(r.counters.gatherFlushes).toBe(ops); // one MADV_DONTNEED of one present pte: one flush
        expect(r.counters.pagesFreed).toBe(0); // the page cache keeps every page
        expect(r.totals.pagesFreed).toBe(0); // munmap too frees only page tables
        expect(r.totals.pageCacheAdds).toBe(TASKS * PAGES); // once, in the first round; then found
        expect(r.totals.pageCacheRemovals).toBe(0);
        if (mms === TASKS) expect(r.counters.ipisSent).toBe(0); // each mm runs on one cpu
        else expect(r.counters.ipisSent).toBeGreaterThan(0);
      });
      it(`page_fault3 ${variant} ${shape}`, async () => {
        const r = await run({ variant, workload: 'page_fault3', cpus: CPUS, mms, rounds: ROUNDS, pages: PAGES, seed: 5 });
        expect(r.error).toBeNull();
        expect(r.violations).toEqual([]);
        const ops = TASKS * PAGES * ROUNDS;
        expect(r.counters.ops).toBe(ops);
        expect(r.counters.pageFaults).toBe(ops); // every store faults once: the mapping is new each round
        expect(r.counters.gatherFlushes).toBe(0);
        expect(r.totals.pagesFreed).toBe(0);
        expect(r.totals.pageCacheAdds).toBe(TASKS * PAGES);
        expect(r.totals.pageTablesFreed).toBeGreaterThan(0); // munmap frees the tables, not the pages
      });
    }
  }
});

describe('truncate takes the pages out of the page cache and frees them', () => {
  // two threads map the file's first 16 pages MAP_SHARED at two places; one writes them, the other
  // reads them (finding the same pages), then the first unmaps its mapping and truncates the file to
  // 4 pages while the second still maps it
  const yaml = `machine: {cpus: 2}
tasks:
  - cpu: 0
    program:
      - mmap: {start: 0, pages: 16, shared: true}
      - write: {start: 0, pages: 16}
      - barrier
      - barrier
      - munmap: {start: 0, pages: 16}
      - truncate: {pages: 4}
      - barrier
  - cpu: 1
    program:
      - mmap: {start: 512, pages: 16, shared: true}
      - barrier
      - read: {start: 512, pages: 16}
      - barrier
      - barrier
`;
  for (const variant of ['legacy', 'rework']) {
    it(`${variant}: no page goes at munmap, 12 go at truncate, 4 stay cached`, async () => {
      const r = await run({ ...scenario('truncate-shared', yaml), variant, seed: 2 });
      expect(r.error).toBeNull();
      expect(r.violations).toEqual([]);
      expect(r.totals.pageCacheAdds).toBe(16); // the writer adds them, the reader finds them
      expect(r.totals.pageFaults).toBe(32);
      expect(r.totals.pageCacheRemovals).toBe(12);
      // the munmap drops the writer's references only; truncate zaps the reader's ptes of pages 4..15,
      // its gather drops their references after its flush, and truncate_inode_pages frees them; the
      // exit that ends the run drops the reader's 4 and the page cache keeps them (the checks at the
      // end find count 1, mapcount 0, nrpages 4)
      expect(r.totals.pagesFreed).toBe(12);
    });
  }
});

describe('concurrent faults on one file page install one page', () => {
  // two processes fault the same 16 file pages at once, one writing and one reading
  const yaml = `machine: {cpus: 2}
tasks:
  - cpu: 0
    mm: 0
    program:
      - mmap: {start: 0, pages: 16, shared: true}
      - write: {start: 0, pages: 16}
  - cpu: 1
    mm: 1
    program:
      - mmap: {start: 0, pages: 16, shared: true}
      - read: {start: 0, pages: 16}
`;
  for (const variant of ['legacy', 'rework']) {
    it(`${variant}: one page per index whoever faults first, the loser's page freed unmapped`, async () => {
      let lost = 0;
      for (let seed = 1; seed <= 20; seed++) {
        const r = await run({ ...scenario('fault-race', yaml), variant, seed });
        expect(r.error).toBeNull();
        expect(r.violations).toEqual([]); // and the end checks found count 1, mapcount 0 and nrpages 16
        expect(r.totals.pageCacheAdds).toBe(16);
        expect(r.totals.pageFaults).toBe(32);
        lost += r.totals.pagesFreed; // a page read in by both: add_to_page_cache's -EEXIST, freed by its allocator
      }
      expect(lost).toBeGreaterThan(0);
    });
  }
});

/**
 * Thread A of mm 0 maps 8 pages of the file MAP_SHARED and 64 anonymous
 * pages after them, writes them all, and munmaps both in one unmap_region:
 * the file ptes are cleared first, and the gather holds their pages while it
 * zaps the anonymous ones. Thread B reads the file pages, so its cpu's TLB
 * maps them; thread C truncates the file to 0 (and back to 8) meanwhile,
 * finds A's file ptes already cleared (nothing to flush), and takes the
 * pages out of the page cache: A's gather now holds their last reference.
 * The real designs drop it after their flush; free-before-flush before it,
 * while B's TLB still maps the page.
 */
const RACE = `machine: {cpus: 3}
tasks:
  - cpu: 0
    program:
      - repeat:
          times: 6
          do:
            - mmap: {start: 0, pages: 8, shared: true}
            - mmap: {start: 8, pages: 64}
            - write: {start: 0, pages: 72}
            - barrier
            - barrier
            - munmap: {start: 0, pages: 72}
            - barrier
  - cpu: 1
    program:
      - repeat:
          times: 6
          do:
            - barrier
            - read: {start: 0, pages: 8}
            - barrier
            - read: {start: 0, pages: 8}
            - barrier
  - cpu: 2
    program:
      - mmap: {start: 1024, pages: 16}
      - write: {start: 1024, pages: 16}
      - repeat:
          times: 6
          do:
            - barrier
            - barrier
            - read: {start: 1024, pages: 16}
            - truncate: {pages: 0}
            - truncate: {pages: 8}
            - barrier
`;

describe('oracles on MAP_SHARED pages', () => {
  it('FREE_WHILE_REMOTE_TLB fires when truncate frees a page-cache page another cpu still maps, and only then; STALE_TLB_ACCESS after', () => {
    const config = makeConfig({ variant: 'rework', workload: 'tlb_flush3', pages: 8, cpus: 2 });
    const { m } = bootMachine(config);
    const oracle = new Oracle('rework', 1, 100, () => 0, () => {});
    const c0 = bootCtx(m, config, oracle);
    const c1 = newKctx({ m, cpu: 1, config, traits: c0.traits, oracle, rng: c0.rng, watchNow: () => 0, latencyStats: false });
    c0.task = 0;
    c1.task = 1;
    c1.mm = 0;
    switchMm(c1, 0);
    const V = 1 << 18;
    insertVma(c1, 0, V, V + 2, VMA_FLAGS.READ | VMA_FLAGS.WRITE | VMA_FLAGS.FILE | VMA_FLAGS.SHARED);
    for (let i = 0; i < 2; i++) expect(runToEnd(userAccess(c1, V + i, true))).toBe('ok'); // cpu 1's TLB maps both
    // a zap that forgets its flush: both ptes cleared, their rmap, rss and references dropped
    const frames = [0, 1].map((i) => {
      const at = m.ptEntry(lookupPteTable(c1, 0, V + i), pteIndex(V + i));
      const frame = pteFrame(Atomics.exchange(m.mem, at, 0));
      Atomics.sub(m.mem, m.page(frame, PAGE_FIELD.MAPCOUNT), 1);
      Atomics.sub(m.mem, m.mm(0, MM_FIELD.RSS_FILE), 1);
      runToEnd(freePage(c1, frame)); // the page cache still holds it: nothing is freed
      return frame;
    });
    expect(oracle.violations).toEqual([]);
    tlbFlushOne(m, 1, 0, V); // only the first page's translation leaves cpu 1's TLB
    runToEnd(truncateFile(c0, 0)); // truncate_inode_pages frees both pages
    expect(oracle.violations.map((v) => [v.rule, v.cpu, v.frame])).toEqual([['FREE_WHILE_REMOTE_TLB', 0, frames[1]]]);
    runToEnd(userAccess(c1, V + 1, false)); // and a load through that entry reaches a free frame
    expect(oracle.violations.map((v) => v.rule)).toEqual(['FREE_WHILE_REMOTE_TLB', 'STALE_TLB_ACCESS']);
  });

  it('free-before-flush: a page-cache page truncate let go is freed while a TLB still maps it', async () => {
    let caught: number | null = null;
    for (let seed = 1; seed <= 50 && caught === null; seed++) {
      const r = await run({ ...scenario('shared-race', RACE), variant: 'free-before-flush', seed });
      expect(r.error).toBeNull();
      const v = r.violations.find((x) => x.rule === 'FREE_WHILE_REMOTE_TLB');
      if (!v) continue;
      // the page is one of the file pages B reads (vpn REGION_BASE + 0..7)
      expect(v.address / 4096 - 2 ** 18).toBeGreaterThanOrEqual(0);
      expect(v.address / 4096 - 2 ** 18).toBeLessThan(8);
      caught = seed;
    }
    expect(caught).not.toBeNull();
  });
  for (const variant of ['legacy', 'rework']) {
    it(`${variant} runs the same race clean over 20 seeds`, async () => {
      const bad: string[] = [];
      let freed = 0;
      for (let seed = 1; seed <= 20; seed++) {
        const r = await run({ ...scenario('shared-race', RACE), variant, seed });
        freed += r.totals.pagesFreed;
        if (r.error || r.violations.length > 0) bad.push(`seed ${seed}: ${r.error?.message ?? `${r.violations[0]!.rule} ${r.violations[0]!.detail}`}`);
      }
      expect(bad).toEqual([]);
      expect(freed).toBeGreaterThan(0); // truncate really freed page-cache pages
    });
  }
  for (const variant of ['legacy', 'rework']) {
    for (const workload of ['tlb_flush3', 'page_fault3']) {
      it(`${workload} ${variant}: clean over 20 seeds, threads and processes`, async () => {
        const bad: string[] = [];
        for (let seed = 1; seed <= 20; seed++) {
          const r = await run({ variant, workload, seed, cpus: 3, mms: seed % 2 === 0 ? 1 : 3, pages: 16, rounds: 2, preempt: seed % 3 === 0 ? 'none' : 'full' });
          if (r.error || r.violations.length > 0) bad.push(`seed ${seed}: ${r.error?.message ?? `${r.violations[0]!.rule} ${r.violations[0]!.detail}`}`);
        }
        expect(bad).toEqual([]);
      });
    }
  }
});
