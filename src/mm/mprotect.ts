// sys_mprotect between read-only and read-write for whole vmas (mm/mprotect.c,
// 2.6.38): under mmap_sem held for write, the vma's flags change first, then
// change_protection rewrites every present pte of the range under its pte
// lock, then one flush_tlb_range, which on x86 of that era is flush_tlb_mm.
// Invariant: when mprotect returns, no TLB anywhere keeps a writable entry
// for a pte it made read-only, and a later write from user space faults and,
// the vma no longer being VM_WRITE, gets SIGSEGV. While one that removes
// write permission is under way, the mm's WRPROTECT_BUSY count says so, and
// a write through a stale writable entry is not yet WRITE_AFTER_WRPROTECT.
// Making a shared mapping of a disk file writable again gives the write bit
// only to dirty ptes (dirty_accountable: the vma wants write-notify, so a
// clean page's first write must still fault and dirty the page).

import { MM_FIELD, PTE, VMA_FIELD, VMA_FLAGS, pteFrame } from '../machine/layout.ts';
import { Step, type Path } from '../machine/step.ts';
import { BadInput } from '../machine/errors.ts';
import { mark } from '../machine/marks.ts';
import { fnEnter, type Kctx } from '../sync/context.ts';
import { spinLock, spinUnlock, LockClass } from '../sync/spinlock.ts';
import { downWrite, upWrite } from '../sync/rwsem.ts';
import { flushTlbMm, flushTlbMmRange } from '../cpu/tlbflush.ts';
import { decTlbFlushPending, incTlbFlushPending, mmTlbFlushNested } from '../gather/generic.ts';
import { ZERO_PAGE } from '../page/alloc.ts';
import { addrEnd, pgdFrame, pgdIndex, pudIndex, pmdIndex, pteIndex, pteLockptr, readEntry, PMD_PAGES, PUD_PAGES, PGD_PAGES } from './pgtable.ts';
import { vmas, type Vma } from './vma.ts';
import { mappingCapAccountDirty } from './filemap.ts';

/**
 * pte_modify with the vma's new vm_page_prot. Read-only clears the write
 * bit. Read-write sets it on present ptes of anonymous pages (never on the
 * zero page, which a write must still copy): for a private mapping the
 * kernel's PAGE_COPY leaves the ptes read-only and the next write takes
 * do_wp_page's reuse path instead, which this model's fault handler lacks;
 * the outcome for user space is the same, a writable page.
 */
function pteModify(pte: number, writable: boolean, dirtyAccountable: boolean): number {
  if (!writable) return pte & ~PTE.WRITE;
  if (dirtyAccountable) return (pte & PTE.DIRTY) !== 0 ? pte | PTE.WRITE : pte;
  return pteFrame(pte) === ZERO_PAGE ? pte : pte | PTE.WRITE;
}

/** The ptes change_protection changed (its `pages`), and the span of those whose old entry a TLB must lose (6.x's tlb_flush_pte_range when pte_needs_flush). */
interface Changed {
  pages: number;
  flushStart: number;
  flushEnd: number;
}

/** change_pte_range: ptep_modify_prot_start clears the pte (so hardware A/D updates are not lost), commit writes it back. */
function* changePteRange(ctx: Kctx, table: number, addr: number, end: number, writable: boolean, dirtyAccountable: boolean, changed: Changed): Path {
  const ptl = pteLockptr(ctx, table);
  yield spinLock(ctx, ptl, LockClass.PTE_LOCK, 'change_pte_range');
  ctx.ptlHeld++;
  // arch_enter_lazy_mmu_mode: nothing on native hardware
  do {
    const at = ctx.m.ptEntry(table, pteIndex(addr));
    if ((Atomics.load(ctx.mem, at) & PTE.PRESENT) === 0) continue;
    const ptent = Atomics.exchange(ctx.mem, at, 0); // ptep_modify_prot_start
    const modified = pteModify(ptent, writable, dirtyAccountable);
    Atomics.store(ctx.mem, at, modified); // ptep_modify_prot_commit
    changed.pages++;
    if ((ptent & PTE.WRITE & ~modified) !== 0) {
      changed.flushStart = Math.min(changed.flushStart, addr);
      changed.flushEnd = Math.max(changed.flushEnd, addr + 1);
    }
    yield Step.PTE;
  } while ((addr += 1) !== end);
  ctx.ptlHeld--;
  yield spinUnlock(ctx, ptl, LockClass.PTE_LOCK);
}

function* changePmdRange(ctx: Kctx, pmdTable: number, addr: number, end: number, writable: boolean, dirtyAccountable: boolean, changed: Changed): Path {
  let next: number;
  do {
    next = addrEnd(addr, end, PMD_PAGES);
    const e = readEntry(ctx, pmdTable, pmdIndex(addr));
    if (e === 0) continue; // pmd_none_or_clear_bad
    yield changePteRange(ctx, pteFrame(e), addr, next, writable, dirtyAccountable, changed);
  } while ((addr = next) !== end);
}

function* changePudRange(ctx: Kctx, pudTable: number, addr: number, end: number, writable: boolean, dirtyAccountable: boolean, changed: Changed): Path {
  let next: number;
  do {
    next = addrEnd(addr, end, PUD_PAGES);
    const e = readEntry(ctx, pudTable, pudIndex(addr));
    if (e === 0) continue;
    yield changePmdRange(ctx, pteFrame(e), addr, next, writable, dirtyAccountable, changed);
  } while ((addr = next) !== end);
}

/** change_protection(vma, start, end, newprot, dirty_accountable): the walk, then one flush for the whole range. */
function* changeProtection(ctx: Kctx, mm: number, start: number, end: number, writable: boolean, dirtyAccountable: boolean): Path {
  const pgd = pgdFrame(ctx, mm);
  let addr = start;
  let next: number;
  const changed: Changed = { pages: 0, flushStart: Number.MAX_SAFE_INTEGER, flushEnd: 0 };
  // flush_cache_range: nothing on x86. From 4.13 (16af97dc5a89) the walk counts in mm->tlb_flush_pending, so a
  // zap of the same mm finishing meanwhile sees itself nested (99baac21e458); from 6.0 (4a18419f71cd) the
  // count is the mmu_gather's, whose tlb_finish_mmu makes the same check
  const pending = ctx.traits.design === 'generic' && ctx.traits.generic.nestedFlush;
  if (pending) incTlbFlushPending(ctx, mm);
  do {
    next = addrEnd(addr, end, PGD_PAGES);
    const e = readEntry(ctx, pgd, pgdIndex(addr));
    if (e === 0) continue;
    yield changePudRange(ctx, pteFrame(e), addr, next, writable, dirtyAccountable, changed);
  } while ((addr = next) !== end);
  if (!ctx.traits.mprotectNoFlush) {
    if (ctx.traits.design !== 'generic') {
      yield flushTlbMm(ctx, mm); // flush_tlb_range(vma, start, end): x86 before 3.6 flushes the whole mm, after every pte lock is dropped
    } else if (ctx.traits.generic.flushCeiling !== 'strides') {
      if (changed.pages > 0) yield flushTlbMmRange(ctx, mm, start, end, 0, false); // flush_tlb_range when any pte changed
    } else {
      // 4a18419f71cd: tlb_end_vma flushes the mmu_gather's range; tlb_finish_mmu then finds it nested or not
      if (changed.flushEnd > 0) yield flushTlbMmRange(ctx, mm, changed.flushStart, changed.flushEnd, 0, false);
      if (mmTlbFlushNested(ctx, mm)) {
        mark('mprotectNested');
        yield flushTlbMmRange(ctx, mm, 0, -1, 0, true); // 7a30df49f63a: fullmm, freed_tables
      }
    }
  }
  if (pending) decTlbFlushPending(ctx, mm);
}

/** mprotect_fixup for a whole vma: new vm_flags first, so a fault racing the pte walk already sees them. */
function* mprotectFixup(ctx: Kctx, mm: number, vma: Vma, writable: boolean): Path {
  const newflags = writable ? vma.flags | VMA_FLAGS.WRITE : vma.flags & ~VMA_FLAGS.WRITE;
  if (newflags === vma.flags) return;
  Atomics.store(ctx.mem, ctx.m.vma(mm, vma.slot, VMA_FIELD.FLAGS), newflags);
  vma.flags = newflags;
  // vma_wants_writenotify: a shared writable mapping of a file with dirty accounting
  const shared = VMA_FLAGS.FILE | VMA_FLAGS.SHARED;
  const dirtyAccountable = writable && (newflags & shared) === shared && mappingCapAccountDirty(ctx);
  // mmu_notifier_invalidate_range_start/end: no notifiers registered in this model
  yield changeProtection(ctx, mm, vma.start, vma.end, writable, dirtyAccountable);
}

/**
 * mprotect(start, len, PROT_READ or PROT_READ|PROT_WRITE) over whole
 * mappings, with mmap_sem held for write. Splitting a vma is refused, as
 * doMunmap refuses it; a hole in the range is -ENOMEM in the kernel and
 * refused here.
 */
export function* mprotectRange(ctx: Kctx, mm: number, start: number, end: number, writable: boolean): Path {
  if (!(end > start)) throw new BadInput(`mprotect [${start}, ${end}) is empty`);
  const sem = ctx.m.mm(mm, MM_FIELD.MMAP_SEM);
  const caller = fnEnter(ctx, 'sys_mprotect');
  yield downWrite(ctx, sem, 'sys_mprotect');
  const list = vmas(ctx, mm).filter((v) => v.start < end && start < v.end);
  let covered = start;
  for (const v of list) {
    if (v.start < start || v.end > end) throw new BadInput(`mprotect [${start}, ${end}) splits mapping [${v.start}, ${v.end}); only whole mappings change protection`);
    if (v.start !== covered) throw new BadInput(`mprotect [${start}, ${end}): [${covered}, ${v.start}) is not mapped (ENOMEM)`);
    covered = v.end;
  }
  if (covered !== end) throw new BadInput(`mprotect [${start}, ${end}): [${covered}, ${end}) is not mapped (ENOMEM)`);
  const busyAt = ctx.m.mm(mm, MM_FIELD.WRPROTECT_BUSY);
  if (!writable) Atomics.add(ctx.mem, busyAt, 1);
  for (const v of list) yield mprotectFixup(ctx, mm, v, writable);
  if (!writable) Atomics.sub(ctx.mem, busyAt, 1);
  yield upWrite(ctx, sem);
  ctx.fn = caller;
}
