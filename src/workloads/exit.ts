// exit: every task of one mm touches its own --pages pages, then all exit.
// Each exiting task leaves its cpu lazy on the mm; the last one tears the mm
// down with exit_mmap (fullmm), the measured operation, whose flushes reach
// the lazy cpus, which leave the mm.

import { PAGES_PER_PMD } from '../machine/layout.ts';
import type { Path } from '../machine/step.ts';
import type { Kctx } from '../sync/context.ts';
import { exitMm } from '../mm/syscall.ts';
import { REGION_BASE, bumpWord, mmapAnon, oneTaskPerCpu, gatherFrames, measure, tablesFor, touchRange, waitWord, type TaskRecord, type Workload } from './workload.ts';

const TOUCHED = 0;

function stride(pages: number): number {
  return Math.ceil(pages / PAGES_PER_PMD) * PAGES_PER_PMD;
}

export const exitWorkload: Workload = {
  name: 'exit',
  defaultPages: 1000,
  about: 'every task touches --pages pages of its own mapping and exits; the last one runs exit_mmap (fullmm)',
  mms: () => 1,
  tasks: oneTaskPerCpu,
  memoryNeeded: (c) => c.cpus * (c.pages + tablesFor(c.pages)) + gatherFrames(c),
  *program(ctx: Kctx, rec: TaskRecord, index: number): Path {
    const n = ctx.config.pages;
    const mm = ctx.mm;
    const start = REGION_BASE + index * stride(n);
    yield* mmapAnon(ctx, [[start, start + n]]);
    yield* touchRange(ctx, start, start + n);
    bumpWord(ctx, TOUCHED);
    yield* waitWord(ctx, TOUCHED, ctx.config.cpus, 'exit: waiting for every task to touch its pages');
    yield* measure(ctx, rec, mm, exitMm(ctx));
  },
};
