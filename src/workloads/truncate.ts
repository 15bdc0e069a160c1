// truncate: truncate of a file mapping with many mappers. The leading task of
// every mm (--mms) maps --pages pages of the file MAP_PRIVATE and writes them
// all, so every mapper holds that many COWed pages; the other tasks of each
// mm then read and write random pages of their mapping the whole time, so
// their cpus are in mm_cpumask and their TLBs hold entries. Once every task
// is warm, the leading task of mm 0 truncates the file to 0 (the measured
// operation: unmap_mapping_range over every mapper, under the i_mmap lock)
// and checks that no TLB anywhere still translates a truncated page and no
// mapper has a page left. While it runs, the leading task of every other mm
// maps the file once more (vma_link takes the i_mmap lock, so the truncate
// meets a waiter and may break off and restart). Accesses after the truncate
// are SIGBUS, survived like the mix workload's segfaults: the task counts
// them and goes on, a bounded number of times.

import { HDR, MM_FIELD, PAGES_PER_PMD } from '../machine/layout.ts';
import { modelAssert } from '../machine/errors.ts';
import { Step, type Path } from '../machine/step.ts';
import type { Kctx } from '../sync/context.ts';
import { userAccess } from '../mm/fault.ts';
import { returnToUser } from '../mm/syscall.ts';
import { truncateFile } from '../mm/truncate.ts';
import { REGION_BASE, bumpWord, bumpWordAt, storeWordAt, waitWordAt, gatherFrames, measure, mmapRanges, pollWordAt, tablesFor, taskRng, touchRange, userTaskCount, waitWord, type TaskRecord, type TaskSpec, type Workload } from './workload.ts';

/** The whole run's words are mm 0's: tasks ready (warm), truncate under way, truncate returned. */
const READY = 0;
const TRUNCATING = 1;
const DONE = 2;
/** Each mm's own word: its leading task has mapped and written the file. */
const WRITTEN = 3;
/** Accesses each task makes before the truncate may start, so its TLB holds entries. */
const WARM_ACCESSES = 16;
/** Accesses each task makes after the truncate returned: every one is SIGBUS. */
const ACCESSES_AFTER = 16;

export const FILE_MAP_START = REGION_BASE;

/** Where the second mapping goes: the next 2 MiB boundary after the first. */
function lateMapStart(pages: number): number {
  return FILE_MAP_START + Math.ceil(pages / PAGES_PER_PMD) * PAGES_PER_PMD;
}

function runWord(i: number): number {
  return HDR.WORKLOAD + i; // mm 0's words (see wordAt)
}

export const truncateWorkload: Workload = {
  name: 'truncate',
  defaultPages: 256,
  about: 'the leading task of each mm (--mms) writes --pages pages of a MAP_PRIVATE file mapping; one truncates the file to 0 while every other task keeps using its mapping',
  mappingsNeeded: () => 2,
  memoryNeeded: (c) => c.mms * (c.pages + tablesFor(c.pages)) + gatherFrames(c),
  *program(ctx: Kctx, rec: TaskRecord, spec: TaskSpec): Path {
    const n = ctx.config.pages;
    const mm = ctx.mm;
    const start = FILE_MAP_START;
    if (spec.rank === 0) {
      yield mmapRanges(ctx, [[start, start + n]], true);
      yield touchRange(ctx, start, start + n);
      bumpWord(ctx, WRITTEN);
    }
    yield waitWord(ctx, WRITTEN, 1, 'truncate: waiting for the mapping to be written');
    if (mm === 0 && spec.rank === 0) {
      yield waitWordAt(ctx, runWord(READY), userTaskCount(ctx.config) - 1, 'truncate: waiting for every mapper to warm its TLB');
      storeWordAt(ctx, runWord(TRUNCATING), 1);
      yield measure(ctx, rec, mm, truncateFile(ctx, 0));
      for (let other = 0; other < ctx.config.mms; other++) {
        yield returnToUser(ctx, other, start, start + n, 'truncate');
        // the file vma was each mm's only populated mapping, and no fault maps past EOF once i_size is 0;
        // a negative count is the rework-seed mutant's double-applied rss, which RSS_MISMATCH reports
        const rss = Atomics.load(ctx.mem, ctx.m.mm(other, MM_FIELD.RSS_ANON));
        modelAssert(rss <= 0, 'a page of the file mapping survived truncate', () => `mm ${other}: MM_ANONPAGES ${rss}`);
      }
      storeWordAt(ctx, runWord(DONE), 1);
      return;
    }
    const rng = taskRng(ctx.config, ctx.task);
    let mappedLate = false;
    let after = 0;
    const accesses = ctx.config.readerAccesses;
    for (let i = 0; i < accesses; i++) {
      if (i === WARM_ACCESSES) bumpWordAt(ctx, runWord(READY));
      // once warm, the loop ends only when the truncating task is done with its work: a poll
      const done = i < WARM_ACCESSES ? Atomics.load(ctx.mem, runWord(DONE)) : pollWordAt(ctx, runWord(DONE));
      if (done !== 0 && after++ >= ACCESSES_AFTER) break;
      if (!mappedLate && spec.rank === 0 && Atomics.load(ctx.mem, runWord(TRUNCATING)) !== 0) {
        mappedLate = true;
        const late = lateMapStart(n);
        yield mmapRanges(ctx, [[late, late + 1]], true);
      }
      // SIGBUS: the signal is delivered on the way back to user space, a preemption point in every model
      if ((yield* userAccess(ctx, start + rng.below(n), rng.below(2) === 0)) === 'segv') yield Step.USER;
    }
    if (accesses <= WARM_ACCESSES) bumpWordAt(ctx, runWord(READY));
  },
};
