// Mirrors of will-it-scale's mm testcases (tests/tlb_flush1.c, tlb_flush2.c,
// tlb_flush3.c, page_fault1.c, page_fault2.c, page_fault3.c, mmap1.c,
// mmap2.c). Each task runs the
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
// table; the tasks' files are one file (one i_mmap lock and one tree_lock,
// where each will-it-scale process has its own tmpfile): a MAP_SHARED
// mapping maps the task's own part of it (vm_pgoff = task x pages), so no
// two tasks share a page, as with separate files; and the page cache serves
// MAP_SHARED mappings only, so a write fault on a MAP_PRIVATE file mapping
// copies the zero page, which stands for the page-cache page, and
// tlb_flush1's read-back after MADV_DONTNEED maps the zero page in its
// place. tlb_flush3 and page_fault3 map the page-cache pages themselves: a
// zap drops the pte's reference and the page stays in the cache, so they
// free no page (the file outlives the run; truncate would free them), and
// tlb_flush3's read-back finds the page it wrote.

import { PAGE_FIELD, PAGES_PER_PMD, pteFrame, ptePresent } from '../machine/layout.ts';
import type { RunConfig } from '../machine/config.ts';
import { call, type Path } from '../machine/step.ts';
import { modelAssert } from '../machine/errors.ts';
import type { Kctx } from '../sync/context.ts';
import { userAccess } from '../mm/fault.ts';
import { doMunmap, madviseDontneed } from '../mm/mmap.ts';
import { returnToUser } from '../mm/syscall.ts';
import { lookupPteTable, pteIndex, readEntry } from '../mm/pgtable.ts';
import { REGION_BASE, roundsOf, gatherFrames, maxPeers, measure, mmapRanges, tablesFor, userTaskCount, type TaskRecord, type TaskSpec, type Workload } from './workload.ts';

/** Where a task's mapping goes: its own 2 MiB-aligned slot, as far apart as mmap(NULL) would put them and sharing no pte table. */
export function slotStart(rank: number, pages: number): number {
  return REGION_BASE + rank * Math.ceil(pages / PAGES_PER_PMD) * PAGES_PER_PMD;
}

/** A user store or load that must succeed (the testcase asserts on it). */
export function* access(ctx: Kctx, vpn: number, write: boolean): Path {
  const r = yield* call(userAccess(ctx, vpn, write));
  modelAssert(r === 'ok', 'a will-it-scale access faulted', () => `task ${ctx.task} ${write ? 'write' : 'read'} at vpn ${vpn}`);
}

function* munmapAndReturn(ctx: Kctx, start: number, end: number): Path {
  yield doMunmap(ctx, ctx.mm, start, end);
  yield returnToUser(ctx, ctx.mm, start, end, 'munmap');
}

/**
 * The testcase's while(1) for the per-page testcases: mmap the task's
 * mapping (a MAP_SHARED one at the task's own part of the file), one
 * measured op per page, munmap.
 */
function* perPage(ctx: Kctx, rec: TaskRecord, spec: TaskSpec, file: boolean | 'shared', op: (ctx: Kctx, vpn: number) => Path): Path {
  const n = ctx.config.pages;
  const start = slotStart(spec.rank, n);
  const pgoff = file === 'shared' ? filePgoff(ctx) : 0;
  for (const _round of roundsOf(ctx)) {
    yield mmapRanges(ctx, [[start, start + n]], file, pgoff);
    for (let vpn = start; vpn < start + n; vpn++) yield measure(ctx, rec, ctx.mm, op(ctx, vpn));
    yield munmapAndReturn(ctx, start, start + n);
  }
}

/** page_fault: c[i] = 0, (*iterations)++. */
function writePage(ctx: Kctx, vpn: number): Path {
  return access(ctx, vpn, true);
}

/** One page of tlb_flush: write it, MADV_DONTNEED it, read it back (anonymous: the zero page; file: the page-cache page), (*iteration)++. */
function* tlbFlushPage(ctx: Kctx, vpn: number): Path {
  yield access(ctx, vpn, true);
  yield madviseDontneed(ctx, ctx.mm, vpn, vpn + 1);
  yield returnToUser(ctx, ctx.mm, vpn, vpn + 1, 'madvise(MADV_DONTNEED)');
  yield access(ctx, vpn, false);
}

/** The frame the current pte of vpn maps and the data word user space reads there (0, 0 when none). */
function userView(ctx: Kctx, vpn: number): { frame: number; data: number } {
  const table = lookupPteTable(ctx, ctx.mm, vpn);
  const pte = table === 0 ? 0 : readEntry(ctx, table, pteIndex(vpn));
  if (!ptePresent(pte)) return { frame: 0, data: 0 };
  return { frame: pteFrame(pte), data: Atomics.load(ctx.mem, ctx.m.page(pteFrame(pte), PAGE_FIELD.DATA)) };
}

/**
 * One page of tlb_flush3: *(addr + i) = 1; madvise(MADV_DONTNEED);
 * assert(*(addr + i) == 1): the read-back faults the same page-cache page
 * in again, holding what this task wrote; (*iteration)++.
 */
function* tlbFlush3Page(ctx: Kctx, vpn: number): Path {
  yield access(ctx, vpn, true);
  const written = userView(ctx, vpn);
  yield madviseDontneed(ctx, ctx.mm, vpn, vpn + 1);
  yield returnToUser(ctx, ctx.mm, vpn, vpn + 1, 'madvise(MADV_DONTNEED)');
  yield access(ctx, vpn, false);
  const read = userView(ctx, vpn);
  modelAssert(written.frame !== 0 && read.frame === written.frame && read.data === written.data && read.data >>> 20 === ctx.task + 1,
    'tlb_flush3: the data did not survive MADV_DONTNEED', () => `task ${ctx.task} vpn ${vpn}: wrote frame ${written.frame} data ${written.data}, read frame ${read.frame} data ${read.data}`);
}

/** Where a task's part of the file begins: will-it-scale gives each task its own file, the model its own range of the one file. */
function filePgoff(ctx: Kctx): number {
  return ctx.task * ctx.config.pages;
}

/** mmap then munmap, untouched: one (*iterations)++. */
function* mmapMunmap(ctx: Kctx, start: number, n: number, file: boolean): Path {
  yield mmapRanges(ctx, [[start, start + n]], file);
  yield munmapAndReturn(ctx, start, start + n);
}

function* mmapLoop(ctx: Kctx, rec: TaskRecord, spec: TaskSpec, file: boolean): Path {
  const n = ctx.config.pages;
  const start = slotStart(spec.rank, n);
  for (const _round of roundsOf(ctx)) yield measure(ctx, rec, ctx.mm, mmapMunmap(ctx, start, n, file));
}

/** Every task's whole mapping faulted in at once. */
const allPages = (c: RunConfig): number => userTaskCount(c) * (c.pages + tablesFor(c.pages)) + gatherFrames(c);
/** A page at a time: each task holds one data page (and the zero page) besides its tables. */
const onePage = (c: RunConfig): number => userTaskCount(c) * (1 + tablesFor(c.pages)) + gatherFrames(c);
/** Every task's part of the file stays in the page cache, besides the tables of its mapping. */
const filePages = (c: RunConfig): number => userTaskCount(c) * c.pages;
const cachedPages = (c: RunConfig): number => filePages(c) + userTaskCount(c) * tablesFor(c.pages) + gatherFrames(c);
/** Nothing is touched: at most the upper page tables. */
const untouched = (c: RunConfig): number => userTaskCount(c) * 4 + gatherFrames(c);

export const tlbFlush1Workload: Workload = {
  name: 'tlb_flush1',
  defaultPages: 256,
  about: "will-it-scale tlb_flush1: write, MADV_DONTNEED each page of a MAP_PRIVATE file mapping (an op per page; --pages 256 for 128 MB; the read-back maps the zero page for the page-cache page)",
  mappingsNeeded: maxPeers,
  memoryNeeded: onePage,
  program: (ctx, rec, spec) => perPage(ctx, rec, spec, true, tlbFlushPage),
};

export const tlbFlush2Workload: Workload = {
  name: 'tlb_flush2',
  defaultPages: 256,
  about: 'will-it-scale tlb_flush2: write, MADV_DONTNEED, read back each page of 1 MB of anonymous memory (an op per page; full size)',
  mappingsNeeded: maxPeers,
  memoryNeeded: onePage,
  program: (ctx, rec, spec) => perPage(ctx, rec, spec, false, tlbFlushPage),
};

export const tlbFlush3Workload: Workload = {
  name: 'tlb_flush3',
  defaultPages: 256,
  about: "will-it-scale tlb_flush3: write, MADV_DONTNEED, read back each page of a MAP_SHARED file mapping (an op per page; --pages 256 for 128 MB; the page-cache page survives the zap and the read-back finds it)",
  mappingsNeeded: maxPeers,
  memoryNeeded: cachedPages,
  filePagesNeeded: filePages,
  program: (ctx, rec, spec) => perPage(ctx, rec, spec, 'shared', tlbFlush3Page),
};

export const pageFault1Workload: Workload = {
  name: 'page_fault1',
  defaultPages: 256,
  about: 'will-it-scale page_fault1: write-fault every page of a fresh anonymous mapping, then munmap (an op per page; --pages 256 for 128 MB)',
  mappingsNeeded: maxPeers,
  memoryNeeded: allPages,
  program: (ctx, rec, spec) => perPage(ctx, rec, spec, false, writePage),
};

export const pageFault2Workload: Workload = {
  name: 'page_fault2',
  defaultPages: 256,
  about: 'will-it-scale page_fault2: write-fault every page of a MAP_PRIVATE file mapping, then munmap (an op per page; --pages 256 for 128 MB; each write copies the zero page, standing for the page-cache page)',
  mappingsNeeded: maxPeers,
  memoryNeeded: allPages,
  program: (ctx, rec, spec) => perPage(ctx, rec, spec, true, writePage),
};

export const pageFault3Workload: Workload = {
  name: 'page_fault3',
  defaultPages: 256,
  about: 'will-it-scale page_fault3: write-fault every page of a MAP_SHARED file mapping, then munmap (an op per page; --pages 256 for 128 MB; the faults after the first round find the page-cache pages)',
  mappingsNeeded: maxPeers,
  memoryNeeded: cachedPages,
  filePagesNeeded: filePages,
  program: (ctx, rec, spec) => perPage(ctx, rec, spec, 'shared', writePage),
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
