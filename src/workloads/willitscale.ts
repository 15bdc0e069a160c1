// Mirrors of will-it-scale's mm testcases (tests/tlb_flush1.c, tlb_flush2.c,
// page_fault1.c, page_fault2.c, mmap1.c, mmap2.c). Each task runs the
// testcase's while(1) body for --rounds rounds (or until --duration), and
// exactly the unit the testcase counts with (*iterations)++ is one measured
// operation, so ops/s means what it means there: a page for tlb_flush and
// page_fault, an mmap+munmap pair for mmap. will-it-scale runs a testcase as
// processes or as threads: --mms equal to the task count gives processes
// (one mm each), --mms 1 gives threads of one mm, where every madvise and
// munmap flush reaches the other threads' cpus by IPI.
// Differences, all of scale or of what the model has: sizes are scaled down
// (the model runs about a million steps a second); mmap(NULL) is a fixed
// place per task, each in its own 2 MiB-aligned slot so tasks share no pte
// table; the tasks' files are one file (one i_mmap lock, where each
// will-it-scale process has its own tmpfile); and there is no page cache,
// so a write fault on a MAP_PRIVATE file mapping copies the zero page, which
// stands for the page-cache page, and tlb_flush1's read-back after
// MADV_DONTNEED maps the zero page in its place. tlb_flush3 and page_fault3 need
// MAP_SHARED file pages and are not mirrored.

import { PAGES_PER_PMD } from '../machine/layout.ts';
import type { RunConfig } from '../machine/config.ts';
import type { Path } from '../machine/step.ts';
import { modelAssert } from '../machine/errors.ts';
import type { Kctx } from '../sync/context.ts';
import { userAccess } from '../mm/fault.ts';
import { doMunmap, madviseDontneed } from '../mm/mmap.ts';
import { returnToUser } from '../mm/syscall.ts';
import { REGION_BASE, roundsOf, gatherFrames, maxPeers, measure, mmapRanges, tablesFor, userTaskCount, type TaskRecord, type TaskSpec, type Workload } from './workload.ts';

/** Where a task's mapping goes: its own 2 MiB-aligned slot, as far apart as mmap(NULL) would put them and sharing no pte table. */
export function slotStart(rank: number, pages: number): number {
  return REGION_BASE + rank * Math.ceil(pages / PAGES_PER_PMD) * PAGES_PER_PMD;
}

/** A user store or load that must succeed (the testcase asserts on it). */
export function* access(ctx: Kctx, vpn: number, write: boolean): Path {
  const r = yield* userAccess(ctx, vpn, write);
  modelAssert(r === 'ok', 'a will-it-scale access faulted', () => `task ${ctx.task} ${write ? 'write' : 'read'} at vpn ${vpn}`);
}

function* munmapAndReturn(ctx: Kctx, start: number, end: number): Path {
  yield* doMunmap(ctx, ctx.mm, start, end);
  yield* returnToUser(ctx, ctx.mm, start, end, 'munmap');
}

/** c[i] = 0 ... (*iterations)++ for every page of a fresh mapping, then munmap. */
function* pageFault(ctx: Kctx, rec: TaskRecord, spec: TaskSpec, file: boolean): Path {
  const n = ctx.config.pages;
  const start = slotStart(spec.rank, n);
  for (const _round of roundsOf(ctx)) {
    yield* mmapRanges(ctx, [[start, start + n]], file);
    for (let vpn = start; vpn < start + n; vpn++) yield* measure(ctx, rec, ctx.mm, access(ctx, vpn, true));
    yield* munmapAndReturn(ctx, start, start + n);
  }
}

/** One page of tlb_flush: write it, MADV_DONTNEED it, read it back (anonymous: the zero page; file: the page-cache page), (*iteration)++. */
function* tlbFlushPage(ctx: Kctx, vpn: number): Path {
  yield* access(ctx, vpn, true);
  yield* madviseDontneed(ctx, ctx.mm, vpn, vpn + 1);
  yield* returnToUser(ctx, ctx.mm, vpn, vpn + 1, 'madvise(MADV_DONTNEED)');
  yield* access(ctx, vpn, false);
}

function* tlbFlush(ctx: Kctx, rec: TaskRecord, spec: TaskSpec, file: boolean): Path {
  const n = ctx.config.pages;
  const start = slotStart(spec.rank, n);
  for (const _round of roundsOf(ctx)) {
    yield* mmapRanges(ctx, [[start, start + n]], file);
    for (let vpn = start; vpn < start + n; vpn++) yield* measure(ctx, rec, ctx.mm, tlbFlushPage(ctx, vpn));
    yield* munmapAndReturn(ctx, start, start + n);
  }
}

/** mmap then munmap, untouched: one (*iterations)++. */
function* mmapMunmap(ctx: Kctx, start: number, n: number, file: boolean): Path {
  yield* mmapRanges(ctx, [[start, start + n]], file);
  yield* munmapAndReturn(ctx, start, start + n);
}

function* mmapLoop(ctx: Kctx, rec: TaskRecord, spec: TaskSpec, file: boolean): Path {
  const n = ctx.config.pages;
  const start = slotStart(spec.rank, n);
  for (const _round of roundsOf(ctx)) yield* measure(ctx, rec, ctx.mm, mmapMunmap(ctx, start, n, file));
}

/** Every task's whole mapping faulted in at once. */
const allPages = (c: RunConfig): number => userTaskCount(c) * (c.pages + tablesFor(c.pages)) + gatherFrames(c);
/** A page at a time: each task holds one data page (and the zero page) besides its tables. */
const onePage = (c: RunConfig): number => userTaskCount(c) * (1 + tablesFor(c.pages)) + gatherFrames(c);
/** Nothing is touched: at most the upper page tables. */
const untouched = (c: RunConfig): number => userTaskCount(c) * 4 + gatherFrames(c);

export const tlbFlush1Workload: Workload = {
  name: 'tlb_flush1',
  defaultPages: 256,
  about: "will-it-scale tlb_flush1: write, MADV_DONTNEED each page of a MAP_PRIVATE file mapping (an op per page; --pages 256 for 128 MB; the read-back maps the zero page for the page-cache page)",
  mappingsNeeded: maxPeers,
  memoryNeeded: onePage,
  program: (ctx, rec, spec) => tlbFlush(ctx, rec, spec, true),
};

export const tlbFlush2Workload: Workload = {
  name: 'tlb_flush2',
  defaultPages: 256,
  about: 'will-it-scale tlb_flush2: write, MADV_DONTNEED, read back each page of 1 MB of anonymous memory (an op per page; full size)',
  mappingsNeeded: maxPeers,
  memoryNeeded: onePage,
  program: (ctx, rec, spec) => tlbFlush(ctx, rec, spec, false),
};

export const pageFault1Workload: Workload = {
  name: 'page_fault1',
  defaultPages: 256,
  about: 'will-it-scale page_fault1: write-fault every page of a fresh anonymous mapping, then munmap (an op per page; --pages 256 for 128 MB)',
  mappingsNeeded: maxPeers,
  memoryNeeded: allPages,
  program: (ctx, rec, spec) => pageFault(ctx, rec, spec, false),
};

export const pageFault2Workload: Workload = {
  name: 'page_fault2',
  defaultPages: 256,
  about: 'will-it-scale page_fault2: write-fault every page of a MAP_PRIVATE file mapping, then munmap (an op per page; --pages 256 for 128 MB; no page cache)',
  mappingsNeeded: maxPeers,
  memoryNeeded: allPages,
  program: (ctx, rec, spec) => pageFault(ctx, rec, spec, true),
};

export const mmap1Workload: Workload = {
  name: 'mmap1',
  defaultPages: 32768,
  about: 'will-it-scale mmap1: mmap and munmap 128 MB of anonymous memory, untouched (an op per pair; full size)',
  mappingsNeeded: maxPeers,
  memoryNeeded: untouched,
  program: (ctx, rec, spec) => mmapLoop(ctx, rec, spec, false),
};

export const mmap2Workload: Workload = {
  name: 'mmap2',
  defaultPages: 32768,
  about: 'will-it-scale mmap2: mmap and munmap 128 MB of a MAP_PRIVATE file mapping, untouched (an op per pair; full size; one file for all tasks)',
  mappingsNeeded: maxPeers,
  memoryNeeded: untouched,
  program: (ctx, rec, spec) => mmapLoop(ctx, rec, spec, true),
};
