// pressure: MADV_DONTNEED with no free memory, so the rework's GFP_NOWAIT
// batch page (__tlb_alloc_page) really fails. The tasks of the one mm each
// write their own --pages range; then the leading task, reading MemFree as
// a program reads /proc/meminfo, faults in a hog mapping until not one frame
// is free. Each round, every task drops its range with MADV_DONTNEED (the
// measured operation; concurrent, under mmap_sem held for read), waits for
// the others, and writes its range again, which takes exactly the frames the
// round freed, so every round starts with memory full again.
// A rework gather that starts on its 8 local slots flushes after 8 pages and
// then, with those 8 pages free, gets its batch page (tlb_flush_mmu retries
// __tlb_alloc_page after freeing): kernel-facts 2.2 and 6.11. No GFP_KERNEL
// allocation runs while memory is full, because without reclaim it could
// only fail.

import { HDR, pteFrame } from '../machine/layout.ts';
import { Step, type Path } from '../machine/step.ts';
import { BadInput } from '../machine/errors.ts';
import type { Kctx } from '../sync/context.ts';
import { SpinWatch } from '../sync/spin.ts';
import { madviseDontneed } from '../mm/mmap.ts';
import { pgdFrame, pgdIndex, pmdIndex, pudIndex, readEntry } from '../mm/pgtable.ts';
import { returnToUser } from '../mm/syscall.ts';
import { USER_WAIT_LOCKUPS, bumpWord, sawWordAt, storeWordAt, gatherFrames, maxPeers, measure, mmapRanges, roundsOf, tablesFor, touchRange, waitWord, wordAt, type TaskRecord, type TaskSpec, type Workload } from './workload.ts';
import { access, slotStart } from './willitscale.ts';

const TOUCHED = 0;
const DONE = 1;
/** round + 1 while the leader runs round `round`. */
const ROUND = 2;
/** Set by the leader when it has run its last round. */
const END = 3;

/** MemFree, as /proc/meminfo shows it: a snapshot, read without the zone lock. */
export function memFree(ctx: Kctx): number {
  return Atomics.load(ctx.mem, HDR.FREE_TOP);
}

/** Page-table pages a first touch of vpn has to allocate (pud, pmd, pte): read off the page tables here, where a real program would know them from its own layout. */
function tablesToMap(ctx: Kctx, vpn: number): number {
  const pud = readEntry(ctx, pgdFrame(ctx, ctx.mm), pgdIndex(vpn));
  if (pud === 0) return 3;
  const pmd = readEntry(ctx, pteFrame(pud), pudIndex(vpn));
  if (pmd === 0) return 2;
  return readEntry(ctx, pteFrame(pmd), pmdIndex(vpn)) === 0 ? 1 : 0;
}

/**
 * The hog: write pages of its own mapping while a page and its tables fit in
 * MemFree; when only the tables fit, read instead (the zero page is mapped,
 * only the tables are allocated). Returns the frames left free: 0 unless a
 * table boundary needed more frames than were left.
 */
function* fillMemory(ctx: Kctx, start: number, pages: number): Path<number> {
  yield mmapRanges(ctx, [[start, start + pages]]);
  for (let vpn = start; vpn < start + pages; vpn++) {
    const free = memFree(ctx);
    if (free === 0) break;
    const tables = tablesToMap(ctx, vpn);
    if (free >= tables + 1) yield access(ctx, vpn, true);
    else if (tables > 0 && free === tables) yield* access(ctx, vpn, false);
    else break;
  }
  return memFree(ctx);
}

/**
 * One MADV_DONTNEED of one vma is one gather. Its GFP_NOWAIT attempts are
 * some failures, then at most one success (the gather stops asking once it
 * has its page), so a failure means it started on the 8 local slots, and a
 * failure followed by a success means it moved to 512 slots mid-operation.
 */
function* oneGather(ctx: Kctx, op: Path): Path {
  const failed = ctx.stats.batchAllocFailures;
  const got = ctx.stats.batchAllocs;
  yield op;
  if (ctx.stats.batchAllocFailures === failed) return;
  ctx.stats.gatherLocalStarts++;
  if (ctx.stats.batchAllocs > got) ctx.stats.gatherUpgrades++;
}

/** A follower waits for the leader to start round `round` (true) or to end (false); bounded like every user wait. */
function* waitRound(ctx: Kctx, round: number): Path<boolean> {
  const watch = new SpinWatch(ctx, 'pressure: waiting for the next round', USER_WAIT_LOCKUPS);
  for (;;) {
    if (Atomics.load(ctx.mem, wordAt(ctx, ROUND)) > round) {
      sawWordAt(ctx, wordAt(ctx, ROUND));
      return true;
    }
    if (Atomics.load(ctx.mem, wordAt(ctx, END)) !== 0) {
      sawWordAt(ctx, wordAt(ctx, END));
      return false;
    }
    watch.tick();
    yield Step.YIELD;
  }
}

function* round(ctx: Kctx, rec: TaskRecord, peers: number, round: number, start: number, end: number): Path {
  yield measure(ctx, rec, ctx.mm, oneGather(ctx, madviseDontneed(ctx, ctx.mm, start, end)));
  yield returnToUser(ctx, ctx.mm, start, end, 'madvise(MADV_DONTNEED)');
  bumpWord(ctx, DONE);
  // every batch page is back before anyone faults again: memory ends the round exactly as full as it began
  yield waitWord(ctx, DONE, peers * (round + 1), 'pressure: waiting for every MADV_DONTNEED');
  yield touchRange(ctx, start, end);
  bumpWord(ctx, TOUCHED);
  yield waitWord(ctx, TOUCHED, peers * (round + 2), 'pressure: waiting for every task to refault');
}

export const pressureWorkload: Workload = {
  name: 'pressure',
  defaultPages: 256,
  about: 'tasks of one mm MADV_DONTNEED their --pages range with memory full (a hog takes every free frame): rework gathers start on 8 slots and move to 512',
  mappingsNeeded: (c) => maxPeers(c) + 1,
  memoryNeeded: (c) => {
    if (c.mms !== 1) throw new BadInput(`--mms ${c.mms}: the pressure workload runs its tasks in one mm (its hog fills the memory they all share)`);
    return maxPeers(c) * (c.pages + tablesFor(c.pages)) + gatherFrames(c);
  },
  *program(ctx: Kctx, rec: TaskRecord, spec: TaskSpec): Path {
    const n = ctx.config.pages;
    const start = slotStart(spec.rank, n);
    yield mmapRanges(ctx, [[start, start + n]]);
    yield touchRange(ctx, start, start + n);
    bumpWord(ctx, TOUCHED);
    if (spec.rank === 0) {
      yield waitWord(ctx, TOUCHED, spec.peers, 'pressure: waiting for every task to touch its range');
      // the hog's slot follows the tasks' slots and is as large as memory
      yield fillMemory(ctx, slotStart(spec.peers, n), ctx.config.memoryPages);
      for (const r of roundsOf(ctx)) {
        storeWordAt(ctx, wordAt(ctx, ROUND), r + 1);
        yield round(ctx, rec, spec.peers, r, start, start + n);
      }
      storeWordAt(ctx, wordAt(ctx, END), 1);
      return;
    }
    for (let r = 0; r < ctx.config.rounds && (yield* waitRound(ctx, r)); r++) yield round(ctx, rec, spec.peers, r, start, start + n);
  },
};
