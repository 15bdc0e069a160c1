// mix: munmap storms, page faults and MADV_DONTNEED on the same pte pages.
// In each mm, task rank r owns [base + r*N, base + (r+1)*N) with N = --pages
// (default 128, so four tasks share one pte page and its lock), and plays a
// role by rank mod 3, for --rounds rounds or until --duration ends:
//   0 storm:   mmap its range, write it, munmap it (measured);
//   1 faulter: write its range, faulting every page in (measured as one op),
//              then MADV_DONTNEED it (measured);
//   2 reader:  read random pages of the whole group's area (segfaults on a
//              storm's unmapped range are survived), then MADV_DONTNEED its
//              own range (measured) and write it again.
// Everything is anonymous memory; the area starts on a 2 MiB boundary.

import { PAGES_PER_PMD } from '../machine/layout.ts';
import type { Path } from '../machine/step.ts';
import type { Kctx } from '../sync/context.ts';
import { userAccess } from '../mm/fault.ts';
import { doMunmap, madviseDontneed } from '../mm/mmap.ts';
import { returnToUser } from '../mm/syscall.ts';
import { REGION_BASE, roundsOf, gatherFrames, maxPeers, measure, mmapRanges, tablesFor, taskRng, touchRange, type TaskRecord, type TaskSpec, type Workload } from './workload.ts';

const AREA_BASE = REGION_BASE + PAGES_PER_PMD;
const READS_PER_ROUND = 32;

export const mixWorkload: Workload = {
  name: 'mix',
  defaultPages: 128,
  about: 'munmap storms, page faults and MADV_DONTNEED by neighbouring tasks on the same pte pages (roles by rank: storm, faulter, reader)',
  mappingsNeeded: maxPeers,
  memoryNeeded: (c) => c.mms * (maxPeers(c) * c.pages + tablesFor(maxPeers(c) * c.pages + PAGES_PER_PMD)) + gatherFrames(c),
  *program(ctx: Kctx, rec: TaskRecord, spec: TaskSpec): Path {
    const n = ctx.config.pages;
    const mm = ctx.mm;
    const start = AREA_BASE + spec.rank * n;
    const end = start + n;
    const role = spec.rank % 3;
    const rng = taskRng(ctx.config, ctx.task);
    if (role !== 0) {
      yield mmapRanges(ctx, [[start, end]]);
      yield touchRange(ctx, start, end);
    }
    for (const _round of roundsOf(ctx)) {
      if (role === 0) {
        yield mmapRanges(ctx, [[start, end]]);
        yield touchRange(ctx, start, end);
        yield measure(ctx, rec, mm, doMunmap(ctx, mm, start, end));
        yield returnToUser(ctx, mm, start, end, 'munmap');
      } else if (role === 1) {
        yield measure(ctx, rec, mm, touchRange(ctx, start, end));
        yield measure(ctx, rec, mm, madviseDontneed(ctx, mm, start, end));
        yield returnToUser(ctx, mm, start, end, 'madvise(MADV_DONTNEED)');
      } else {
        for (let i = 0; i < READS_PER_ROUND; i++) yield userAccess(ctx, AREA_BASE + rng.below(spec.peers * n), false);
        yield measure(ctx, rec, mm, madviseDontneed(ctx, mm, start, end));
        yield returnToUser(ctx, mm, start, end, 'madvise(MADV_DONTNEED)');
        yield touchRange(ctx, start, end);
      }
    }
  },
};
