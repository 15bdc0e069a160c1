// madvise: the tasks of one mm share one mapping; each touches its own
// subrange, then in rounds reads random pages of the whole mapping (so other
// cpus' TLBs hold entries for its subrange) and calls MADV_DONTNEED on its
// subrange (the measured operations, under mmap_sem held for read, so they
// run concurrently), then writes its subrange again. --overlap gives the
// tasks their subranges in pairs: two tasks zap the same one. --writeback makes the mapping a
// MAP_SHARED one of a disk file, the reads writes, and each round msyncs the
// file before its MADV_DONTNEED: a dirty pte is zapped while other cpus
// write through their cached entries and another task's msync cleans the
// page (the race 5df397dec7c4 closed).

import { PAGES_PER_PMD } from '../machine/layout.ts';
import type { Path } from '../machine/step.ts';
import type { Kctx } from '../sync/context.ts';
import { userAccess } from '../mm/fault.ts';
import { madviseDontneed } from '../mm/mmap.ts';
import { returnToUser } from '../mm/syscall.ts';
import { sysMsync } from '../mm/writeback.ts';
import { REGION_BASE, bumpWord, mmapRanges, gatherFrames, maxPeers, measure, tablesFor, taskRng, touchRange, waitWord, type TaskRecord, type TaskSpec, type Workload } from './workload.ts';

const MAPPED = 0;
const TOUCHED = 1;
export const MADVISE_ROUNDS = 3;
const READS_PER_ROUND = 16;

export function madviseSpan(pages: number, cpus: number): number {
  return Math.ceil((pages * cpus + Math.ceil(pages / 2)) / PAGES_PER_PMD) * PAGES_PER_PMD;
}

export const madviseWorkload: Workload = {
  name: 'madvise',
  defaultPages: 256,
  about: 'tasks of one mm MADV_DONTNEED their own --pages subrange of a shared mapping while the others read it (--overlap: tasks zap their subranges in pairs)',
  mappingsNeeded: () => 1,
  diskFile: (c) => c.writeback,
  filePagesNeeded: (c) => (c.writeback ? madviseSpan(c.pages, maxPeers(c)) : 0),
  memoryNeeded: (c) => c.mms * (madviseSpan(c.pages, maxPeers(c)) + tablesFor(madviseSpan(c.pages, maxPeers(c)))) + gatherFrames(c),
  *program(ctx: Kctx, rec: TaskRecord, spec: TaskSpec): Path {
    const n = ctx.config.pages;
    const mm = ctx.mm;
    const span = madviseSpan(n, spec.peers);
    const shared = ctx.config.writeback;
    if (spec.rank === 0) {
      yield mmapRanges(ctx, [[REGION_BASE, REGION_BASE + span]], shared ? 'shared' : false);
      bumpWord(ctx, MAPPED);
    }
    yield waitWord(ctx, MAPPED, 1, 'madvise: waiting for the mapping');
    // --overlap: tasks in pairs zap the same subrange, so one zap can find every pte already cleared by the other and have nothing to flush
    const start = REGION_BASE + (ctx.config.overlap ? Math.floor(spec.rank / 2) : spec.rank) * n;
    const end = start + n;
    yield touchRange(ctx, start, end);
    bumpWord(ctx, TOUCHED);
    yield waitWord(ctx, TOUCHED, spec.peers, 'madvise: waiting for every task to touch its pages');
    const rng = taskRng(ctx.config, ctx.task);
    /** The pages some task touched: where a write lands on a page a zap may be removing. */
    const touched = spec.peers * n;
    for (let round = 0; round < MADVISE_ROUNDS; round++) {
      for (let i = 0; i < READS_PER_ROUND; i++) yield userAccess(ctx, REGION_BASE + rng.below(shared ? touched : span), shared);
      if (shared) yield sysMsync(ctx, mm, REGION_BASE, REGION_BASE + span);
      yield measure(ctx, rec, mm, madviseDontneed(ctx, mm, start, end));
      yield returnToUser(ctx, mm, start, end, 'madvise(MADV_DONTNEED)');
      // a write of its own pages would dirty them again, and the next msync would write out a write that was lost
      if (!shared) yield touchRange(ctx, start, end);
    }
  },
};
