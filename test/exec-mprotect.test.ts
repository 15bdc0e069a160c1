// exec's shift_arg_pages, mprotect and the memory-pressure workload.
// shift_arg_pages and mprotect are driven directly on a booted machine (one
// cpu running, a second one that only takes its interrupts) and through
// their workloads; the pressure workload's counts follow from the rework's
// gather: a gather that finds no free frame starts on 8 local slots, flushes
// after 8 pages, and with those 8 pages free gets its batch page.
import { describe, expect, it } from 'vitest';
import { MM_FIELD, PAGE_FIELD, PageState, PAGES_PER_PMD, PTE, VMA_FLAGS, pteFrame } from '../src/machine/layout.ts';
import { PATH_DONE, PathStack, type Path } from '../src/machine/step.ts';
import { Oracle } from '../src/oracle/rules.ts';
import { makeConfig } from '../src/engine/configure.ts';
import { bootCtx, bootMachine, runToEnd } from '../src/engine/boot.ts';
import { newKctx, type Kctx } from '../src/sync/context.ts';
import { Rng } from '../src/machine/rng.ts';
import { serviceIpis, switchMm } from '../src/cpu/tlbflush.ts';
import { tlbLookup } from '../src/cpu/tlb.ts';
import { userAccess } from '../src/mm/fault.ts';
import { insertVma, vmas } from '../src/mm/vma.ts';
import { lookupPteTable, pteIndex, readEntry } from '../src/mm/pgtable.ts';
import { shiftArgPages } from '../src/mm/exec.ts';
import { mprotectRange } from '../src/mm/mprotect.ts';
import { checkQuiescent } from '../src/mm/syscall.ts';
import { REGION_BASE } from '../src/workloads/workload.ts';
import { tablesFreedBy } from '../src/workloads/exec.ts';
import { run } from './helpers.ts';

const RW = VMA_FLAGS.READ | VMA_FLAGS.WRITE | VMA_FLAGS.ANON;

/** A booted machine of two cpus; cpu 0 runs a task of mm 0, cpu 1 only answers IPIs (and, when asked, runs a task of mm 0 too). */
function machine() {
  const config = makeConfig({ variant: 'rework', workload: 'munmap', pages: 64, cpus: 2 });
  const { m } = bootMachine(config);
  const oracle = new Oracle('rework', 1, 100, () => 0, () => {});
  const ctx = bootCtx(m, config, oracle);
  const ctx1 = newKctx({ m, cpu: 1, config, traits: ctx.traits, oracle, rng: new Rng(2), watchNow: () => 0, latencyStats: false });
  for (const c of [ctx, ctx1]) {
    c.task = c.cpu;
    c.mm = 0;
  }
  switchMm(ctx, 0);
  return { m, ctx, ctx1, oracle, rules: () => oracle.violations.map((v) => v.rule) };
}

/** Run a path on cpu 0 while cpu 1 takes its interrupts between cpu 0's steps. */
function runWithIpis<T>(path: Path<T>, other: Kctx): T {
  const stack = new PathStack(path);
  for (let i = 0; i < 10_000_000; i++) {
    if (stack.next() === PATH_DONE) return stack.result as T;
    serviceIpis(other);
  }
  throw new Error('path does not end');
}

function pteOf(ctx: Kctx, vpn: number): number {
  const t = lookupPteTable(ctx, 0, vpn);
  return t === 0 ? 0 : readEntry(ctx, t, pteIndex(vpn));
}

describe('shift_arg_pages', () => {
  const B = REGION_BASE + 4 * PAGES_PER_PMD; // a 2 MiB boundary

  function stack(ctx: Kctx, start: number, end: number): number[] {
    insertVma(ctx, 0, start, end, RW);
    const frames: number[] = [];
    for (let v = start; v < end; v++) {
      expect(runToEnd(userAccess(ctx, v, true))).toBe('ok');
      frames.push(pteFrame(pteOf(ctx, v)));
    }
    return frames;
  }

  it('overlapping: the ptes move, and exactly the vacated pte table above the boundary is freed', () => {
    const { m, ctx, rules, oracle } = machine();
    const [start, end, shift] = [B - 40, B + 24, 24]; // 24 pages above the boundary move below it
    const frames = stack(ctx, start, end);
    const above = lookupPteTable(ctx, 0, B);
    const below = lookupPteTable(ctx, 0, B - 1);
    runToEnd(shiftArgPages(ctx, 0, start, end, shift));
    for (let v = start - shift; v < end - shift; v++) expect(pteFrame(pteOf(ctx, v))).toBe(frames[v - (start - shift)]);
    for (let v = end - shift; v < end; v++) expect(pteOf(ctx, v)).toBe(0);
    expect(lookupPteTable(ctx, 0, B)).toBe(0);
    expect(m.mem[m.page(above, PAGE_FIELD.STATE)]).toBe(PageState.FREE);
    expect(lookupPteTable(ctx, 0, B - 1)).toBe(below);
    expect(ctx.stats.pageTablesFreed).toBe(1);
    expect(ctx.stats.pagesFreed).toBe(0);
    expect(ctx.stats.gatherFlushes).toBe(1);
    expect(vmas(ctx, 0).map((v) => [v.start, v.end])).toEqual([[start - shift, end - shift]]);
    expect(m.mem[m.mm(0, MM_FIELD.NR_PTES)]).toBe(1);
    checkQuiescent(m.mem, m, oracle, 0);
    expect(rules()).toEqual([]);
  });

  it('overlapping inside one pte table: nothing is vacated, nothing is freed, no flush', () => {
    const { ctx, rules } = machine();
    stack(ctx, B - 64, B - 8);
    runToEnd(shiftArgPages(ctx, 0, B - 64, B - 8, 16));
    expect(ctx.stats.pageTablesFreed).toBe(0);
    expect(ctx.stats.gatherFlushes).toBe(0);
    expect(rules()).toEqual([]);
  });

  it('disjoint: both old pte tables go, the pmd table stays (floor is the new end)', () => {
    const { m, ctx, rules, oracle } = machine();
    const [start, end, shift] = [B - 10, B + 10, 2 * PAGES_PER_PMD];
    const frames = stack(ctx, start, end);
    const ptesBefore = m.mem[m.mm(0, MM_FIELD.NR_PTES)];
    runToEnd(shiftArgPages(ctx, 0, start, end, shift));
    for (let v = start; v < end; v++) expect(pteFrame(pteOf(ctx, v - shift))).toBe(frames[v - start]);
    expect(lookupPteTable(ctx, 0, B - 1)).toBe(0);
    expect(lookupPteTable(ctx, 0, B)).toBe(0);
    expect(ctx.stats.pageTablesFreed).toBe(2);
    expect(m.mem[m.mm(0, MM_FIELD.NR_PTES)]).toBe(ptesBefore); // two new tables below, two old ones gone
    checkQuiescent(m.mem, m, oracle, 0);
    expect(rules()).toEqual([]);
  });

  it("a remote TLB's entries for moved ptes are flushed one page at a time (2.6.38's ptep_clear_flush)", () => {
    const { ctx, ctx1, rules } = machine();
    const [start, end] = [B - 8, B + 8];
    stack(ctx, start, end);
    switchMm(ctx1, 0);
    for (let v = start; v < end; v++) expect(runToEnd(userAccess(ctx1, v, false))).toBe('ok');
    runWithIpis(shiftArgPages(ctx, 0, start, end, 8), ctx1);
    expect(ctx.stats.ipisSent).toBe(16 + 1); // a flush_tlb_page per moved pte, then the gather's flush_tlb_mm for the freed table
    for (let v = start; v < end; v++) expect(tlbLookup(ctx.m, 1, 0, v)).toBeNull();
    expect(rules()).toEqual([]);
  });

  it('the exec workload: clean in both designs, exactly the vacated tables freed each round', async () => {
    const rounds = 6;
    const freed = Array.from({ length: rounds }, (_, r) => tablesFreedBy(r));
    const want = freed.reduce((a, b) => a + b, 0);
    for (const variant of ['legacy', 'rework']) {
      for (const preempt of ['none', 'full']) {
        const r = await run({ variant, workload: 'exec', cpus: 3, rounds, preempt, seed: 5 });
        expect(r.error).toBeNull();
        expect(r.violations).toEqual([]);
        expect(r.counters.ops).toBe(rounds);
        expect(r.counters.pageTablesFreed).toBe(want);
        expect(r.counters.pagesFreed).toBe(0);
        expect(r.counters.gatherFlushes).toBe(freed.filter((n) => n > 0).length); // no table freed, no need_flush, no flush
        expect(r.counters.rssBefore).toBe(r.counters.rssAfter); // moving changes no rss
      }
    }
  });
});

describe('mprotect', () => {
  const V = REGION_BASE;

  it('read-only: a later write faults and gets SIGSEGV, a read still works; read-write again: the write works', () => {
    const { m, ctx, rules, oracle } = machine();
    insertVma(ctx, 0, V, V + 8, RW);
    for (let v = V; v < V + 8; v++) expect(runToEnd(userAccess(ctx, v, true))).toBe('ok');
    runToEnd(mprotectRange(ctx, 0, V, V + 8, false));
    for (let v = V; v < V + 8; v++) expect(readEntry(ctx, lookupPteTable(ctx, 0, v), pteIndex(v)) & PTE.WRITE).toBe(0);
    expect(runToEnd(userAccess(ctx, V + 3, true))).toBe('segv');
    expect(runToEnd(userAccess(ctx, V + 3, false))).toBe('ok');
    expect(ctx.stats.segfaults).toBe(1);
    runToEnd(mprotectRange(ctx, 0, V, V + 8, true));
    expect(runToEnd(userAccess(ctx, V + 3, true))).toBe('ok');
    checkQuiescent(m.mem, m, oracle, 0);
    expect(rules()).toEqual([]);
  });

  it("another cpu's writable TLB entry is flushed before mprotect returns, so its next write faults too", () => {
    const { ctx, ctx1, rules } = machine();
    insertVma(ctx, 0, V, V + 4, RW);
    switchMm(ctx1, 0);
    expect(runToEnd(userAccess(ctx1, V, true))).toBe('ok'); // cpu 1 caches a writable translation
    expect(tlbLookup(ctx.m, 1, 0, V)).not.toBeNull();
    runWithIpis(mprotectRange(ctx, 0, V, V + 4, false), ctx1);
    expect(ctx.stats.ipisSent).toBe(1); // one flush_tlb_range = flush_tlb_mm for the whole call
    expect(tlbLookup(ctx.m, 1, 0, V)).toBeNull();
    expect(runToEnd(userAccess(ctx1, V, true))).toBe('segv');
    expect(rules()).toEqual([]);
  });

  it('refuses to split a mapping or to cover a hole', () => {
    const { ctx } = machine();
    insertVma(ctx, 0, V, V + 8, RW);
    expect(() => runToEnd(mprotectRange(ctx, 0, V, V + 4, false))).toThrow(/splits/);
    const { ctx: other } = machine();
    insertVma(other, 0, V, V + 8, RW);
    expect(() => runToEnd(mprotectRange(other, 0, V, V + 16, false))).toThrow(/not mapped/);
  });
});

describe('pressure: the rework gather falls back to 8 slots with memory full, and recovers', () => {
  const ROUNDS = 3;
  const CPUS = 4;
  it('rework: every round at least one gather starts on 8 slots; each one gets its batch page at its first flush', async () => {
    const r = await run({ variant: 'rework', workload: 'pressure', cpus: CPUS, rounds: ROUNDS, pages: 128, seed: 7 });
    expect(r.error).toBeNull();
    expect(r.violations).toEqual([]);
    const c = r.counters;
    expect(c.ops).toBe(CPUS * ROUNDS);
    expect(c.gatherLocalStarts).toBeGreaterThanOrEqual(ROUNDS); // memory is full when each round starts
    expect(c.gatherLocalStarts).toBeLessThanOrEqual(c.ops);
    // fewer than 8 other gathers can take a frame between a flush of 8 pages and the retry: it always succeeds
    expect(c.gatherUpgrades).toBe(c.gatherLocalStarts);
    expect(c.batchAllocFailures).toBe(c.gatherLocalStarts);
    expect(c.batchAllocs).toBe(c.ops);
    // 128 pages: a local start flushes at 8 pages then once at the end; a batch start once
    expect(c.forcedFlushes).toBe(c.gatherLocalStarts);
    expect(c.gatherFlushes).toBe(c.ops + c.gatherLocalStarts);
    expect(c.flushesUnderPteLock).toBe(0);
  });
  it('rework with the batch page never available: 8 pages per flush all the way', async () => {
    const r = await run({ variant: 'rework', workload: 'pressure', cpus: CPUS, rounds: 1, pages: 128, allocFail: 'always' });
    expect(r.violations).toEqual([]);
    expect(r.counters.gatherLocalStarts).toBe(CPUS);
    expect(r.counters.gatherUpgrades).toBe(0);
    expect(r.counters.gatherFlushes).toBe(CPUS * (128 / 8));
  });
  it('legacy: no batch page to allocate, runs clean with memory full', async () => {
    const r = await run({ variant: 'legacy', workload: 'pressure', cpus: CPUS, rounds: ROUNDS, pages: 128, preempt: 'none' });
    expect(r.error).toBeNull();
    expect(r.violations).toEqual([]);
    expect(r.counters.gatherLocalStarts).toBe(0);
    expect(r.counters.gatherFlushes).toBe(r.counters.ops); // 128 < 506 pages, one ZAP block: one flush
  });
  it('refuses more than one mm', () => {
    expect(() => makeConfig({ workload: 'pressure', cpus: 2, mms: 2 })).toThrow(/--mms 2/);
  });
});
