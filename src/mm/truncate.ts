// truncate of the file: truncate_setsize -> truncate_pagecache ->
// unmap_mapping_range(mapping, holebegin, 0, even_cows = 1), as 2.6.38's
// mm/memory.c has it and the rework keeps it. Invariant: when truncateFile
// returns, no pte of any mm maps a page of a linked vma at or beyond the new
// size, every page it zapped went back only after the flush of its mm, and
// no page at or beyond the new size is left in the page cache.
// Under the i_mmap lock each vma in i_mmap reaching the hole is zapped with
// zap_page_range on its own mm, with details carrying the lock; when
// unmap_vmas breaks off for need_resched or a waiter on the lock, the vma's
// restart address goes into vm_truncate_count, the lock is dropped for a
// cond_resched, and the i_mmap walk restarts, skipping the vmas this call
// already finished (vm_truncate_count == truncate_count).
//
// Then truncate_inode_pages (filemap.ts) takes every page at or beyond the
// new size out of the page cache, and frees each one no gather still holds.
//
// Departures, all forced by the model's size: one file; the restart
// address is stored as a negative number instead of a page-aligned one that
// truncate_count leaps over; the i_mutex of do_truncate and 2.6.38's
// mapping->unmap_mutex, which serialise truncators, are not modelled: one
// truncate at a time is asserted instead.

import { unmapCallBegins } from './mmap.ts';
import { FILE_FIELD, VMA_FIELD } from '../machine/layout.ts';
import type { Path } from '../machine/step.ts';
import { modelAssert } from '../machine/errors.ts';
import { fnEnter, type Kctx } from '../sync/context.ts';
import { needResched, condResched } from '../sync/preempt.ts';
import type { ZapDetails } from './memory.ts';
import { zapPageRange } from './mmap.ts';
import { truncateInodePages } from './filemap.ts';
import { fileWord, iMmapLock, iMmapLockWord, iMmapNeedbreak, iMmapUnlock, iMmapVmas, iSizeWrite, type FileVma } from './rmap.ts';

/** i_mmap walks one unmap_mapping_range may restart before the model calls it a livelock. */
export const TRUNCATE_RESTARTS_MAX = 1_000_000;
/** truncate_count wraps here back to 1, after resetting every vma (reset_vma_truncate_counts). */
const TRUNCATE_COUNT_MAX = 0x7fff_ffff;

/** struct zap_details for unmap_mapping_range: the hole, and truncate_count. */
interface TruncateDetails extends ZapDetails {
  firstIndex: number;
  truncateCount: number;
}

function vmaWord(ctx: Kctx, v: FileVma): number {
  return ctx.m.vma(v.mm, v.slot, VMA_FIELD.TRUNCATE_COUNT);
}

/** is_restart_addr: vm_truncate_count holds a restart address, not a truncate_count. */
function restartAddrOf(value: number): number {
  return value < 0 ? -value - 1 : -1;
}

function encodeRestartAddr(vpn: number): number {
  return -(vpn + 1);
}

/** reset_vma_truncate_counts: truncate_count wrapped, so no vma may look done by an old pass. */
function resetVmaTruncateCounts(ctx: Kctx): void {
  for (const v of iMmapVmas(ctx, 0)) ctx.mem[vmaWord(ctx, v)] = 0;
}

/**
 * unmap_mapping_range_vma: zap [start, end) of one vma, going again from the
 * restart address while nobody needs the lock. Returns false (-EINTR) when it
 * dropped the i_mmap lock: the caller's walk is no longer valid.
 */
function* unmapMappingRangeVma(ctx: Kctx, v: FileVma, startAddr: number, endAddr: number, details: TruncateDetails): Path<boolean> {
  const at = vmaWord(ctx, v);
  for (let pass = 0; ; pass++) {
    modelAssert(pass < TRUNCATE_RESTARTS_MAX, 'unmap_mapping_range_vma does not finish', () => `mm ${v.mm} [${v.start}, ${v.end})`);
    // again:
    const restart = restartAddrOf(ctx.mem[at]!);
    if (restart >= 0 && startAddr < restart) {
      startAddr = restart;
      if (startAddr >= endAddr) {
        // the top of the vma was split off since last time
        ctx.mem[at] = details.truncateCount;
        return true;
      }
    }
    const restartAddr = yield* zapPageRange(ctx, v, startAddr, endAddr, details, v.mm);
    const needBreak = needResched(ctx) || iMmapNeedbreak(ctx, details.iMmapLock!);
    if (restartAddr >= endAddr) {
      ctx.mem[at] = details.truncateCount; // this vma is done: mark it so
      if (!needBreak) return true;
    } else {
      modelAssert(restartAddr > startAddr, 'unmap_vmas broke off without progress', () => `mm ${v.mm} at ${restartAddr}`);
      ctx.mem[at] = encodeRestartAddr(restartAddr);
      if (!needBreak) continue;
    }
    ctx.stats.iMmapLockBreaks++;
    yield iMmapUnlock(ctx);
    yield condResched(ctx);
    yield iMmapLock(ctx, 'unmap_mapping_range');
    return false;
  }
}

/** unmap_mapping_range_tree: restart the walk whenever the lock was dropped. */
function* unmapMappingRangeTree(ctx: Kctx, details: TruncateDetails): Path {
  for (let restarts = 0; ; restarts++) {
    modelAssert(restarts < TRUNCATE_RESTARTS_MAX, 'unmap_mapping_range restarts without end', () => `after ${restarts} restarts`);
    let dropped = false;
    for (const v of iMmapVmas(ctx, details.firstIndex)) {
      if (ctx.mem[vmaWord(ctx, v)] === details.truncateCount) continue; // dealt with already
      // vba = vm_pgoff; zba = max(first_index, vba); zea = vea (last_index is ULONG_MAX)
      const zba = Math.max(details.firstIndex, v.pgoff);
      if (!(yield* unmapMappingRangeVma(ctx, v, v.start + zba - v.pgoff, v.end, details))) {
        dropped = true;
        break;
      }
    }
    if (!dropped) return;
  }
}

/** unmap_mapping_range(mapping, holebegin, 0, even_cows = 1), in pages: everything from file page `holeBegin` on, COWed pages included. */
export function* unmapMappingRange(ctx: Kctx, holeBegin: number): Path {
  const details: TruncateDetails = { iMmapLock: iMmapLockWord(ctx), firstIndex: holeBegin, truncateCount: 0 };
  const caller = fnEnter(ctx, 'unmap_mapping_range');
  yield iMmapLock(ctx, 'unmap_mapping_range');
  // protect against endless unmapping loops: a new truncate_count, which no vma holds yet
  const countAt = fileWord(ctx, FILE_FIELD.TRUNCATE_COUNT);
  let count = ctx.mem[countAt]! + 1;
  if (count > TRUNCATE_COUNT_MAX) {
    resetVmaTruncateCounts(ctx);
    count = 1;
  }
  ctx.mem[countAt] = count;
  details.truncateCount = count;
  yield unmapMappingRangeTree(ctx, details);
  yield iMmapUnlock(ctx);
  ctx.fn = caller;
}

/**
 * truncate(2) of the file to `newSizePages`: truncate_setsize, that is
 * i_size_write and then truncate_pagecache, which calls unmap_mapping_range
 * twice around truncate_inode_pages, the second time for pages COWed while
 * the first ran.
 */
export function* truncateFile(ctx: Kctx, newSizePages: number): Path {
  modelAssert(Number.isInteger(newSizePages) && newSizePages >= 0, 'truncate to a bad size', () => `${newSizePages} pages`);
  const guard = fileWord(ctx, FILE_FIELD.TRUNCATING);
  modelAssert(Atomics.compareExchange(ctx.mem, guard, 0, ctx.task + 1) === 0, 'two truncates of the file at once (i_mutex is not modelled)', () => `task ${ctx.task}`);
  const caller = fnEnter(ctx, 'truncate_pagecache');
  unmapCallBegins(ctx);
  iSizeWrite(ctx, newSizePages);
  yield unmapMappingRange(ctx, newSizePages);
  yield truncateInodePages(ctx, newSizePages);
  yield unmapMappingRange(ctx, newSizePages);
  Atomics.store(ctx.mem, guard, 0);
  ctx.fn = caller;
}
