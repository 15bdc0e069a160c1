// writeback: tasks of several mms (--mms, 2 by default) write a MAP_SHARED
// mapping of a disk file while its pages are cleaned under them. The leading
// task of each mm maps --pages pages of the file; then, every round, each
// task writes a few random pages of it and sleeps a little (so its TLB keeps
// entries across rounds), and besides:
// - the leading task of mm 0 calls msync(MS_SYNC) over the mapping
//   (page_mkclean through every mm's ptes);
// - the leading task of every other mm makes its mapping read-only, reads,
//   waits, and makes it writable again (mprotect: its writers' stale writable TLB
//   entries must be gone when it returns, and they segfault meanwhile);
// - the bdi flusher thread (on by default here) writes dirty pages back
//   every few ms.
// No task unmaps or exits its mm: the mappings are live when the run ends,
// so a page that a write dirtied only in its pte is still clean in the page
// cache's view at the end, where LOST_WRITE looks.

import { Step, type Path } from '../machine/step.ts';
import type { Kctx } from '../sync/context.ts';
import { scheduleTimeout } from '../sync/sched.ts';
import { userAccess } from '../mm/fault.ts';
import { mprotectRange } from '../mm/mprotect.ts';
import { sysMsync } from '../mm/writeback.ts';
import { REGION_BASE, bumpWord, gatherFrames, measure, mmapRanges, roundsOf, tablesFor, taskRng, waitWord, type TaskRecord, type TaskSpec, type Workload } from './workload.ts';

/** Each mm's word: its leading task has mapped the file. */
const MAPPED = 0;
/** Writes each task makes per round. */
const WRITES_PER_ROUND = 4;
/** The leading tasks msync or mprotect every this many rounds. */
const SYNC_EVERY_ROUNDS = 2;
/** The pause between rounds, in µs: long enough for the flusher's period to pass within a run. */
const ROUND_SLEEP_US = 100;

/** A write that segfaults (the mapping is read-only for now) is survived; the signal comes on the way back to user space. */
function* writeSome(ctx: Kctx, start: number, pages: number, rng: ReturnType<typeof taskRng>): Path {
  for (let i = 0; i < WRITES_PER_ROUND; i++) {
    if ((yield* userAccess(ctx, start + rng.below(pages), true)) === 'segv') yield Step.USER;
  }
}

export const writebackWorkload: Workload = {
  name: 'writeback',
  defaultPages: 16,
  about: 'tasks of several mms write a MAP_SHARED mapping of a disk file while one msyncs it, others mprotect theirs read-only and back, and the flusher writes pages back',
  defaults: { mms: 2, writeback: true },
  diskFile: () => true,
  mappingsNeeded: () => 1,
  filePagesNeeded: (c) => c.pages,
  memoryNeeded: (c) => c.mms * tablesFor(c.pages) + c.pages + gatherFrames(c),
  *program(ctx: Kctx, rec: TaskRecord, spec: TaskSpec): Path {
    const n = ctx.config.pages;
    const mm = ctx.mm;
    const start = REGION_BASE;
    if (spec.rank === 0) {
      yield mmapRanges(ctx, [[start, start + n]], 'shared');
      bumpWord(ctx, MAPPED);
    }
    yield waitWord(ctx, MAPPED, 1, 'writeback: waiting for the mapping');
    const rng = taskRng(ctx.config, ctx.task);
    for (const round of roundsOf(ctx)) {
      yield writeSome(ctx, start, n, rng);
      if (round % SYNC_EVERY_ROUNDS !== SYNC_EVERY_ROUNDS - 1) {
        // between syncs, pages stay dirty and TLB entries writable
      } else if (spec.rank === 0 && mm === 0) {
        yield measure(ctx, rec, mm, sysMsync(ctx, mm, start, start + n));
      } else if (spec.rank === 0) {
        yield measure(ctx, rec, mm, mprotectRange(ctx, mm, start, start + n, false));
        yield userAccess(ctx, start + rng.below(n), false);
        yield scheduleTimeout(ctx, ROUND_SLEEP_US); // read-only for a while: the other writers of this mm fault meanwhile
        yield measure(ctx, rec, mm, mprotectRange(ctx, mm, start, start + n, true));
      }
      yield scheduleTimeout(ctx, ROUND_SLEEP_US);
    }
  },
};
