// User accesses and the anonymous page fault. A user access goes through
// this cpu's TLB; a miss walks the page tables as the hardware does (no
// locks, setting the accessed and dirty bits) and fills the TLB; a missing
// or read-only pte is a page fault, handled under mmap_sem held for read; a
// file page at or beyond i_size is SIGBUS (reported like a segfault).
// Every TLB hit is checked: the frame behind it must still be the one the
// entry was filled from (STALE_TLB_ACCESS otherwise): the same life of the
// frame (its generation), still owned by this mm for an anonymous page, still
// a page-cache page (owned by the file, mapped by any mm) for a shared one.
// The TLB caches the dirty bit, as x86 does: only an entry that holds both
// the write and the dirty bit lets a write through; a writable entry without
// D makes the cpu walk the page table to set D in the pte, and fault if the
// pte is no longer present or writable. A write that does go through an
// entry while the pte behind it is write-protected is WRITE_AFTER_WRPROTECT
// unless an mprotect or page_mkclean that removes the permission is still
// under way (its flush is what takes the entry away).
// Every user write bumps the page's data version.

import { MM_FIELD, PAGE_FIELD, PageState, PTE, VMA_FLAGS, mkPte, pteFrame, ptePresent } from '../machine/layout.ts';
import { call, Step, type Path } from '../machine/step.ts';
import { mark } from '../machine/marks.ts';
import { ModelAssert, modelAssert } from '../machine/errors.ts';
import { charge, fnEnter, type Kctx } from '../sync/context.ts';
import { spinLock, spinUnlock, LockClass } from '../sync/spinlock.ts';
import { downRead, upRead } from '../sync/rwsem.ts';
import { tlbLookup, tlbFill } from '../cpu/tlb.ts';
import { flushTlbPage } from '../cpu/tlbflush.ts';
import { allocPage, freePage, getPage, ZERO_PAGE } from '../page/alloc.ts';
import { allocPteTable, lookupPteTable, pteIndex, pteLockptr, readEntry } from './pgtable.ts';
import { findVma, type Vma } from './vma.ts';
import { iSizeRead, vmaPgoff } from './rmap.ts';
import { findOrCreatePage, pageCacheLookup, setPageDirty, lockPage, unlockPage, waitOnPageLocked, mappingCapAccountDirty, FIND_RETRIES_MAX } from './filemap.ts';

export type AccessResult = 'ok' | 'segv';

/** The hardware walker: the present pte for vpn, with A (and D) set, or 0. */
function walk(ctx: Kctx, mm: number, vpn: number, write: boolean): number {
  const table = lookupPteTable(ctx, mm, vpn);
  if (table === 0) return 0;
  const at = ctx.m.ptEntry(table, pteIndex(vpn));
  for (;;) {
    const pte = Atomics.load(ctx.mem, at);
    if (!ptePresent(pte) || (write && (pte & PTE.WRITE) === 0)) return 0;
    const want = pte | PTE.ACCESSED | (write ? PTE.DIRTY : 0);
    if (want === pte || Atomics.compareExchange(ctx.mem, at, pte, want) === pte) return want;
  }
}

function checkTlbHit(ctx: Kctx, mm: number, vpn: number, pte: number, gen: number): void {
  const frame = pteFrame(pte);
  if (frame === ZERO_PAGE) return;
  const { m, mem } = ctx;
  const state = Atomics.load(mem, m.page(frame, PAGE_FIELD.STATE));
  const owner = mem[m.page(frame, PAGE_FIELD.MM)]! - 1;
  const nowGen = Atomics.load(mem, m.page(frame, PAGE_FIELD.GEN));
  // a page-cache page belongs to the file: any mm may map it; one truncated but still held by a gather is still the same page
  const ours = state === PageState.PAGECACHE || (state === PageState.ANON && owner === mm);
  if (!ours || nowGen !== gen) {
    const what = state === PageState.FREE ? 'free' : nowGen !== gen ? 'reallocated' : `owned by mm ${owner}`;
    ctx.oracle.report('STALE_TLB_ACCESS', { cpu: ctx.cpu, task: ctx.task, mm, address: vpn * 4096, frame }, `vpn ${vpn} read through a TLB entry to frame ${frame}, now ${what}`);
  }
}

/**
 * The kernel restarts a faulting instruction for ever; the model gives up
 * here. A write to a shared page of a disk file can fault again and again
 * while others zap it (MADV_DONTNEED) and write-protect it (msync's
 * page_mkclean) between the fault and the retried access.
 */
const FAULT_ATTEMPTS_MAX = 64;

/** A load or store by the current task at vpn. */
export function* userAccess(ctx: Kctx, vpn: number, write: boolean): Path<AccessResult> {
  const mm = ctx.mm;
  modelAssert(mm >= 0, 'user access without an mm', () => `task ${ctx.task}`);
  ctx.stats.userAccesses++;
  for (let attempt = 0; attempt < FAULT_ATTEMPTS_MAX; attempt++) {
    const hit = tlbLookup(ctx.m, ctx.cpu, mm, vpn);
    if (hit && (!write || (hit.pte & WRITE_DIRTY) === WRITE_DIRTY)) {
      ctx.stats.tlbHits++;
      checkTlbHit(ctx, mm, vpn, hit.pte, hit.gen);
      if (write) checkWriteThroughTlb(ctx, mm, vpn, pteFrame(hit.pte));
      touchData(ctx, pteFrame(hit.pte), write);
      yield Step.USER;
      return 'ok';
    }
    if (hit && write && (hit.pte & PTE.WRITE) !== 0) {
      mark('dirtyBitWalk');
      ctx.stats.tlbDirtyWalks++;
    } else ctx.stats.tlbMisses++;
    const pte = walk(ctx, mm, vpn, write);
    if (pte !== 0) {
      const frame = pteFrame(pte);
      tlbFill(ctx.m, ctx.cpu, mm, vpn, pte, Atomics.load(ctx.mem, ctx.m.page(frame, PAGE_FIELD.GEN)));
      charge(ctx, ctx.costs.tlbNs); // the hardware's page walk
      ctx.trace?.instant('tlb fill', 'tlb', ctx.now(), { vpn, frame });
      touchData(ctx, frame, write);
      yield Step.USER; // the hardware walk happens in user mode
      return 'ok';
    }
    const caller = fnEnter(ctx, 'do_page_fault');
    charge(ctx, ctx.costs.pageFaultNs);
    const r = yield* call(handleMmFault(ctx, mm, vpn, write));
    ctx.fn = caller;
    if (r === 'segv') {
      ctx.stats.segfaults++;
      return 'segv';
    }
  }
  throw new ModelAssert('fault does not resolve', `cpu ${ctx.cpu}: vpn ${vpn} still faulting after ${FAULT_ATTEMPTS_MAX} attempts`);
}

const WRITE_DIRTY = PTE.WRITE | PTE.DIRTY;

/**
 * A write went through a writable, dirty TLB entry for `frame`: if the pte
 * behind it still maps that frame but write-protected, some mprotect or
 * page_mkclean took the permission away, and unless one is still under way
 * (before its flush) the entry should be gone.
 */
function checkWriteThroughTlb(ctx: Kctx, mm: number, vpn: number, frame: number): void {
  const { m, mem } = ctx;
  const table = lookupPteTable(ctx, mm, vpn);
  if (table === 0) return;
  const pte = readEntry(ctx, table, pteIndex(vpn));
  if (!ptePresent(pte) || pteFrame(pte) !== frame || (pte & PTE.WRITE) !== 0) return;
  if (Atomics.load(mem, m.mm(mm, MM_FIELD.WRPROTECT_BUSY)) > 0 || Atomics.load(mem, m.page(frame, PAGE_FIELD.MKCLEAN_BUSY)) > 0) return;
  const version = Atomics.load(mem, m.page(frame, PAGE_FIELD.VERSION));
  const index = Atomics.load(mem, m.page(frame, PAGE_FIELD.STATE)) === PageState.PAGECACHE ? mem[m.page(frame, PAGE_FIELD.INDEX)]! : -1;
  const disk = index >= 0 ? `, on disk ${Atomics.load(mem, m.fileDiskSlot(index))}` : '';
  ctx.oracle.report(
    'WRITE_AFTER_WRPROTECT',
    { cpu: ctx.cpu, task: ctx.task, mm, address: vpn * 4096, frame },
    `vpn ${vpn} written through a writable TLB entry to frame ${frame} while its pte is read-only and no mprotect or page_mkclean is under way (data version ${version} -> ${version + 1}${disk})`,
  );
}

function touchData(ctx: Kctx, frame: number, write: boolean): void {
  if (!write || frame === ZERO_PAGE) return;
  const at = ctx.m.page(frame, PAGE_FIELD.DATA);
  Atomics.store(ctx.mem, at, ((ctx.task + 1) << 20) | ((ctx.mem[at]! + 1) & 0xfffff));
  Atomics.add(ctx.mem, ctx.m.page(frame, PAGE_FIELD.VERSION), 1);
}

/**
 * handle_mm_fault: do_anonymous_page, or do_wp_page on the zero page. A
 * MAP_PRIVATE file vma is handled the same way: a read maps the zero page,
 * standing for the clean page-cache page (never freed by a zap, as the page
 * cache keeps it), and a write copies it to a private page. A MAP_SHARED
 * vma maps the page-cache page itself (doSharedFault).
 */
export function* handleMmFault(ctx: Kctx, mm: number, vpn: number, write: boolean): Path<AccessResult> {
  ctx.stats.pageFaults++;
  const sem = ctx.m.mm(mm, MM_FIELD.MMAP_SEM);
  yield downRead(ctx, sem, 'do_page_fault');
  const vma = findVma(ctx, mm, vpn);
  if (!vma || vma.start > vpn || (write && (vma.flags & VMA_FLAGS.WRITE) === 0)) {
    yield upRead(ctx, sem);
    return 'segv';
  }
  // filemap_fault: a file page at or beyond i_size is VM_FAULT_SIGBUS
  const file = (vma.flags & VMA_FLAGS.FILE) !== 0;
  const fileIndex = file ? vpn - vma.start + vmaPgoff(ctx, mm, vma) : -1;
  if (file && fileIndex >= iSizeRead(ctx)) {
    yield upRead(ctx, sem);
    return 'segv';
  }
  if ((vma.flags & VMA_FLAGS.SHARED) !== 0) {
    const r = yield* doSharedFault(ctx, mm, vma, vpn, fileIndex, write);
    yield upRead(ctx, sem);
    return r;
  }
  const table = yield* allocPteTable(ctx, mm, vpn);
  const at = ctx.m.ptEntry(table, pteIndex(vpn));
  const ptl = pteLockptr(ctx, table);
  const old = readEntry(ctx, table, pteIndex(vpn));
  if (old === 0 || (write && pteFrame(old) === ZERO_PAGE)) {
    // allocate before taking the pte lock, as do_anonymous_page and do_wp_page do
    const page = write ? yield* allocPage(ctx, 'GFP_KERNEL', PageState.ANON) : ZERO_PAGE;
    yield spinLock(ctx, ptl, LockClass.PTE_LOCK, old === 0 ? 'do_anonymous_page' : 'do_wp_page');
    const now = Atomics.load(ctx.mem, at);
    let installed = false;
    // i_size again under the pte lock: it stands for the page-cache page lock __do_fault holds while it
    // installs a COWed page, so a truncate that zaps this pte after us sees the page, and one that zapped
    // it before us has set i_size first and we see that
    const beyondEof = file && fileIndex >= iSizeRead(ctx);
    if (now === old && !beyondEof) {
      if (old !== 0) {
        // ptep_clear_flush: the zero-page translation goes from every TLB (flush_tlb_page) before the new page is mapped
        Atomics.store(ctx.mem, at, 0);
        yield Step.PTE;
        yield flushTlbPage(ctx, mm, vpn);
      }
      if (page !== ZERO_PAGE) {
        ctx.mem[ctx.m.page(page, PAGE_FIELD.MM)] = mm + 1;
        ctx.mem[ctx.m.page(page, PAGE_FIELD.INDEX)] = vpn;
        ctx.mem[ctx.m.page(page, PAGE_FIELD.MAPCOUNT)] = 1;
        Atomics.add(ctx.mem, ctx.m.mm(mm, MM_FIELD.RSS_ANON), 1);
      }
      Atomics.store(ctx.mem, at, mkPte(page, PTE.PRESENT | PTE.ACCESSED | (write ? PTE.WRITE | PTE.DIRTY : 0)));
      installed = true;
      yield Step.PTE;
    }
    yield spinUnlock(ctx, ptl, LockClass.PTE_LOCK);
    if (!installed && page !== ZERO_PAGE) yield freePage(ctx, page);
    if (beyondEof) {
      yield upRead(ctx, sem);
      return 'segv';
    }
  }
  yield upRead(ctx, sem);
  return 'ok';
}

/**
 * do_linear_fault -> __do_fault for a MAP_SHARED vma, on a pte that is none:
 * filemap_fault finds the page-cache page of `index` (or reads it into the
 * cache) with a reference, which the pte keeps once it is installed
 * (page_add_file_rmap, MM_FILEPAGES). The pte is made with the vma's
 * vm_page_prot, writable in a shared writable mapping (a file with no
 * write-notify, as tmpfs's), and dirty on a write fault, which also sets
 * PG_dirty (set_page_dirty_balance). Under the pte lock, where the kernel
 * still holds the page lock, the page must still be the one in the cache
 * (filemap_fault's page->mapping check: truncate may have taken it out, and
 * the file grown again) and below i_size (SIGBUS otherwise); a page that is
 * not installed is released (page_cache_release), which frees it if
 * truncate already dropped the cache's reference, and the lookup is made
 * again. Truncate sets i_size before it unmaps and unmaps before it takes
 * pages out of the cache, so a page that passes both checks is either zapped
 * by that truncate's unmap or was never in its way.
 */
function* doSharedFault(ctx: Kctx, mm: number, vma: Vma, vpn: number, index: number, write: boolean): Path<AccessResult> {
  const { m, mem } = ctx;
  const table = yield* allocPteTable(ctx, mm, vpn);
  const at = m.ptEntry(table, pteIndex(vpn));
  const ptl = pteLockptr(ctx, table);
  // a disk file has write-notify: a read fault maps the page read-only even in a writable mapping, so the
  // first write takes do_wp_page and dirties the page; __do_fault holds the page lock (filemap_fault's
  // find_lock_page) from the lookup to set_page_dirty
  const diskFile = mappingCapAccountDirty(ctx);
  for (let tries = 0; ; tries++) {
    modelAssert(tries < FIND_RETRIES_MAX, 'a shared fault never installs its page', () => `mm ${mm} vpn ${vpn} file page ${index}`);
    const orig = Atomics.load(mem, at);
    if (orig !== 0) {
      // another thread's fault mapped it meanwhile, or a write found it write-protected (write-notify, page_mkclean, mprotect)
      if (write && ptePresent(orig) && (orig & PTE.WRITE) === 0 && (vma.flags & VMA_FLAGS.WRITE) !== 0) return yield* doWpPageShared(ctx, mm, vpn, table, orig);
      return 'ok';
    }
    const page = yield* findOrCreatePage(ctx, index);
    if (diskFile) yield lockPage(ctx, page, 'filemap_fault');
    yield spinLock(ctx, ptl, LockClass.PTE_LOCK, '__do_fault');
    const now = Atomics.load(mem, at);
    const beyondEof = index >= iSizeRead(ctx);
    const cached = pageCacheLookup(ctx, index) === page;
    let installed = false;
    if (now === 0 && !beyondEof && cached) {
      Atomics.add(mem, m.page(page, PAGE_FIELD.MAPCOUNT), 1); // page_add_file_rmap
      Atomics.add(mem, m.mm(mm, MM_FIELD.RSS_FILE), 1);
      const writable = (vma.flags & VMA_FLAGS.WRITE) !== 0 && (write || !diskFile);
      Atomics.store(mem, at, mkPte(page, PTE.PRESENT | PTE.ACCESSED | (writable ? PTE.WRITE : 0) | (write ? PTE.DIRTY : 0)));
      installed = true;
      yield Step.PTE;
    }
    yield spinUnlock(ctx, ptl, LockClass.PTE_LOCK);
    if (installed) {
      if (write) yield setPageDirty(ctx, page);
      if (diskFile) unlockPage(ctx, page);
      return 'ok';
    }
    if (diskFile) unlockPage(ctx, page);
    yield freePage(ctx, page); // page_cache_release
    if (beyondEof) return 'segv';
    if (now !== 0) continue; // mapped meanwhile: look at the pte again
    // not in the cache any more (truncated, and the file grew again): retry_find
  }
}

/**
 * do_wp_page on a shared writable mapping, the reuse path: under the pte
 * lock, if the pte is still the one that faulted, it becomes young, dirty
 * and writable (ptep_set_access_flags, which on x86 of 2.6.38 flushes the
 * page from every TLB when it changed the pte); after the unlock, the page
 * is dirtied (set_page_dirty_balance) once nobody holds its lock, so a
 * writeback between its page_mkclean and TestClearPageDirty cannot clean a
 * page whose new dirty pte it has already walked past.
 */
function* doWpPageShared(ctx: Kctx, mm: number, vpn: number, table: number, orig: number): Path<AccessResult> {
  const { m, mem } = ctx;
  const at = m.ptEntry(table, pteIndex(vpn));
  const ptl = pteLockptr(ctx, table);
  const page = pteFrame(orig);
  yield spinLock(ctx, ptl, LockClass.PTE_LOCK, 'do_wp_page');
  if (Atomics.load(mem, at) !== orig) {
    // pte_same failed: someone changed it meanwhile, and the access goes again
    yield spinUnlock(ctx, ptl, LockClass.PTE_LOCK);
    return 'ok';
  }
  mark('wpFaultReuse');
  getPage(ctx, page); // dirty_page = old_page; get_page(dirty_page)
  Atomics.store(mem, at, orig | PTE.ACCESSED | PTE.DIRTY | PTE.WRITE); // pte_mkyoung, maybe_mkwrite(pte_mkdirty())
  yield Step.PTE;
  yield flushTlbPage(ctx, mm, vpn);
  yield spinUnlock(ctx, ptl, LockClass.PTE_LOCK);
  ctx.stats.wpFaults++;
  yield waitOnPageLocked(ctx, page, 'do_wp_page');
  if (!ctx.traits.wpFaultNoDirty) yield setPageDirty(ctx, page);
  yield freePage(ctx, page); // put_page
  return 'ok';
}
