// munmap: reference scenario R, in every mm. The mm's leading task maps N
// pages in one MAP_PRIVATE file mapping that starts on a 2 MiB boundary, with
// a one-page anonymous guard mapping below it in the same 1 GiB region (so
// only pte pages are freed, never the pmd page), writes them all, then unmaps
// the range: that munmap is the measured operation. The mm's other tasks read
// random pages of the range the whole time, so their cpus are in mm_cpumask
// and their TLBs hold entries for it (each keeps a hot set of pages it reads
// again and again); after the range is gone their reads fault and are
// counted as segfaults, and they go on.

import { PAGES_PER_PMD } from '../machine/layout.ts';
import type { Path } from '../machine/step.ts';
import type { Kctx } from '../sync/context.ts';
import { userAccess } from '../mm/fault.ts';
import { doMunmap } from '../mm/mmap.ts';
import { returnToUser } from '../mm/syscall.ts';
import { REGION_BASE, bumpWord, mmapRanges, gatherFrames, measure, tablesFor, taskRng, touchRange, waitWord, pollWord, type TaskRecord, type TaskSpec, type Workload } from './workload.ts';

const READY = 0;
const WARMED = 1;
const DONE = 2;
/** Reads each reader makes before the unmap may start, so its TLB holds entries. */
const WARM_READS = 16;

export const GUARD_START = REGION_BASE;
export const RANGE_START = REGION_BASE + PAGES_PER_PMD;

/** The unmapper maps the guard page and the range, and writes them all; the readers have nothing to set up. */
function* unmapperSetup(ctx: Kctx, spec: TaskSpec): Path {
  if (spec.rank !== 0) return;
  const n = ctx.config.pages;
  yield mmapRanges(ctx, [[GUARD_START, GUARD_START + 1]]);
  yield mmapRanges(ctx, [[RANGE_START, RANGE_START + n]], true);
  yield touchRange(ctx, GUARD_START, GUARD_START + 1);
  yield touchRange(ctx, RANGE_START, RANGE_START + n);
}

export const munmapWorkload: Workload = {
  name: 'munmap',
  defaultPages: 1000,
  about: 'scenario R: one task per mm unmaps --pages pages of a file mapping (2 MiB aligned, guard below) while the other tasks read them',
  mappingsNeeded: () => 2,
  memoryNeeded: (c) => c.mms * (c.pages + 1 + tablesFor(c.pages + PAGES_PER_PMD)) + gatherFrames(c),
  setup: unmapperSetup,
  *program(ctx: Kctx, rec: TaskRecord, spec: TaskSpec): Path {
    const n = ctx.config.pages;
    const mm = ctx.mm;
    const readers = spec.peers - 1;
    if (spec.rank === 0) {
      bumpWord(ctx, READY);
      yield waitWord(ctx, WARMED, readers, 'munmap: waiting for readers to warm their TLBs');
      yield measure(ctx, rec, mm, doMunmap(ctx, mm, RANGE_START, RANGE_START + n));
      yield returnToUser(ctx, mm, RANGE_START, RANGE_START + n, 'munmap');
      bumpWord(ctx, DONE);
      return;
    }
    yield waitWord(ctx, READY, 1, 'munmap reader: waiting for the range');
    const rng = taskRng(ctx.config, ctx.task);
    // a hot set that stays in the TLB, so reads keep going through cached
    // translations while the range is zapped, until a flush takes them away
    const hot = Array.from({ length: WARM_READS }, () => RANGE_START + rng.below(n));
    for (let i = 0; i < ctx.config.readerAccesses; i++) {
      if (i === WARM_READS) bumpWord(ctx, WARMED);
      if (i >= WARM_READS && pollWord(ctx, DONE) !== 0) break;
      yield userAccess(ctx, hot[i < WARM_READS ? i : rng.below(WARM_READS)]!, false);
    }
    if (ctx.config.readerAccesses <= WARM_READS) bumpWord(ctx, WARMED);
  },
};
