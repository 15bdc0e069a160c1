// The unmap path of mm/memory.c: unmap_vmas, unmap_page_range,
// zap_pud/pmd/pte_range, in both designs, step by step as in the kernel.
// zap_work is charged PAGE_SIZE per non-none pte and 1 per none entry at any
// level; every level continues only while zap_work > 0. In 2.6.38 a spent
// budget finishes the gather and starts a new one; in the rework it only
// bounds the interval between preemption points. The rework's zap_pte_range
// breaks out of the pte lock when the batch is full, flushes outside it, and
// goes back to the same pte (`goto again`).
// A pte that maps a page-cache page (a MAP_SHARED mapping) is zapped the same
// way in both designs: page_remove_rmap, MM_FILEPAGES, its dirty bit passed
// to the page, and tlb_remove_page, so the gather's put after the flush drops
// the pte's reference; the page cache's reference keeps the page.

import { MM_FIELD, PAGE_FIELD, PAGE_SIZE, PageState, PTE, pteFrame, ptePresent } from '../machine/layout.ts';
import { call, Step, type Path } from '../machine/step.ts';
import { modelAssert } from '../machine/errors.ts';
import { mark } from '../machine/marks.ts';
import { fnEnter, type Kctx } from '../sync/context.ts';
import { spinLock, spinUnlock, LockClass } from '../sync/spinlock.ts';
import { needResched, condResched } from '../sync/preempt.ts';
import { ZERO_PAGE } from '../page/alloc.ts';
import type { MmuGather } from '../gather/gather.ts';
import { GenericGather } from '../gather/generic.ts';
import { tlbGatherMmu } from '../gather/variants.ts';
import { addrEnd, pgdFrame, pgdIndex, pudIndex, pmdIndex, pteIndex, pteLockptr, readEntry, PMD_PAGES, PUD_PAGES, PGD_PAGES } from './pgtable.ts';
import type { Vma } from './vma.ts';
import { iMmapNeedbreak } from './rmap.ts';
import { setPageDirty } from './filemap.ts';

/** ZAP_BLOCK_SIZE in bytes: 8 pages under CONFIG_PREEMPT, 1024 otherwise. */
export function zapBlockSize(ctx: Kctx): number {
  return (ctx.config.preempt === 'full' ? 8 : 1024) * PAGE_SIZE;
}

/** long *zap_work */
interface ZapWork {
  n: number;
}
/** struct mmu_gather **tlbp: 2.6.38's unmap_vmas may replace the gather, or drop it. */
export interface GatherRef {
  tlb: MmuGather | null;
}
/** struct zap_details, as far as unmap_vmas uses it: the truncate path's i_mmap lock word (a spinlock or a mutex, see rmap.ts). */
export interface ZapDetails {
  iMmapLock: number | null;
}

const RSS_ANON = 0;
const RSS_FILE = 1;
const RSS_SWAP = 2;

function addMmRssVec(ctx: Kctx, mm: number, rss: number[]): void {
  if (rss[RSS_ANON]) Atomics.add(ctx.mem, ctx.m.mm(mm, MM_FIELD.RSS_ANON), rss[RSS_ANON]!);
  if (rss[RSS_FILE]) Atomics.add(ctx.mem, ctx.m.mm(mm, MM_FIELD.RSS_FILE), rss[RSS_FILE]!);
  if (rss[RSS_SWAP]) Atomics.add(ctx.mem, ctx.m.mm(mm, MM_FIELD.RSS_SWAP), rss[RSS_SWAP]!);
}

/** pte_offset_map_lock */
function* pteOffsetMapLock(ctx: Kctx, table: number): Path {
  yield spinLock(ctx, pteLockptr(ctx, table), LockClass.PTE_LOCK, 'zap_pte_range');
  ctx.ptlHeld++;
  ctx.ptlFreedThisHold = 0;
  ctx.stats.pteLockAcquisitions++;
}

/**
 * pte_unmap_unlock(pte - 1, ptl), where `pteVpn` is the slot `pte` points at.
 * After a full loop that is one past the last slot and pte - 1 is in this
 * table; after the rework's break it is the slot just zapped, and at index 0
 * pte - 1 names another page (harmless on 64-bit, kunmap_atomic of the wrong
 * page with HIGHPTE; fixed later by start_pte).
 */
function* pteUnmapUnlock(ctx: Kctx, table: number, tableBase: number, pteVpn: number): Path {
  if (pteVpn - 1 < tableBase) ctx.stats.pteUnmapWrongPage++;
  ctx.ptlHeld--;
  yield spinUnlock(ctx, pteLockptr(ctx, table), LockClass.PTE_LOCK);
}

/** ptep_get_and_clear_full: a locked exchange, or read-then-clear when the whole mm goes (fullmm). */
function ptepGetAndClearFull(ctx: Kctx, at: number, fullmm: boolean): number {
  if (!fullmm) return Atomics.exchange(ctx.mem, at, 0);
  const v = Atomics.load(ctx.mem, at);
  Atomics.store(ctx.mem, at, 0);
  return v;
}

/** vm_normal_page: no struct page to free behind the zero page. */
function vmNormalPage(pte: number): number {
  const frame = pteFrame(pte);
  return frame === ZERO_PAGE ? 0 : frame;
}

/** page_remove_rmap, with print_bad_pte's check. */
function pageRemoveRmap(ctx: Kctx, page: number, vpn: number): void {
  const left = Atomics.sub(ctx.mem, ctx.m.page(page, PAGE_FIELD.MAPCOUNT), 1) - 1;
  if (left < 0) ctx.oracle.report('BAD_PAGE_MAP', { cpu: ctx.cpu, task: ctx.task, mm: ctx.mm, address: vpn * 4096, frame: page }, `frame ${page} at vpn ${vpn}: mapcount ${left}`);
}

/**
 * Set in zapPresentPte's answer when the page is a file page whose pte was
 * dirty (the kernel's encoded_page carries such a bit, ENCODED_PAGE_BIT_DELAY_RMAP).
 */
const ZAPPED_DIRTY_FILE = 1 << 30;

/**
 * Zap one present pte under the lock; returns the page to hand to the gather
 * (with ZAPPED_DIRTY_FILE when its dirty bit went to a file page), or 0. With
 * `delayDirtyFileRmap` (5df397dec7c4) such a page keeps its rmap: the gather
 * removes it after the flush.
 */
function* zapPresentPte(ctx: Kctx, tlb: MmuGather, table: number, vpn: number, rss: number[], delayDirtyFileRmap = false): Path<number> {
  const at = ctx.m.ptEntry(table, pteIndex(vpn));
  let ptent: number;
  if (ctx.traits.unlockBeforeClear) {
    // the planted bug: the pte read under the lock is cleared after a window without it
    ptent = Atomics.load(ctx.mem, at);
    const ptl = pteLockptr(ctx, table);
    yield spinUnlock(ctx, ptl, LockClass.PTE_LOCK);
    yield spinLock(ctx, ptl, LockClass.PTE_LOCK, 'zap_pte_range');
    ptepGetAndClearFull(ctx, at, tlb.fullmm);
  } else {
    ptent = ptepGetAndClearFull(ctx, at, tlb.fullmm);
  }
  modelAssert(ptePresent(ptent), 'pte changed under the pte lock', () => `vpn ${vpn}`);
  ctx.trace?.instant('pte clear', 'pte', ctx.now(), { vpn, frame: pteFrame(ptent) });
  tlb.removeTlbEntry(vpn);
  yield Step.PTE;
  const page = vmNormalPage(ptent);
  if (page === 0) return 0;
  let dirtyFile = 0;
  if (Atomics.load(ctx.mem, ctx.m.page(page, PAGE_FIELD.STATE)) === PageState.PAGECACHE) {
    if ((ptent & PTE.DIRTY) !== 0) {
      yield setPageDirty(ctx, page);
      dirtyFile = ZAPPED_DIRTY_FILE;
    }
    rss[RSS_FILE]!--;
  } else {
    rss[RSS_ANON]!--;
  }
  if (!(dirtyFile !== 0 && delayDirtyFileRmap)) pageRemoveRmap(ctx, page, vpn);
  return page | dirtyFile;
}

/** zap_pte_range, 2.6.38: a full batch flushes and frees right here, under the pte lock. */
function* zapPteRangeLegacy(ctx: Kctx, tlb: MmuGather, table: number, addr: number, end: number, zapWork: ZapWork): Path<number> {
  const caller = fnEnter(ctx, 'zap_pte_range');
  const mm = tlb.mm;
  const rss = [0, 0, 0]; // init_rss_vec
  const tableBase = addr - pteIndex(addr);
  yield pteOffsetMapLock(ctx, table);
  do {
    const ptent = readEntry(ctx, table, pteIndex(addr));
    if (ptent === 0) {
      zapWork.n--;
      continue;
    }
    zapWork.n -= PAGE_SIZE;
    modelAssert((ptent & PTE.PRESENT) !== 0, 'non-present, non-none pte (no swap in this model)', () => `vpn ${addr}`);
    const page = (yield* zapPresentPte(ctx, tlb, table, addr, rss)) & ~ZAPPED_DIRTY_FILE;
    if (page === 0) continue;
    yield tlb.removePage(ctx, page); // tlb_remove_page: may flush under the lock
  } while ((addr += 1), addr !== end && zapWork.n > 0);
  addMmRssVec(ctx, mm, rss);
  yield pteUnmapUnlock(ctx, table, tableBase, addr);
  ctx.fn = caller;
  return addr;
}

/** zap_pte_range, the rework: break out of the pte lock to flush a full batch, then `goto again`. */
function* zapPteRangeRework(ctx: Kctx, tlb: MmuGather, table: number, addr: number, end: number, zapWork: ZapWork): Path<number> {
  const caller = fnEnter(ctx, 'zap_pte_range');
  const mm = tlb.mm;
  let forceFlush = false;
  let rss = [0, 0, 0];
  const tableBase = addr - pteIndex(addr);
  for (;;) {
    // again:
    if (!ctx.traits.rssInitBeforeAgain) rss = [0, 0, 0]; // init_rss_vec, after the label since e303297e6c3a
    yield pteOffsetMapLock(ctx, table);
    do {
      const ptent = readEntry(ctx, table, pteIndex(addr));
      if (ptent === 0) {
        zapWork.n--;
        continue;
      }
      zapWork.n -= PAGE_SIZE;
      modelAssert((ptent & PTE.PRESENT) !== 0, 'non-present, non-none pte (no swap in this model)', () => `vpn ${addr}`);
      const page = (yield* zapPresentPte(ctx, tlb, table, addr, rss)) & ~ZAPPED_DIRTY_FILE;
      if (page === 0) continue;
      forceFlush = (yield* tlb.removePage(ctx, page)) === 0 && !ctx.traits.lostForceFlush;
      if (forceFlush) break; // addr still names the pte just zapped
    } while ((addr += 1), addr !== end && zapWork.n > 0);
    addMmRssVec(ctx, mm, rss);
    yield pteUnmapUnlock(ctx, table, tableBase, addr);
    if (forceFlush) {
      forceFlush = false;
      mark('forcedFlush');
      ctx.stats.forcedFlushes++;
      yield tlb.flushMmu(ctx);
      if (addr !== end) continue;
    }
    ctx.fn = caller;
    return addr;
  }
}

/**
 * zap_pte_range from 3.11 on. A full chain of batches breaks out (3.11: with
 * addr still on the pte just queued, so the flush of that segment stops short
 * of it, until ce9ec37bddb6), as does nothing else; a dirty file pte (from
 * 1cf35d47712d) only makes the flush come before the pte lock is dropped,
 * with the freeing after it, and (from 5df397dec7c4) keeps its rmap until
 * that flush is done.
 */
function* zapPteRangeGeneric(ctx: Kctx, tlb: MmuGather, table: number, addr: number, end: number): Path<number> {
  const caller = fnEnter(ctx, 'zap_pte_range');
  const g = ctx.traits.generic;
  modelAssert(tlb instanceof GenericGather, 'generic zap_pte_range without the generic gather', () => `variant ${ctx.traits.name}`);
  const mm = tlb.mm;
  const tableBase = addr - pteIndex(addr);
  for (;;) {
    let forceFlush = false;
    let batchFull = false;
    const rss = [0, 0, 0];
    yield pteOffsetMapLock(ctx, table);
    do {
      const ptent = readEntry(ctx, table, pteIndex(addr));
      if (ptent === 0) continue;
      modelAssert((ptent & PTE.PRESENT) !== 0, 'non-present, non-none pte (no swap in this model)', () => `vpn ${addr}`);
      const zapped = yield* zapPresentPte(ctx, tlb, table, addr, rss, g.delayedRmap);
      const page = zapped & ~ZAPPED_DIRTY_FILE;
      if (page === 0) continue;
      const dirtyFile = zapped !== page;
      if (dirtyFile && g.dirtyFlushUnderPtl) forceFlush = true;
      if ((yield* tlb.removePage(ctx, page, dirtyFile && g.delayedRmap ? addr : -1)) === 0) {
        forceFlush = true;
        batchFull = true;
        if (!g.forcedFlushSkipsLast) addr += 1;
        break;
      }
    } while ((addr += 1), addr !== end);
    addMmRssVec(ctx, mm, rss);
    if (forceFlush && g.dirtyFlushUnderPtl) yield flushBeforeUnlock(ctx, tlb);
    yield pteUnmapUnlock(ctx, table, tableBase, tableBase + 1); // pte_unmap_unlock(start_pte, ptl)
    if (batchFull) {
      mark('forcedFlush');
      ctx.stats.forcedFlushes++;
    }
    if (forceFlush) {
      if (g.dirtyFlushUnderPtl) {
        yield tlb.flushFree(ctx);
      } else {
        // 3.11: flush just the previous segment, then go on with the rest of the range
        const oldEnd = tlb.end;
        tlb.end = addr;
        yield tlb.flushMmu(ctx);
        tlb.start = addr;
        tlb.end = oldEnd;
      }
      if (addr !== end) continue;
    }
    ctx.fn = caller;
    return addr;
  }
}

/** The TLB flush that must come before the pte lock goes, and (5df397dec7c4) the delayed rmaps after it. */
function* flushBeforeUnlock(ctx: Kctx, tlb: GenericGather): Path {
  if (ctx.traits.generic.rmapBeforeFlush) {
    tlb.flushRmaps(ctx, pageRemoveRmap); // the planted bug: rmap walkers stop seeing the mapping before the flush
    yield tlb.flushTlbOnly(ctx);
    return;
  }
  yield tlb.flushTlbOnly(ctx);
  tlb.flushRmaps(ctx, pageRemoveRmap);
}

function* zapPmdRange(ctx: Kctx, tlb: MmuGather, pmdTable: number, addr: number, end: number, zapWork: ZapWork): Path<number> {
  const design = ctx.traits.design;
  const zapPteRange = design === 'legacy' ? zapPteRangeLegacy : zapPteRangeRework;
  let next: number;
  do {
    next = addrEnd(addr, end, PMD_PAGES);
    const e = readEntry(ctx, pmdTable, pmdIndex(addr));
    if (e === 0) {
      zapWork.n--;
      continue;
    }
    if (design === 'generic') {
      next = yield* call(zapPteRangeGeneric(ctx, tlb, pteFrame(e), addr, next));
      yield condResched(ctx); // from 2.6.39, a preemption point per pte table instead of zap_work
    } else {
      next = yield* call(zapPteRange(ctx, tlb, pteFrame(e), addr, next, zapWork));
    }
  } while (((addr = next), addr !== end && zapWork.n > 0));
  return addr;
}

function* zapPudRange(ctx: Kctx, tlb: MmuGather, pudTable: number, addr: number, end: number, zapWork: ZapWork): Path<number> {
  let next: number;
  do {
    next = addrEnd(addr, end, PUD_PAGES);
    const e = readEntry(ctx, pudTable, pudIndex(addr));
    if (e === 0) {
      zapWork.n--;
      continue;
    }
    next = yield* call(zapPmdRange(ctx, tlb, pteFrame(e), addr, next, zapWork));
  } while (((addr = next), addr !== end && zapWork.n > 0));
  return addr;
}

/** unmap_page_range: the pgd loop (tlb_start_vma and tlb_end_vma are no-ops on x86). */
function* unmapPageRange(ctx: Kctx, tlb: MmuGather, vma: Vma, addr: number, end: number, zapWork: ZapWork): Path<number> {
  modelAssert(addr < end, 'BUG_ON(addr >= end)', () => `${addr} >= ${end} in vma [${vma.start}, ${vma.end})`);
  const pgd = pgdFrame(ctx, tlb.mm);
  let next: number;
  do {
    next = addrEnd(addr, end, PGD_PAGES);
    const e = readEntry(ctx, pgd, pgdIndex(addr));
    if (e === 0) {
      zapWork.n--;
      continue;
    }
    next = yield* call(zapPudRange(ctx, tlb, pteFrame(e), addr, next, zapWork));
  } while (((addr = next), addr !== end && zapWork.n > 0));
  return addr;
}

/**
 * unmap_vmas(tlbp, vma, start_addr, end_addr, nr_accounted, details).
 * Returns the address the zap reached: end_addr, or less when the truncate
 * path's i_mmap_lock asked for a break.
 */
export function* unmapVmas(ctx: Kctx, tlbp: GatherRef, vmaList: Vma[], startAddr: number, endAddr: number, details: ZapDetails | null): Path<number> {
  const caller = fnEnter(ctx, 'unmap_vmas');
  const legacy = ctx.traits.design === 'legacy';
  const zapWork: ZapWork = { n: ctx.traits.design === 'generic' ? Infinity : zapBlockSize(ctx) }; // zap_work is gone from 2.6.39
  const iMmapLock = details?.iMmapLock ?? null;
  let start = startAddr;
  const first = tlbp.tlb;
  modelAssert(first !== null, 'unmap_vmas without a gather', () => `task ${ctx.task}`);
  const mm = first.mm;
  const fullmm = first.fullmm;
  // mmu_notifier_invalidate_range_start: no notifiers registered in this model
  for (const vma of vmaList) {
    if (vma.start >= endAddr) continue;
    if (vma.end <= startAddr) continue;
    start = Math.max(vma.start, startAddr);
    const end = Math.min(vma.end, endAddr);
    while (start !== end) {
      start = yield* call(unmapPageRange(ctx, tlbp.tlb!, vma, start, end, zapWork));
      if (zapWork.n > 0) {
        modelAssert(start === end, 'BUG_ON(start != end)', () => `${start} != ${end}`);
        break;
      }
      if (legacy) yield tlbp.tlb!.finishMmu(ctx);
      if (needResched(ctx) || (iMmapLock !== null && iMmapNeedbreak(ctx, iMmapLock))) {
        if (iMmapLock !== null) {
          if (legacy) tlbp.tlb = null;
          ctx.fn = caller;
          return start;
        }
        yield condResched(ctx);
      }
      if (legacy) tlbp.tlb = yield* tlbGatherMmu(ctx, mm, fullmm);
      zapWork.n = zapBlockSize(ctx);
    }
  }
  ctx.fn = caller;
  return start;
}
