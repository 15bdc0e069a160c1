// exec's stack relocation: shift_arg_pages (fs/exec.c) and the
// move_page_tables it calls (mm/mremap.c), as in 2.6.38. Invariant: a pte
// moves under both pte locks, and its old translation is gone from every TLB
// (ptep_clear_flush) before the new pte is set, so no cpu translates the
// old address once the page is reachable at the new one; the page tables
// the move vacated are freed only through a gather, after the flush that
// covers them. The move flushes one page at a time because 2.6.38's
// move_ptes did; batching that into one flush_tlb_range at the end came
// with "thp: mremap support and TLB optimization", which is not modelled.

import { MM_FIELD, PAGES_PER_PMD, VMA_FIELD, VMA_FLAGS } from '../machine/layout.ts';
import { Step, type Path } from '../machine/step.ts';
import { BadInput, modelAssert } from '../machine/errors.ts';
import { fnEnter, type Kctx } from '../sync/context.ts';
import { spinLock, spinUnlock, LockClass } from '../sync/spinlock.ts';
import { condResched } from '../sync/preempt.ts';
import { downWrite, upWrite } from '../sync/rwsem.ts';
import { flushTlbPage } from '../cpu/tlbflush.ts';
import { tlbGatherMmu } from '../gather/variants.ts';
import { allocPteTable, lookupPteTable, pteIndex, pteLockptr } from './pgtable.ts';
import { freePgdRange } from './mmap.ts';
import { iMmapLock, iMmapUnlock } from './rmap.ts';
import { findVma, vmas, type Vma } from './vma.ts';

/** Pages move_page_tables hands to one move_ptes call, so the pte locks are dropped (and cond_resched runs) this often. */
export const LATENCY_LIMIT = 64;

/** vma_adjust for a vma that only changes its bounds, under mmap_sem held for write; a file vma's i_mmap walkers (truncate) read them under the i_mmap lock. */
function* vmaAdjust(ctx: Kctx, mm: number, vma: Vma, start: number, end: number): Path {
  const file = (vma.flags & VMA_FLAGS.FILE) !== 0;
  if (file) yield iMmapLock(ctx, 'vma_adjust');
  ctx.mem[ctx.m.vma(mm, vma.slot, VMA_FIELD.START)] = start;
  ctx.mem[ctx.m.vma(mm, vma.slot, VMA_FIELD.END)] = end;
  vma.start = start;
  vma.end = end;
  if (file) yield iMmapUnlock(ctx);
}

/** pmd_addr_end on the page-table side being walked: the next 2 MiB boundary. */
function nextPmd(vpn: number): number {
  return (Math.floor(vpn / PAGES_PER_PMD) + 1) * PAGES_PER_PMD;
}

/**
 * move_ptes: [oldAddr, oldEnd) of the pte table `oldTable` to `newAddr` in
 * `newTable`. The two locks are taken in no fixed order: exclusive mmap_sem
 * keeps any other mover out, so they cannot deadlock.
 */
function* movePtes(ctx: Kctx, mm: number, vma: Vma, oldTable: number, oldAddr: number, oldEnd: number, newTable: number, newAddr: number): Path {
  // a file vma locks truncate out, which could clean the new range before the old one and leave stale pages behind
  const file = (vma.flags & VMA_FLAGS.FILE) !== 0;
  if (file) yield iMmapLock(ctx, 'move_ptes');
  const oldPtl = pteLockptr(ctx, oldTable);
  const newPtl = pteLockptr(ctx, newTable);
  yield spinLock(ctx, oldPtl, LockClass.PTE_LOCK, 'move_ptes');
  ctx.ptlHeld++;
  if (newPtl !== oldPtl) {
    yield spinLock(ctx, newPtl, LockClass.PTE_LOCK, 'move_ptes'); // spin_lock_nested
    ctx.ptlHeld++;
  }
  for (; oldAddr < oldEnd; oldAddr++, newAddr++) {
    const oldAt = ctx.m.ptEntry(oldTable, pteIndex(oldAddr));
    if (Atomics.load(ctx.mem, oldAt) === 0) continue;
    // ptep_clear_flush: the old translation leaves every TLB before the page shows up anywhere else
    const pte = Atomics.exchange(ctx.mem, oldAt, 0);
    yield Step.PTE;
    yield flushTlbPage(ctx, mm, oldAddr);
    // move_pte is the identity on x86; set_pte_at
    const newAt = ctx.m.ptEntry(newTable, pteIndex(newAddr));
    modelAssert(Atomics.load(ctx.mem, newAt) === 0, 'move_ptes onto a live pte', () => `vpn ${oldAddr} -> ${newAddr}`);
    Atomics.store(ctx.mem, newAt, pte);
    yield Step.PTE;
  }
  if (newPtl !== oldPtl) {
    ctx.ptlHeld--;
    yield spinUnlock(ctx, newPtl, LockClass.PTE_LOCK);
  }
  ctx.ptlHeld--;
  yield spinUnlock(ctx, oldPtl, LockClass.PTE_LOCK);
  if (file) yield iMmapUnlock(ctx);
}

/**
 * move_page_tables(vma, old_addr, new_vma, new_addr, len): returns the pages
 * moved. Each step stays inside one pte table on both sides and moves at
 * most LATENCY_LIMIT pages, with cond_resched between steps.
 */
export function* movePageTables(ctx: Kctx, mm: number, vma: Vma, oldAddr: number, newAddr: number, len: number): Path<number> {
  const oldEnd = oldAddr + len;
  // flush_cache_range: nothing on x86
  let extent = 0;
  for (; oldAddr < oldEnd; oldAddr += extent, newAddr += extent) {
    yield condResched(ctx);
    let next = nextPmd(oldAddr);
    if (next > oldEnd) next = oldEnd;
    extent = next - oldAddr;
    const oldTable = lookupPteTable(ctx, mm, oldAddr); // get_old_pmd
    if (oldTable === 0) continue;
    const newTable = yield* allocPteTable(ctx, mm, newAddr); // alloc_new_pmd, with __pte_alloc when the pmd is none
    next = nextPmd(newAddr);
    if (extent > next - newAddr) extent = next - newAddr;
    if (extent > LATENCY_LIMIT) extent = LATENCY_LIMIT;
    yield movePtes(ctx, mm, vma, oldTable, oldAddr, oldAddr + extent, newTable, newAddr);
  }
  return len + oldAddr - oldEnd;
}

/** shift_arg_pages(vma, shift), with setup_arg_pages' mmap_sem held for write. */
function* shiftArgPagesLocked(ctx: Kctx, mm: number, vma: Vma, shift: number): Path {
  const oldStart = vma.start;
  const oldEnd = vma.end;
  const length = oldEnd - oldStart;
  const newStart = oldStart - shift;
  const newEnd = oldEnd - shift;
  modelAssert(newStart <= newEnd, 'BUG_ON(new_start > new_end)', () => `${newStart} > ${newEnd}`);
  // no vma may lie between where the stack goes and where it is (-EFAULT)
  if (findVma(ctx, mm, newStart)?.slot !== vma.slot) throw new BadInput(`shift_arg_pages: another mapping lies in [${newStart}, ${oldStart})`);
  // cover the whole range [new_start, old_end) while the ptes move
  yield vmaAdjust(ctx, mm, vma, newStart, oldEnd);
  const moved = yield* movePageTables(ctx, mm, vma, oldStart, newStart, length);
  modelAssert(moved === length, 'move_page_tables fell short', () => `${moved} of ${length} pages`);
  // lru_add_drain: no LRU in this model
  const tlb = yield* tlbGatherMmu(ctx, mm, false, oldStart, oldEnd);
  const next = vmas(ctx, mm).find((v) => v.start >= oldEnd);
  const ceiling = next ? next.start : 0;
  if (newEnd > oldStart) {
    // overlapping: clear from new_end
    yield freePgdRange(ctx, tlb, newEnd, oldEnd, newEnd, ceiling);
  } else {
    // disjoint: clear from old_start, never touching [new_end, old_start) (IA64 forbids it; elsewhere it is just faster)
    yield freePgdRange(ctx, tlb, oldStart, oldEnd, newEnd, ceiling);
  }
  yield tlb.finishMmu(ctx);
  // shrink the vma to just the new range
  yield vmaAdjust(ctx, mm, vma, newStart, newEnd);
}

/**
 * The stack vma [start, end) of `mm` moves down by `shiftPages` to
 * [start - shift, end - shift), as execve's setup_arg_pages does with the
 * temporary stack: down_write(mmap_sem), shift_arg_pages, up_write.
 */
export function* shiftArgPages(ctx: Kctx, mm: number, start: number, end: number, shiftPages: number): Path {
  if (!(shiftPages > 0) || !Number.isInteger(shiftPages)) throw new BadInput(`shift_arg_pages: shift ${shiftPages} must be a positive number of pages`);
  if (start - shiftPages < 0) throw new BadInput(`shift_arg_pages: [${start}, ${end}) cannot move down by ${shiftPages} pages`);
  const sem = ctx.m.mm(mm, MM_FIELD.MMAP_SEM);
  const caller = fnEnter(ctx, 'shift_arg_pages');
  yield downWrite(ctx, sem, 'setup_arg_pages');
  const vma = vmas(ctx, mm).find((v) => v.start === start && v.end === end);
  if (!vma) throw new BadInput(`shift_arg_pages: [${start}, ${end}) is not one mapping of mm ${mm}`);
  yield shiftArgPagesLocked(ctx, mm, vma, shiftPages);
  yield upWrite(ctx, sem);
  ctx.fn = caller;
}
