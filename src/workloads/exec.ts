// exec: execve's stack relocation (shift_arg_pages) in rounds. In each mm the
// leading task maps a stack-like anonymous vma of --pages pages that straddles
// a 2 MiB boundary, writes it (copy_strings), and shifts it down (the measured
// operation); then it unmaps the shifted stack for the next round. Rounds
// cycle through three shifts: by the part above the boundary (old and new
// overlap, and the vacated part is one whole pte table), by 4 MiB as an ASLR
// offset would (disjoint: both old pte tables go, two new ones are built),
// and by one page (nothing vacated, so no gather flush: only move_ptes's own
// flushes keep the TLBs right).
// The other tasks of the mm read a few pages of the stack the whole time, so
// their cpus are in mm_cpumask and their TLBs hold its translations (a read
// that faults while the stack moves sleeps on mmap_sem, and its cpu goes
// lazy and leaves the mm at the next flush); in the kernel the mm
// being exec'd has no other user, so this is a harder case than exec meets,
// and it shows what 2.6.38's move_ptes costs: one flush_tlb_page, with its
// IPIs, per moved pte.

import { PAGES_PER_PMD, PAGES_PER_PUD } from '../machine/layout.ts';
import type { Path } from '../machine/step.ts';
import { BadInput } from '../machine/errors.ts';
import type { Kctx } from '../sync/context.ts';
import { userAccess } from '../mm/fault.ts';
import { doMunmap } from '../mm/mmap.ts';
import { shiftArgPages } from '../mm/exec.ts';
import { returnToUser } from '../mm/syscall.ts';
import { bumpWord, gatherFrames, measure, mmapRanges, pollWord, roundsOf, taskRng, touchRange, type TaskRecord, type TaskSpec, type Workload } from './workload.ts';

const DONE = 0;
/** Pages each reader keeps reading. */
const HOT_PAGES = 8;
/** A 2 MiB boundary the stack straddles, 8 MiB into the third GiB: room below it for the 4 MiB shift. */
export const STACK_BOUNDARY = 2 * PAGES_PER_PUD + 4 * PAGES_PER_PMD;
/** The disjoint shift of odd rounds. */
export const FAR_SHIFT = 2 * PAGES_PER_PMD;

/** Pages of the stack above the boundary: the overlapping shift. */
export function stackAbove(pages: number): number {
  return Math.ceil(pages / 2);
}

/** The stack of every round before it moves: [start, end). */
export function stackRange(pages: number): [number, number] {
  const above = stackAbove(pages);
  return [STACK_BOUNDARY - (pages - above), STACK_BOUNDARY + above];
}

export function shiftFor(round: number, pages: number): number {
  return [stackAbove(pages), FAR_SHIFT, 1][round % 3]!;
}

/** pte tables shift_arg_pages frees in a round: the one above the boundary, both old ones (disjoint), or none. */
export function tablesFreedBy(round: number): number {
  return [1, 2, 0][round % 3]!;
}

function* execRounds(ctx: Kctx, rec: TaskRecord): Path {
  const n = ctx.config.pages;
  const mm = ctx.mm;
  const [start, end] = stackRange(n);
  for (const round of roundsOf(ctx)) {
    const shift = shiftFor(round, n);
    yield mmapRanges(ctx, [[start, end]]);
    yield touchRange(ctx, start, end);
    yield measure(ctx, rec, mm, shiftArgPages(ctx, mm, start, end, shift));
    yield returnToUser(ctx, mm, start - shift, end, 'execve');
    yield doMunmap(ctx, mm, start - shift, end - shift);
    yield returnToUser(ctx, mm, start - shift, end - shift, 'munmap');
  }
  bumpWord(ctx, DONE);
}

/** Reads of a hot set of the stack's pages, so they stay in this cpu's TLB until a flush takes them; a read that misses the stack gets SIGSEGV and goes on. */
function* stackReader(ctx: Kctx): Path {
  const [start, end] = stackRange(ctx.config.pages);
  const rng = taskRng(ctx.config, ctx.task);
  const hot = Array.from({ length: HOT_PAGES }, () => start + rng.below(end - start));
  for (let i = 0; i < ctx.config.readerAccesses && pollWord(ctx, DONE) === 0; i++) yield userAccess(ctx, hot[i % HOT_PAGES]!, false);
}

export const execWorkload: Workload = {
  name: 'exec',
  defaultPages: 64,
  about: "execve's shift_arg_pages in rounds: one task per mm moves a --pages stack down (overlapping, by 4 MiB, by a page) while the others read it",
  mappingsNeeded: () => 1,
  memoryNeeded: (c) => {
    if (c.pages < 3 || c.pages > 2 * (PAGES_PER_PMD - 1)) throw new BadInput(`--pages ${c.pages}: the exec workload's stack straddles one 2 MiB boundary with at least 2 pages above it, so it has 3 to ${2 * (PAGES_PER_PMD - 1)} pages`);
    // the stack, up to four pte tables while it moves, the pmd and pud above them
    return c.mms * (c.pages + 6) + gatherFrames(c);
  },
  *program(ctx: Kctx, rec: TaskRecord, spec: TaskSpec): Path {
    if (spec.rank === 0) yield execRounds(ctx, rec);
    else yield stackReader(ctx);
  },
};
