// exit: every task of an mm writes its own --pages pages of a MAP_PRIVATE
// file mapping, then all exit. Each exiting task leaves its cpu lazy on the
// mm; the last one tears the mm down with exit_mmap (fullmm), the measured
// operation, whose flushes reach the lazy cpus, which leave the mm.

import { PAGES_PER_PMD } from '../machine/layout.ts';
import type { Path } from '../machine/step.ts';
import type { Kctx } from '../sync/context.ts';
import { exitMm } from '../mm/syscall.ts';
import { REGION_BASE, bumpWord, mmapRanges, gatherFrames, maxPeers, measure, tablesFor, touchRange, userTaskCount, waitWord, type TaskRecord, type TaskSpec, type Workload } from './workload.ts';

const TOUCHED = 0;

function stride(pages: number): number {
  return Math.ceil(pages / PAGES_PER_PMD) * PAGES_PER_PMD;
}

/** Each task maps its own part of the file in its own slot and writes every page. */
function* writeOwnPages(ctx: Kctx, spec: TaskSpec): Path {
  const n = ctx.config.pages;
  const start = REGION_BASE + spec.rank * stride(n);
  yield mmapRanges(ctx, [[start, start + n]], true);
  yield touchRange(ctx, start, start + n);
}

export const exitWorkload: Workload = {
  name: 'exit',
  defaultPages: 1000,
  about: 'every task writes --pages pages of its own file mapping and exits; the last one of each mm runs exit_mmap (fullmm)',
  mappingsNeeded: maxPeers,
  memoryNeeded: (c) => userTaskCount(c) * (c.pages + tablesFor(c.pages)) + gatherFrames(c),
  setup: writeOwnPages,
  *program(ctx: Kctx, rec: TaskRecord, spec: TaskSpec): Path {
    const mm = ctx.mm;
    bumpWord(ctx, TOUCHED);
    yield waitWord(ctx, TOUCHED, spec.peers, 'exit: waiting for every task to touch its pages');
    yield measure(ctx, rec, mm, exitMm(ctx));
  },
};
