// Data versions, writeback and the two oracles that watch data: LOST_WRITE
// and WRITE_AFTER_WRPROTECT fire on a fault planted by hand and stay quiet
// when the operation is done right; each writeback mutant is caught on its
// own scenario by the rule it breaks, and the real designs run the
// writeback workload clean; the dirty-bit walk of the TLB.
import { PATH_DONE, PathStack } from '../src/machine/step.ts';
import { describe, expect, it } from 'vitest';
import { FILE_FIELD, PAGE_FIELD, PAGE_FLAG, PTE, pteFrame } from '../src/machine/layout.ts';
import type { ScenarioOp, ScenarioProgram } from '../src/machine/config.ts';
import type { RunResult } from '../src/engine/result.ts';
import { Oracle } from '../src/oracle/rules.ts';
import { makeConfig, type RunOptions } from '../src/engine/configure.ts';
import { bootCtx, bootMachine, runToEnd } from '../src/engine/boot.ts';
import { serviceIpis, switchMm } from '../src/cpu/tlbflush.ts';
import { newKctx } from '../src/sync/context.ts';
import { tlbFill, tlbLookup } from '../src/cpu/tlb.ts';
import { userAccess } from '../src/mm/fault.ts';
import { lookupPteTable, pteIndex } from '../src/mm/pgtable.ts';
import { checkQuiescent } from '../src/mm/syscall.ts';
import { lockPage, pageCacheLookup, unlockPage } from '../src/mm/filemap.ts';
import { clearPageDirtyForIo, writeCachePages } from '../src/mm/writeback.ts';
import { shrinkPageCache } from '../src/mm/vmscan.ts';
import { doMunmap, madviseDontneed } from '../src/mm/mmap.ts';
import { findVariant } from '../src/gather/variants.ts';
import { REGION_BASE, mmapRanges } from '../src/workloads/workload.ts';
import { rules, run } from './helpers.ts';

const BASE = REGION_BASE;

/** A booted machine whose file lives on a disk, with task 0 of mm 0 current on cpu 0 and 4 pages of the file mapped MAP_SHARED at BASE. */
function diskMachine(variant = 'rework') {
  const config = makeConfig({ variant, workload: 'writeback', pages: 8, cpus: 2 });
  const { m } = bootMachine(config);
  const oracle = new Oracle(variant, 1, 100, () => 0, () => {});
  const ctx = bootCtx(m, config, oracle);
  ctx.task = 0;
  ctx.mm = 0;
  switchMm(ctx, 0);
  runToEnd(mmapRanges(ctx, [[BASE, BASE + 4]], 'shared'));
  const pte = (vpn: number): number => m.mem[m.ptEntry(lookupPteTable(ctx, 0, vpn), pteIndex(vpn))]!;
  const page = (index: number): number => pageCacheLookup(ctx, index);
  const field = (index: number, f: number): number => m.mem[m.page(page(index), f)]!;
  const disk = (index: number): number => m.mem[m.fileDiskSlot(index)]!;
  const quiescent = (): string[] => {
    checkQuiescent(m.mem, m, oracle, 0);
    return oracle.violations.map((v) => v.rule);
  };
  return { m, ctx, oracle, pte, page, field, disk, quiescent, write: (vpn: number) => runToEnd(userAccess(ctx, vpn, true)), rules: () => oracle.violations.map((v) => v.rule) };
}

describe('a disk file: write-notify, data versions, writeback', () => {
  it('a read fault maps the page read-only; the first write takes do_wp_page, which dirties pte and page; every write bumps the version', () => {
    const t = diskMachine();
    expect(runToEnd(userAccess(t.ctx, BASE, false))).toBe('ok');
    expect(t.pte(BASE) & PTE.WRITE).toBe(0);
    expect(t.field(0, PAGE_FIELD.FLAGS) & PAGE_FLAG.DIRTY).toBe(0);
    expect(t.write(BASE)).toBe('ok');
    expect(t.ctx.stats.wpFaults).toBe(1);
    expect(t.pte(BASE) & (PTE.WRITE | PTE.DIRTY)).toBe(PTE.WRITE | PTE.DIRTY);
    expect(t.field(0, PAGE_FIELD.FLAGS) & (PAGE_FLAG.DIRTY | PAGE_FLAG.TAG_DIRTY)).toBe(PAGE_FLAG.DIRTY | PAGE_FLAG.TAG_DIRTY);
    t.write(BASE);
    expect(t.field(0, PAGE_FIELD.VERSION)).toBe(2);
    expect(t.disk(0)).toBe(0);
    expect(t.quiescent()).toEqual([]); // dirty: newer than the disk is allowed
  });

  it('writeback: page_mkclean write-protects, cleans and flushes the pte, the disk gets the version, and the next write faults and dirties the page again', () => {
    const t = diskMachine();
    t.write(BASE);
    t.write(BASE + 1);
    runToEnd(writeCachePages(t.ctx, 0, 8));
    expect(t.disk(0)).toBe(1);
    expect(t.disk(1)).toBe(1);
    expect(t.ctx.stats.mkcleanPtes).toBe(2);
    expect(t.pte(BASE) & (PTE.WRITE | PTE.DIRTY)).toBe(0);
    expect(tlbLookup(t.m, 0, 0, BASE)).toBeNull(); // flush_tlb_page took it
    expect(t.field(0, PAGE_FIELD.FLAGS) & (PAGE_FLAG.DIRTY | PAGE_FLAG.TAG_DIRTY)).toBe(0);
    expect(t.quiescent()).toEqual([]);
    t.write(BASE);
    expect(t.ctx.stats.wpFaults).toBe(1); // the first writes were write faults on none ptes (__do_fault)
    expect(t.field(0, PAGE_FIELD.FLAGS) & PAGE_FLAG.DIRTY).toBe(PAGE_FLAG.DIRTY);
    runToEnd(writeCachePages(t.ctx, 0, 8));
    expect(t.disk(0)).toBe(2);
    expect(t.disk(1)).toBe(1); // clean, not tagged: not written again
    expect(t.quiescent()).toEqual([]);
  });

  it('a tmpfs-like file keeps the old behaviour: a read fault maps a shared writable page writable, and fsync writes nothing', async () => {
    const config = makeConfig({ variant: 'rework', workload: 'tlb_flush3', pages: 8, cpus: 2 });
    expect(config.diskFile).toBe(false);
    const r = await run({
      scenario: { name: 'tmpfs', tasks: [{ cpu: 0, mm: 0, program: [mmapShared(0, 4), { op: 'read', start: 0, pages: 4, measure: false }, { op: 'write', start: 0, pages: 4, measure: false }] }] },
      variant: 'rework',
      cpus: 1,
    });
    expect(r.violations).toEqual([]);
    expect(r.totals.wpFaults).toBe(0);
    expect(r.totals.tlbDirtyWalks).toBe(4); // the read filled writable clean entries; each write walks to set D
    expect(r.totals.pagesWrittenBack).toBe(0);
  });
});

describe('LOST_WRITE', () => {
  it('fires for a clean page whose data the disk lacks, at the end of the run; quiet when the page is dirty or written back', () => {
    const t = diskMachine();
    t.write(BASE);
    expect(t.quiescent()).toEqual([]); // dirty
    runToEnd(writeCachePages(t.ctx, 0, 8));
    expect(t.quiescent()).toEqual([]); // written back
    // the planted fault: the page's data changes behind the kernel's back (no pte, no fault saw it)
    Atomics.add(t.m.mem, t.m.page(t.page(0), PAGE_FIELD.VERSION), 1);
    expect(t.quiescent()).toEqual(['LOST_WRITE']);
    const v = t.oracle.violations[0]!;
    expect(v.frame).toBe(t.page(0));
    expect(v.task).toBe(0);
    expect(v.detail).toContain('data version 2, the disk holds 1');
  });

  it('wp-fault-no-dirty: a write after msync dirties only the pte, so the next msync skips the page and it ends clean with newer data', async () => {
    const program: ScenarioOp[] = [mmapShared(0, 4), write(0, 4), { op: 'msync', start: 0, pages: 4, measure: true }, write(0, 2), { op: 'fsync', measure: true }];
    const scenario = { name: 'wp', tasks: [{ cpu: 0, mm: 0, program }] };
    const real = await run({ scenario, variant: 'rework', cpus: 1 });
    expect(real.violations).toEqual([]);
    expect(real.totals.pagesWrittenBack).toBe(6);
    const mutant = await run({ scenario, variant: 'wp-fault-no-dirty', cpus: 1 });
    expect(rules(mutant)).toEqual(['LOST_WRITE']);
    expect(mutant.violations).toHaveLength(2); // pages 0 and 1
    expect(mutant.totals.pagesWrittenBack).toBe(4);
  });
});

describe('reclaim of the page cache', () => {
  it('writes a dirty page no pte maps, then drops it; leaves a mapped page; a page read again has the disk\'s version', () => {
    const t = diskMachine();
    t.write(BASE);
    t.write(BASE + 1);
    t.write(BASE + 1);
    runToEnd(doMunmap(t.ctx, 0, BASE, BASE + 4));
    runToEnd(mmapRanges(t.ctx, [[BASE, BASE + 4]], 'shared'));
    t.write(BASE); // page 0 mapped again (and dirty); page 1 dirty with no pte
    expect(runToEnd(shrinkPageCache(t.ctx, 8))).toBe(1);
    expect(t.page(1)).toBe(0);
    expect(t.disk(1)).toBe(2);
    expect(t.page(0)).not.toBe(0);
    expect(t.disk(0)).toBe(0);
    expect(t.ctx.stats.pagesReclaimed).toBe(1);
    t.write(BASE + 1); // read from the disk again, then written
    expect(t.field(1, PAGE_FIELD.VERSION)).toBe(3);
    expect(t.quiescent()).toEqual([]);
  });

  it('LOST_WRITE when it drops a clean page whose data the disk lacks; quiet for the same page written back', () => {
    const t = diskMachine();
    t.write(BASE);
    t.write(BASE + 1);
    runToEnd(doMunmap(t.ctx, 0, BASE, BASE + 4));
    runToEnd(writeCachePages(t.ctx, 0, 8));
    Atomics.add(t.m.mem, t.m.page(t.page(1), PAGE_FIELD.VERSION), 1); // planted: page 1 changed after it was cleaned, and nothing dirtied it
    expect(runToEnd(shrinkPageCache(t.ctx, 8))).toBe(2);
    expect(t.rules()).toEqual(['LOST_WRITE']);
    expect(t.oracle.violations[0]!.detail).toContain('dropped by reclaim: file page 1');
    expect(t.oracle.violations[0]!.cpu).toBe(0);
  });

  it('leaves the pages of a tmpfs-like file alone (they are swap-backed, and the model has no swap)', () => {
    const t = diskMachine();
    Atomics.store(t.m.mem, t.m.file(0, FILE_FIELD.ACCOUNT_DIRTY), 0); // the same file, on tmpfs
    t.write(BASE);
    runToEnd(doMunmap(t.ctx, 0, BASE, BASE + 4));
    expect(runToEnd(shrinkPageCache(t.ctx, 8))).toBe(0);
    expect(t.page(0)).not.toBe(0);
    expect(t.quiescent()).toEqual([]);
  });

  it('a program that reclaims puts its file on a disk: its dirty pages are written, then dropped', async () => {
    const r = await run({
      scenario: { name: 'reclaim', tasks: [{ cpu: 0, mm: 0, program: [mmapShared(0, 4), write(0, 4), { op: 'munmap', start: 0, pages: 4, measure: true }, { op: 'reclaim', pages: 4, measure: true }] }] },
      variant: 'rework',
      cpus: 1,
    });
    expect(r.config.diskFile).toBe(true);
    expect(r.totals.pagesReclaimed).toBe(4);
    expect(r.totals.pagesWrittenBack).toBe(4);
    expect(r.violations).toEqual([]);
  });
});

describe('WRITE_AFTER_WRPROTECT', () => {
  it('fires for a write through a writable dirty TLB entry whose pte was write-protected without a flush; quiet while page_mkclean is under way or when it flushed', () => {
    const t = diskMachine();
    t.write(BASE);
    t.write(BASE + 1);
    // done right: clear_page_dirty_for_io on page 0, then a write faults
    const p0 = t.page(0);
    runToEnd(lockPage(t.ctx, p0, 'test'));
    expect(runToEnd(clearPageDirtyForIo(t.ctx, p0))).toBe(true);
    unlockPage(t.ctx, p0);
    t.write(BASE);
    expect(t.rules()).toEqual([]);
    // planted: page 1's pte write-protected and cleaned by hand, its TLB entry left writable and dirty
    const at = t.m.ptEntry(lookupPteTable(t.ctx, 0, BASE + 1), pteIndex(BASE + 1));
    Atomics.and(t.m.mem, at, ~(PTE.WRITE | PTE.DIRTY));
    expect(tlbLookup(t.m, 0, 0, BASE + 1)!.pte & PTE.WRITE).toBe(PTE.WRITE);
    const busy = t.m.page(t.page(1), PAGE_FIELD.MKCLEAN_BUSY);
    Atomics.add(t.m.mem, busy, 1); // as if page_mkclean were still before its flush
    t.write(BASE + 1);
    expect(t.rules()).toEqual([]);
    Atomics.sub(t.m.mem, busy, 1);
    t.write(BASE + 1);
    expect(t.rules()).toEqual(['WRITE_AFTER_WRPROTECT']);
    expect(t.oracle.violations[0]!.frame).toBe(pteFrame(Atomics.load(t.m.mem, at)));
    expect(t.oracle.violations[0]!.address).toBe((BASE + 1) * 4096);
  });

  it('x86 caches the dirty bit: a writable entry without D over a write-protected pte makes the cpu walk and fault; one with D lets the write through', () => {
    const t = diskMachine();
    t.write(BASE);
    runToEnd(writeCachePages(t.ctx, 0, 8)); // the pte is now read-only and clean, and no TLB holds it
    const p0 = t.page(0);
    const gen = t.field(0, PAGE_FIELD.GEN);
    const readOnly = t.pte(BASE);
    expect(readOnly & (PTE.WRITE | PTE.DIRTY)).toBe(0);
    tlbFill(t.m, 0, 0, BASE, readOnly | PTE.WRITE, gen); // planted: writable, D clear
    const faults = t.ctx.stats.wpFaults;
    t.write(BASE);
    expect(t.ctx.stats.tlbDirtyWalks).toBe(1);
    expect(t.ctx.stats.wpFaults).toBe(faults + 1); // the walk found the pte read-only: do_wp_page
    expect(t.rules()).toEqual([]);
    runToEnd(writeCachePages(t.ctx, 0, 8));
    tlbFill(t.m, 0, 0, BASE, t.pte(BASE) | PTE.WRITE | PTE.DIRTY, gen); // planted: writable and dirty
    t.write(BASE);
    expect(t.rules()).toEqual(['WRITE_AFTER_WRPROTECT']);
    expect(t.oracle.violations[0]!.frame).toBe(p0);
  });

  it('mprotect-no-flush: after mprotect(PROT_READ) returns, the other cpu writes through its stale entry; the real designs fault (SIGSEGV)', async () => {
    const scenario = writesAroundSyscall({ op: 'mmap', start: 0, pages: 4, file: false, measure: false }, { op: 'mprotect', start: 0, pages: 4, writable: false, measure: true });
    const mutant = await realCleanMutantCaught(scenario, 'mprotect-no-flush', (r) => expect(r.totals.segfaults).toBe(4), ['WRITE_AFTER_WRPROTECT']);
    expect(mutant.violations[0]!.cpu).toBe(0);
  });

  it('mkclean-no-flush: after msync returns, the writer on the other cpu writes through its stale entry, and the write is lost', async () => {
    const scenario = writesAroundSyscall(mmapShared(0, 4), { op: 'msync', start: 0, pages: 4, measure: true });
    await realCleanMutantCaught(scenario, 'mkclean-no-flush', (r) => expect(r.totals.wpFaults).toBe(4), ['LOST_WRITE', 'WRITE_AFTER_WRPROTECT']);
  });
});

/** Task 0 (cpu 0) maps 4 pages with `map` and writes them; task 1 (cpu 1, same mm) then runs `syscall`; then task 0 writes them again. */
function writesAroundSyscall(map: ScenarioOp, syscall: ScenarioOp): ScenarioProgram {
  return {
    name: syscall.op,
    tasks: [
      { cpu: 0, mm: 0, program: [map, write(0, 4), { op: 'barrier' }, { op: 'barrier' }, write(0, 4)] },
      { cpu: 1, mm: 0, program: [{ op: 'barrier' }, syscall, { op: 'barrier' }] },
    ],
  };
}

/** Over three seeds: legacy and rework run clean (and pass `real`), the mutant fires exactly `expected`; returns the mutant's last run. */
async function realCleanMutantCaught(scenario: ScenarioProgram, mutant: string, real: (r: RunResult) => void, expected: string[]): Promise<RunResult> {
  let last: RunResult | null = null;
  for (const seed of [1, 2, 3]) {
    for (const variant of ['legacy', 'rework']) {
      const r = await run({ scenario, variant, cpus: 2, seed });
      expect(r.violations, `${variant} seed ${seed}`).toEqual([]);
      real(r);
    }
    last = await run({ scenario, variant: mutant, cpus: 2, seed });
    expect(rules(last)).toEqual(expected);
  }
  return last!;
}

describe("a race the kernel had until 5df397dec7c4 (2022), kept: a dirty shared pte zapped before its flush", () => {
  // zap_pte_range passes the pte's dirty bit to the page and drops the rmap, but the TLB flush comes later (at the
  // gather's end; from 1cf35d47712d, 2014, before the pte lock goes, but still after the rmap); writeback in between
  // finds the page mapped nowhere (page_mkclean looks no further than page_mapped), cleans and writes it, and a write
  // through another cpu's still-cached dirty entry lands on a clean page: lost. 6.18 removes the rmap after the flush.
  for (const variant of ['legacy', 'rework', 'v3.11', 'v4.15', 'rmap-before-flush', 'v6.18']) {
    it(variant, () => {
      const config = makeConfig({ variant, workload: 'writeback', pages: 8, cpus: 3 });
      const { m } = bootMachine(config);
      const oracle = new Oracle(variant, 1, 100, () => 0, () => {});
      const boot = bootCtx(m, config, oracle);
      const onCpu = (cpu: number, task: number, mm: number) => {
        const ctx = newKctx({ m, cpu, config, traits: boot.traits, oracle, rng: boot.rng, watchNow: () => 0, latencyStats: false });
        ctx.task = task;
        ctx.mm = mm;
        if (mm >= 0) switchMm(ctx, mm);
        return ctx;
      };
      const writer = onCpu(0, 0, 0);
      const zapper = onCpu(1, 1, 0);
      const flusher = onCpu(2, 2, -1);
      runToEnd(mmapRanges(zapper, [[BASE, BASE + 1]], 'shared'));
      runToEnd(userAccess(zapper, BASE, true));
      runToEnd(userAccess(writer, BASE, true)); // cpu 0 caches a writable, dirty entry
      const at = m.ptEntry(lookupPteTable(zapper, 0, BASE), pteIndex(BASE));
      const page = pageCacheLookup(zapper, 0);
      const madvise = new PathStack(madviseDontneed(zapper, 0, BASE, BASE + 1));
      for (let i = 0; Atomics.load(m.mem, at) !== 0 || m.mem[m.page(page, PAGE_FIELD.MAPCOUNT)] !== 0; i++) {
        expect(i).toBeLessThan(100_000);
        madvise.next(); // to the pte clear, set_page_dirty and page_remove_rmap
        if (i > 1000) serviceIpis(writer); // a zap that waits for cpu 0's ack before it removes the rmap: cpu 0 takes the IPI
      }
      expect(m.mem[m.page(page, PAGE_FIELD.FLAGS)] & PAGE_FLAG.DIRTY).toBe(PAGE_FLAG.DIRTY);
      if (variant === 'v6.18') {
        // the delayed rmap: by the time page_mkclean can find the page mapped nowhere, no TLB holds it
        expect(tlbLookup(m, 0, 0, BASE)).toBeNull();
        return;
      }
      expect(tlbLookup(m, 0, 0, BASE)).not.toBeNull(); // the flush is still to come
      runToEnd(writeCachePages(flusher, 0, 8)); // page_mkclean finds no pte: clean, written, version 2
      expect(m.mem[m.fileDiskSlot(0)]).toBe(2);
      expect(runToEnd(userAccess(writer, BASE, true))).toBe('ok'); // through the stale entry: version 3
      expect(oracle.violations).toEqual([]); // the pte is none, not write-protected: no WRITE_AFTER_WRPROTECT
      for (let i = 0; madvise.next() !== PATH_DONE; i++) {
        expect(i).toBeLessThan(100_000);
        serviceIpis(writer); // cpu 0 takes the flush IPI between its steps
      }
      checkQuiescent(m.mem, m, oracle, 0);
      expect(oracle.violations.map((v) => v.rule)).toEqual(['LOST_WRITE']);
      expect(oracle.violations[0]!.detail).toContain('data version 3, the disk holds 2');
    });
  }
});

describe('the writeback mutants are caught on their own scenario, by their rule, and the old oracle families stay quiet', () => {
  const expected: Record<string, string> = { 'mkclean-no-flush': 'WRITE_AFTER_WRPROTECT', 'mprotect-no-flush': 'WRITE_AFTER_WRPROTECT', 'wp-fault-no-dirty': 'LOST_WRITE' };
  for (const [name, rule] of Object.entries(expected)) {
    it(name, async () => {
      const v = findVariant(name)!;
      let caughtAt = 0;
      const seen = new Set<string>();
      for (let seed = 1; seed <= 60 && caughtAt === 0; seed++) {
        const r = await run({ ...(v.huntWith as RunOptions), variant: name, seed });
        for (const x of r.violations) seen.add(x.rule);
        if (r.violations.length > 0) caughtAt = seed;
      }
      expect(caughtAt, `${name} caught within 60 seeds`).toBeGreaterThan(0);
      expect(seen.has(rule)).toBe(true);
      for (const old of ['STALE_TLB_ACCESS', 'FREE_WHILE_REMOTE_TLB', 'TLB_AFTER_RETURN']) expect(seen.has(old)).toBe(false);
    });
  }
});

describe('the writeback workload', () => {
  for (const variant of ['legacy', 'rework']) {
    it(`${variant}: clean over 25 seeds, with writeback, wp faults, segfaults under mprotect and the flusher all happening`, async () => {
      let written = 0;
      let flusher = 0;
      for (let seed = 1; seed <= 25; seed++) {
        const r = await run({ variant, workload: 'writeback', seed });
        expect(r.violations, `seed ${seed}`).toEqual([]);
        expect(r.error).toBeNull();
        expect(r.totals.wpFaults).toBeGreaterThan(0);
        expect(r.totals.segfaults).toBeGreaterThan(0);
        written += r.totals.pagesWrittenBack;
        flusher += r.totals.flusherRuns;
      }
      expect(written).toBeGreaterThan(0);
      expect(flusher).toBeGreaterThan(0);
    });
  }
});

function mmapShared(start: number, pages: number): ScenarioOp {
  return { op: 'mmap', start, pages, file: true, shared: true, measure: false };
}
function write(start: number, pages: number): ScenarioOp {
  return { op: 'write', start, pages, measure: false };
}
