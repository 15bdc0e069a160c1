// Writeback of the file's dirty pages, 2.6.38's way (mm/page-writeback.c,
// mm/rmap.c, mm/msync.c): write_cache_pages visits the pages tagged dirty,
// locks each, and clear_page_dirty_for_io first runs page_mkclean, which
// finds every pte that maps the page through the file's i_mmap and, under
// its pte lock, clears it, flushes it from every TLB (ptep_clear_flush_notify,
// flush_tlb_page) and puts it back write-protected and clean; a dirty pte
// found there dirties the page again, and only then is PG_dirty tested and
// cleared and the page written. Invariant: when page_mkclean has finished
// with a page, no pte maps it writable or dirty and no TLB holds a writable
// entry for it, so the next write through any mapping takes the write-protect
// fault (do_wp_page), which dirties the page again; the data version written
// to the disk is the page's at the moment of the write.
//
// Departures: writepage is synchronous (set_page_writeback, the I/O and
// end_page_writeback happen before unlock_page), so PG_writeback is never
// seen by anyone and the sync waits on it vanish; lock_page sleeps by
// polling (see filemap.ts).

import { FILE_FIELD, MAX_VMAS, MM_FIELD, PAGE_FIELD, PAGE_FLAG, PTE, VMA_FLAGS, pteFrame, ptePresent } from '../machine/layout.ts';
import { Step, type Path } from '../machine/step.ts';
import { mark } from '../machine/marks.ts';
import { modelAssert } from '../machine/errors.ts';
import { fnEnter, type Kctx } from '../sync/context.ts';
import { spinLock, spinUnlock, spinLockIrqsave, spinUnlockIrqrestore, LockClass } from '../sync/spinlock.ts';
import { condResched } from '../sync/preempt.ts';
import { downRead, upRead } from '../sync/rwsem.ts';
import { findVma } from './vma.ts';
import { flushTlbPage } from '../cpu/tlbflush.ts';
import { freePage } from '../page/alloc.ts';
import { lookupPteTable, pteIndex, pteLockptr } from './pgtable.ts';
import { fileWord, iMmapLock, iMmapUnlock, iMmapVmas, iSizeRead } from './rmap.ts';
import { flagsAt } from './filemap.ts';
import { findGetPage, pageCacheLookup, lockPage, unlockPage, setPageDirty, mappingCapAccountDirty } from './filemap.ts';

/** TestClearPageDirty */
function testClearPageDirty(ctx: Kctx, page: number): boolean {
  return (Atomics.and(ctx.mem, flagsAt(ctx, page), ~PAGE_FLAG.DIRTY) & PAGE_FLAG.DIRTY) !== 0;
}

/**
 * page_mkclean_one: under the pte lock, a pte that maps the page writable
 * or dirty is cleared and flushed from every TLB (ptep_clear_flush_notify),
 * then set again write-protected and clean. Returns 1 if it was.
 */
function* pageMkcleanOne(ctx: Kctx, page: number, mm: number, vpn: number): Path<number> {
  const table = lookupPteTable(ctx, mm, vpn); // page_check_address: no page table, no pte
  if (table === 0) return 0;
  const ptl = pteLockptr(ctx, table);
  yield spinLock(ctx, ptl, LockClass.PTE_LOCK, 'page_mkclean_one');
  ctx.ptlHeld++;
  const at = ctx.m.ptEntry(table, pteIndex(vpn));
  const pte = Atomics.load(ctx.mem, at);
  let cleaned = 0;
  if (ptePresent(pte) && pteFrame(pte) === page && (pte & (PTE.DIRTY | PTE.WRITE)) !== 0) {
    const entry = Atomics.exchange(ctx.mem, at, 0); // ptep_clear_flush_notify: the hardware can no longer set D behind us
    yield Step.PTE;
    if (!ctx.traits.mkcleanNoFlush) yield flushTlbPage(ctx, mm, vpn);
    Atomics.store(ctx.mem, at, entry & ~(PTE.WRITE | PTE.DIRTY)); // pte_wrprotect, pte_mkclean, set_pte_at
    yield Step.PTE;
    ctx.stats.mkcleanPtes++;
    cleaned = 1;
  }
  ctx.ptlHeld--;
  yield spinUnlock(ctx, ptl, LockClass.PTE_LOCK);
  return cleaned;
}

/**
 * page_mkclean -> page_mkclean_file: every vma in i_mmap that maps the
 * page's file index, under the i_mmap lock. Only a MAP_SHARED vma can map a
 * page-cache page (a private one maps anonymous copies), and
 * page_check_address finds no pte of this page in any other. Returns
 * whether some pte was writable or dirty.
 */
export function* pageMkclean(ctx: Kctx, page: number): Path<boolean> {
  const { m, mem } = ctx;
  if (Atomics.load(mem, m.page(page, PAGE_FIELD.MAPCOUNT)) <= 0) return false; // page_mapped
  const caller = fnEnter(ctx, 'page_mkclean');
  const busyAt = m.page(page, PAGE_FIELD.MKCLEAN_BUSY);
  Atomics.add(mem, busyAt, 1);
  const index = mem[m.page(page, PAGE_FIELD.INDEX)]!;
  let cleaned = 0;
  yield iMmapLock(ctx, 'page_mkclean_file');
  for (const v of iMmapVmas(ctx, index)) {
    if (index < v.pgoff || index >= v.pgoff + v.end - v.start) continue; // vma_prio_tree_foreach(pgoff, pgoff)
    cleaned += yield* pageMkcleanOne(ctx, page, v.mm, v.start + index - v.pgoff);
  }
  yield iMmapUnlock(ctx);
  Atomics.sub(mem, busyAt, 1);
  ctx.fn = caller;
  return cleaned > 0;
}

/**
 * clear_page_dirty_for_io, with the page locked: page_mkclean first, a dirty
 * pte dirtying the page again, then TestClearPageDirty. Returns whether the
 * page is to be written.
 */
export function* clearPageDirtyForIo(ctx: Kctx, page: number): Path<boolean> {
  modelAssert((Atomics.load(ctx.mem, flagsAt(ctx, page)) & PAGE_FLAG.LOCKED) !== 0, 'BUG_ON(!PageLocked(page))', () => `frame ${page}`);
  if (mappingCapAccountDirty(ctx)) {
    if (yield* pageMkclean(ctx, page)) {
      mark('mkcleanRedirty');
      yield setPageDirty(ctx, page);
    }
  }
  return testClearPageDirty(ctx, page);
}

/**
 * ->writepage, synchronous: set_page_writeback (the dirty tag goes unless
 * the page was dirtied again), the I/O, which writes the page's data version
 * as it is now, and end_page_writeback.
 */
export function* writepage(ctx: Kctx, page: number, index: number): Path {
  const { m, mem } = ctx;
  const treeLock = fileWord(ctx, FILE_FIELD.TREE_LOCK);
  yield spinLockIrqsave(ctx, treeLock, LockClass.TREE_LOCK, 'test_set_page_writeback');
  if ((Atomics.load(mem, flagsAt(ctx, page)) & PAGE_FLAG.DIRTY) === 0) Atomics.and(mem, flagsAt(ctx, page), ~PAGE_FLAG.TAG_DIRTY);
  yield spinUnlockIrqrestore(ctx, treeLock, LockClass.TREE_LOCK);
  Atomics.store(mem, m.fileDiskSlot(index), Atomics.load(mem, m.page(page, PAGE_FIELD.VERSION)));
  Atomics.add(mem, fileWord(ctx, FILE_FIELD.PAGES_WRITTEN), 1);
  ctx.stats.pagesWrittenBack++;
  yield Step.PTE;
}

/**
 * write_cache_pages over file pages [start, end): each page tagged dirty
 * (pagevec_lookup_tag), with a reference, locked; skipped if truncate took
 * it out of the cache meanwhile (page->mapping != mapping); written if
 * clear_page_dirty_for_io says so and it is below i_size.
 */
export function* writeCachePages(ctx: Kctx, start: number, end: number): Path {
  const caller = fnEnter(ctx, 'write_cache_pages');
  const last = Math.min(end, ctx.m.size.filePages);
  for (let index = Math.max(0, start); index < last; index++) {
    const seen = pageCacheLookup(ctx, index);
    if (seen === 0 || (Atomics.load(ctx.mem, flagsAt(ctx, seen)) & PAGE_FLAG.TAG_DIRTY) === 0) continue;
    const page = yield* findGetPage(ctx, index);
    if (page === 0) continue;
    yield lockPage(ctx, page, 'write_cache_pages');
    if (pageCacheLookup(ctx, index) === page && (yield* clearPageDirtyForIo(ctx, page)) && index < iSizeRead(ctx)) {
      yield writepage(ctx, page, index);
    }
    unlockPage(ctx, page);
    yield freePage(ctx, page); // pagevec_release
    yield condResched(ctx);
  }
  ctx.fn = caller;
}

/** vfs_fsync of the file (2.6.38: filemap_write_and_wait_range over the whole file, then the fs's fsync, which has nothing more to write here). */
export function* vfsFsync(ctx: Kctx): Path {
  ctx.stats.fsyncs++;
  if (!mappingCapAccountDirty(ctx)) return; // tmpfs: noop_fsync
  yield writeCachePages(ctx, 0, ctx.m.size.filePages);
}

/**
 * msync(start, len, MS_SYNC), 2.6.38: under mmap_sem held for read, walk
 * the vmas of the range; for each MAP_SHARED file vma drop mmap_sem and
 * vfs_fsync the whole file, then look the rest of the range up again. A
 * hole in the range is -ENOMEM after the walk, as in the kernel.
 */
export function* sysMsync(ctx: Kctx, mm: number, start: number, end: number): Path {
  const sem = ctx.m.mm(mm, MM_FIELD.MMAP_SEM);
  const caller = fnEnter(ctx, 'sys_msync');
  yield downRead(ctx, sem, 'sys_msync');
  let at = start;
  for (let walked = 0; at < end; walked++) {
    modelAssert(walked <= MAX_VMAS * 2, 'msync walks more vmas than an mm holds', () => `mm ${mm} [${start}, ${end})`);
    const vma = findVma(ctx, mm, at);
    if (!vma || vma.start >= end) break;
    at = vma.end;
    if ((vma.flags & (VMA_FLAGS.FILE | VMA_FLAGS.SHARED)) === (VMA_FLAGS.FILE | VMA_FLAGS.SHARED)) {
      yield upRead(ctx, sem); // get_file, up_read
      yield vfsFsync(ctx);
      if (at >= end) {
        ctx.fn = caller;
        return;
      }
      yield downRead(ctx, sem, 'sys_msync');
    }
  }
  yield upRead(ctx, sem);
  ctx.fn = caller;
}
