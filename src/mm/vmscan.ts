// Reclaim of the file's page cache under memory pressure (mm/vmscan.c's
// shrink_page_list for file pages, as far as the model needs it): a page is
// taken only if its lock is free (trylock_page) and no pte maps it (the
// model's reclaim does not unmap); a dirty page is written first (pageout:
// clear_page_dirty_for_io, then writepage, synchronous here); then
// __remove_mapping, under tree_lock, freezes the count at the two references
// it expects (the cache's and reclaim's own), so no lockless lookup can take
// another, and takes the page out of the cache. Invariant: a page dropped is
// clean, and its data version is on the disk (LOST_WRITE otherwise: a write
// landed on it after it was cleaned, through a TLB entry nobody flushed).

import { FILE_FIELD, PAGE_FIELD, PAGE_FLAG } from '../machine/layout.ts';
import type { Path } from '../machine/step.ts';
import { mark } from '../machine/marks.ts';
import { fnEnter, type Kctx } from '../sync/context.ts';
import { spinLockIrqsave, spinUnlockIrqrestore, LockClass } from '../sync/spinlock.ts';
import { condResched } from '../sync/preempt.ts';
import { freePage } from '../page/alloc.ts';
import { checkPageWritten } from './syscall.ts';
import { fileWord, iSizeRead } from './rmap.ts';
import { findGetPage, flagsAt, mappingCapAccountDirty, pageCacheLookup, unlockPage } from './filemap.ts';
import { clearPageDirtyForIo, writepage } from './writeback.ts';

/** The references a page has when only the page cache and reclaim hold it. */
const REFS_CACHE_AND_RECLAIM = 2;

/** __remove_mapping: whether the page left the cache. The caller holds the page lock and one reference. */
function* removeMapping(ctx: Kctx, page: number, index: number): Path<boolean> {
  const { m, mem } = ctx;
  const treeLock = fileWord(ctx, FILE_FIELD.TREE_LOCK);
  yield spinLockIrqsave(ctx, treeLock, LockClass.TREE_LOCK, '__remove_mapping');
  const countAt = m.page(page, PAGE_FIELD.REFCOUNT);
  // page_freeze_refs: only if nobody else holds it (a fault's lookup, a gather that has not flushed)
  let removed = Atomics.compareExchange(mem, countAt, REFS_CACHE_AND_RECLAIM, 0) === REFS_CACHE_AND_RECLAIM;
  if (removed && (Atomics.load(mem, flagsAt(ctx, page)) & PAGE_FLAG.DIRTY) !== 0) {
    Atomics.store(mem, countAt, REFS_CACHE_AND_RECLAIM); // page_unfreeze_refs: dirtied again meanwhile
    removed = false;
  }
  if (removed) {
    Atomics.store(mem, m.pageCacheSlot(index), 0); // __remove_from_page_cache
    Atomics.sub(mem, fileWord(ctx, FILE_FIELD.NR_PAGES), 1);
    Atomics.and(mem, flagsAt(ctx, page), ~PAGE_FLAG.TAG_DIRTY);
    checkPageWritten(mem, m, ctx.oracle, page, index, ctx.cpu, 'dropped by reclaim');
    ctx.stats.pageCacheRemovals++;
    ctx.stats.pagesReclaimed++;
    Atomics.store(mem, countAt, 1); // only reclaim's reference is left: its put frees the page
  }
  yield spinUnlockIrqrestore(ctx, treeLock, LockClass.TREE_LOCK);
  return removed;
}

/** shrink_page_list over up to `nrToScan` pages of the file's page cache, from file page 0 up; returns the pages dropped. */
export function* shrinkPageCache(ctx: Kctx, nrToScan: number): Path<number> {
  const { m, mem } = ctx;
  let dropped = 0;
  // a tmpfs-like file's pages are swap-backed, and the model has no swap: reclaim leaves them
  if (!mappingCapAccountDirty(ctx)) return 0;
  const caller = fnEnter(ctx, 'shrink_page_list');
  let scanned = 0;
  for (let index = 0; index < m.size.filePages && scanned < nrToScan; index++) {
    if (pageCacheLookup(ctx, index) === 0) continue;
    scanned++;
    const page = yield* findGetPage(ctx, index);
    if (page === 0) continue;
    const locked = (Atomics.or(mem, flagsAt(ctx, page), PAGE_FLAG.LOCKED) & PAGE_FLAG.LOCKED) === 0; // trylock_page
    const mapped = Atomics.load(mem, m.page(page, PAGE_FIELD.MAPCOUNT)) > 0;
    if (mapped) mark('reclaimLeftMapped');
    if (locked && pageCacheLookup(ctx, index) === page && !mapped) {
      // pageout: a dirty page is written before it can go
      const dirty = (Atomics.load(mem, flagsAt(ctx, page)) & PAGE_FLAG.DIRTY) !== 0;
      if (dirty && (yield* clearPageDirtyForIo(ctx, page)) && index < iSizeRead(ctx)) yield writepage(ctx, page, index);
      if ((Atomics.load(mem, flagsAt(ctx, page)) & PAGE_FLAG.DIRTY) === 0 && (yield* removeMapping(ctx, page, index))) dropped++;
    }
    if (locked) unlockPage(ctx, page);
    yield freePage(ctx, page); // reclaim's reference: the last one for a page it dropped
    yield condResched(ctx);
  }
  ctx.fn = caller;
  return dropped;
}
