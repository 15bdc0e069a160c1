// The one file's page cache, as far as MAP_SHARED faults and truncate need
// it (mm/filemap.c, mm/truncate.c). Invariant: slot `index` of the page
// cache holds a frame exactly while that frame is a PAGECACHE page with
// INDEX `index` on which the page cache holds one reference; slots and
// nrpages change only under the mapping's tree_lock (add_to_page_cache,
// remove_from_page_cache). Lookups are lockless, as 2.6.38's find_get_page
// and find_get_pages are: page_cache_get_speculative takes a reference only
// while the count is not 0, and the slot is checked again after it, so a
// page found is never one whose last reference is going. The cache's
// reference goes only in truncate, after the page has been unmapped from
// every mm; the page is freed by whoever drops the last reference (a
// gather's put after its flush, truncate's pagevec_release, a fault that
// lost a race), never earlier.
//
// Departures: there is no RCU, and anonymous pages carry no reference count,
// so the speculative get also checks that the frame is still a page-cache
// page and gives a count it raised on any other frame straight back.
// nothing else does. For a tmpfs-like file the page lock (lock_page,
// find_lock_page) is not a lock: the fault checks, under the pte lock, that
// its page is still the one in the cache and below i_size, which is what
// filemap_fault and __do_fault check under the page lock (see fault.ts). A
// new page is up to date at once, with the data version the disk holds for
// its index (0 for a tmpfs-like file), and there is no LRU. A disk file
// (mapping_cap_account_dirty, writeback.ts) takes the page lock where
// writeback could race: writeback itself, truncate, and the shared write
// fault; lock_page sleeps by polling (a short timed sleep per try) instead
// of on the kernel's hashed wait queue, which no model path needs.

import { FILE_FIELD, PAGE_FIELD, PAGE_FLAG, PageState } from '../machine/layout.ts';
import { Step, type Path } from '../machine/step.ts';
import { mark } from '../machine/marks.ts';
import { modelAssert } from '../machine/errors.ts';
import type { Kctx } from '../sync/context.ts';
import { spinLockIrqsave, spinUnlockIrqrestore, LockClass } from '../sync/spinlock.ts';
import { condResched, mightSleep } from '../sync/preempt.ts';
import { scheduleTimeout } from '../sync/sched.ts';
import { allocPage, freePage, freePages, getPage, PAGEVEC_SIZE } from '../page/alloc.ts';
import { fileWord } from './rmap.ts';

/** How long lock_page sleeps between tries, in µs. */
const PAGE_LOCK_POLL_US = 20;
/** Tries before a page lock is called never released (a hang, reported instead of waited for). */
const PAGE_LOCK_TRIES_MAX = 1_000_000;

/** mapping_cap_account_dirty: the file is on a disk with writeback (0 for a tmpfs-like file). */
export function mappingCapAccountDirty(ctx: Kctx): boolean {
  return Atomics.load(ctx.mem, fileWord(ctx, FILE_FIELD.ACCOUNT_DIRTY)) !== 0;
}

export function flagsAt(ctx: Kctx, page: number): number {
  return ctx.m.page(page, PAGE_FIELD.FLAGS);
}

/** trylock_page */
function trylockPage(ctx: Kctx, page: number): boolean {
  return (Atomics.or(ctx.mem, flagsAt(ctx, page), PAGE_FLAG.LOCKED) & PAGE_FLAG.LOCKED) === 0;
}

/** lock_page: sleep until PG_locked is ours. */
export function* lockPage(ctx: Kctx, page: number, site: string): Path {
  yield mightSleep(ctx, site);
  for (let tries = 0; !trylockPage(ctx, page); tries++) {
    modelAssert(tries < PAGE_LOCK_TRIES_MAX, 'lock_page never gets the page', () => `${site}: frame ${page}`);
    if (tries === 0) mark('pageLockSlept');
    yield scheduleTimeout(ctx, PAGE_LOCK_POLL_US);
  }
}

export function unlockPage(ctx: Kctx, page: number): void {
  const was = Atomics.and(ctx.mem, flagsAt(ctx, page), ~PAGE_FLAG.LOCKED);
  modelAssert((was & PAGE_FLAG.LOCKED) !== 0, 'unlock_page of a page not locked', () => `frame ${page}`);
}

/** wait_on_page_locked: sleep until nobody holds PG_locked (without taking it). */
export function* waitOnPageLocked(ctx: Kctx, page: number, site: string): Path {
  for (let tries = 0; (Atomics.load(ctx.mem, flagsAt(ctx, page)) & PAGE_FLAG.LOCKED) !== 0; tries++) {
    modelAssert(tries < PAGE_LOCK_TRIES_MAX, 'wait_on_page_locked never sees the page unlocked', () => `${site}: frame ${page}`);
    yield mightSleep(ctx, site);
    yield scheduleTimeout(ctx, PAGE_LOCK_POLL_US);
  }
}

/**
 * set_page_dirty. For a disk file, __set_page_dirty_nobuffers: PG_dirty,
 * and if it was clean the radix tree's dirty tag under tree_lock while the
 * page is still in the cache; for a tmpfs-like file (no writeback),
 * __set_page_dirty_no_writeback: PG_dirty alone.
 */
export function* setPageDirty(ctx: Kctx, page: number): Path {
  const was = Atomics.or(ctx.mem, flagsAt(ctx, page), PAGE_FLAG.DIRTY);
  if (!mappingCapAccountDirty(ctx) || (was & PAGE_FLAG.DIRTY) !== 0) return;
  yield spinLockIrqsave(ctx, treeLock(ctx), LockClass.TREE_LOCK, '__set_page_dirty_nobuffers');
  const index = ctx.mem[ctx.m.page(page, PAGE_FIELD.INDEX)]!;
  if (pageCacheLookup(ctx, index) === page) Atomics.or(ctx.mem, flagsAt(ctx, page), PAGE_FLAG.TAG_DIRTY);
  yield spinUnlockIrqrestore(ctx, treeLock(ctx), LockClass.TREE_LOCK);
}

/** Lookups one fault makes before the model calls it a livelock (each lost race means another task made progress). */
export const FIND_RETRIES_MAX = 10_000;

function treeLock(ctx: Kctx): number {
  return fileWord(ctx, FILE_FIELD.TREE_LOCK);
}

/** The frame in slot `index` now, 0 if none (a plain read: callers that act on it hold tree_lock, or recheck under the pte lock). */
export function pageCacheLookup(ctx: Kctx, index: number): number {
  return Atomics.load(ctx.mem, ctx.m.pageCacheSlot(index));
}

/**
 * page_cache_get_speculative: a reference to `frame` unless its count is
 * already 0 (its last reference is going) or it is no longer a page-cache
 * page (freed and reused since the caller read the slot).
 */
function getPageSpeculative(ctx: Kctx, frame: number): boolean {
  const { m, mem } = ctx;
  const at = m.page(frame, PAGE_FIELD.REFCOUNT);
  for (let i = 0; i < 64; i++) {
    const count = Atomics.load(mem, at);
    if (count <= 0 || Atomics.load(mem, m.page(frame, PAGE_FIELD.STATE)) !== PageState.PAGECACHE) return false;
    if (Atomics.compareExchange(mem, at, count, count + 1) !== count) continue;
    if (Atomics.load(mem, m.page(frame, PAGE_FIELD.STATE)) === PageState.PAGECACHE) return true;
    Atomics.sub(mem, at, 1); // reused as another kind of page in between: not ours to count
    return false;
  }
  return false;
}

/** find_get_page: the page at `index` with a reference for the caller, or 0; lockless, as in 2.6.38. */
export function* findGetPage(ctx: Kctx, index: number): Path<number> {
  for (let tries = 0; ; tries++) {
    modelAssert(tries < FIND_RETRIES_MAX, 'find_get_page never settles', () => `file page ${index}`);
    const page = pageCacheLookup(ctx, index);
    if (page === 0) return 0;
    if (getPageSpeculative(ctx, page)) {
      if (pageCacheLookup(ctx, index) === page) return page;
      yield freePage(ctx, page); // it left the cache meanwhile: page_cache_release, and look again
    }
    yield Step.SPIN;
  }
}

/** add_to_page_cache: insert a new page at `index`, the cache taking its own reference; false (-EEXIST) when another task's page got there first. */
function* addToPageCache(ctx: Kctx, page: number, index: number): Path<boolean> {
  const { m, mem } = ctx;
  yield spinLockIrqsave(ctx, treeLock(ctx), LockClass.TREE_LOCK, 'add_to_page_cache');
  const slot = m.pageCacheSlot(index);
  const added = Atomics.load(mem, slot) === 0;
  if (added) {
    mem[m.page(page, PAGE_FIELD.INDEX)] = index;
    mem[m.page(page, PAGE_FIELD.VERSION)] = Atomics.load(mem, m.fileDiskSlot(index)); // readpage: the contents are the disk's
    getPage(ctx, page); // page_cache_get: the page cache's reference
    Atomics.store(mem, slot, page);
    Atomics.add(mem, fileWord(ctx, FILE_FIELD.NR_PAGES), 1);
    ctx.stats.pageCacheAdds++;
  }
  yield spinUnlockIrqrestore(ctx, treeLock(ctx), LockClass.TREE_LOCK);
  return added;
}

/**
 * filemap_fault's lookup: find_get_page, and on a miss page_cache_read (a new
 * page into the cache, our allocation reference dropped) and look again
 * (retry_find). Returns the page with a reference for the caller.
 */
export function* findOrCreatePage(ctx: Kctx, index: number): Path<number> {
  for (let tries = 0; ; tries++) {
    modelAssert(tries < FIND_RETRIES_MAX, 'filemap_fault never finds its page', () => `file page ${index}`);
    const page = yield* findGetPage(ctx, index);
    if (page !== 0) return page;
    const fresh = yield* allocPage(ctx, 'GFP_KERNEL', PageState.PAGECACHE);
    yield addToPageCache(ctx, fresh, index);
    // page_cache_release: in the cache, this keeps the page (the cache's reference stays);
    // after -EEXIST it frees it, never mapped
    yield freePage(ctx, fresh);
  }
}

/**
 * truncate_inode_pages(mapping, from): every page at file index `from` or
 * beyond leaves the page cache. As truncate_inode_pages_range does it: look
 * up PAGEVEC_SIZE pages at a time (each with a reference), take each out of
 * the cache (truncate_complete_page: cancel_dirty_page,
 * remove_from_page_cache under tree_lock, page_cache_release of the cache's
 * reference), then pagevec_release, where a page nobody else holds is freed,
 * and cond_resched. unmap_mapping_range has run first, so no pte maps these
 * pages any more (truncate_inode_page would unmap one that was); a gather
 * that has not flushed yet may still hold one, and frees it after its flush.
 */
export function* truncateInodePages(ctx: Kctx, from: number): Path {
  const { m, mem } = ctx;
  const n = m.size.filePages;
  const accountDirty = mappingCapAccountDirty(ctx);
  let index = Math.max(0, from);
  while (index < n) {
    const vec: number[] = [];
    // pagevec_lookup, lockless: only this truncate removes pages, so a page in its slot keeps the cache's reference while we take ours
    for (; index < n && vec.length < PAGEVEC_SIZE; index++) {
      const page = pageCacheLookup(ctx, index);
      if (page === 0) continue;
      getPage(ctx, page);
      vec.push(page);
    }
    if (vec.length === 0) break;
    for (const page of vec) {
      // a disk file's page is locked against writeback (truncate_inode_pages_range's lock_page); see the module comment for the rest
      if (accountDirty) yield lockPage(ctx, page, 'truncate_inode_pages');
      const mapped = Atomics.load(mem, m.page(page, PAGE_FIELD.MAPCOUNT));
      modelAssert(mapped <= 0, 'page-cache page still mapped after unmap_mapping_range', () => `frame ${page}: mapcount ${mapped}`);
      Atomics.and(mem, m.page(page, PAGE_FIELD.FLAGS), ~(PAGE_FLAG.DIRTY | PAGE_FLAG.TAG_DIRTY)); // cancel_dirty_page; the radix tree's tags go with the slot
      yield spinLockIrqsave(ctx, treeLock(ctx), LockClass.TREE_LOCK, 'remove_from_page_cache');
      const slot = m.pageCacheSlot(mem[m.page(page, PAGE_FIELD.INDEX)]!);
      modelAssert(Atomics.load(mem, slot) === page, 'page-cache slot changed under truncate', () => `frame ${page}`);
      Atomics.store(mem, slot, 0);
      Atomics.sub(mem, fileWord(ctx, FILE_FIELD.NR_PAGES), 1);
      ctx.stats.pageCacheRemovals++;
      yield spinUnlockIrqrestore(ctx, treeLock(ctx), LockClass.TREE_LOCK);
      if (accountDirty) unlockPage(ctx, page);
      yield freePage(ctx, page); // page_cache_release: never the last reference, pagevec_lookup holds one
    }
    yield freePages(ctx, vec, vec.length); // pagevec_release
    yield condResched(ctx);
  }
  // then the filesystem frees the blocks past the new size (every page there was locked and removed first,
  // so no writepage lands after this): a page read there again is zeros, data version 0
  if (accountDirty) for (let i = Math.max(0, from); i < n; i++) Atomics.store(mem, m.fileDiskSlot(i), 0);
}
