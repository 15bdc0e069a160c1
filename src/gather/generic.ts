// The asm-generic mmu_gather from 3.11 on (include/asm-generic/tlb.h,
// mm/mmu_gather.c): on the caller's stack, no fast mode (29eb77825cc7), the
// pages in a chain of batches (8 on the stack, then up to
// MAX_GATHER_BATCH_COUNT pages of MAX_GATHER_BATCH pointers each, taken with
// GFP_NOWAIT and kept until tlb_finish_mmu), and the range to flush. The
// order is still the one the header states: unhook, invalidate the TLBs of
// the range (tlb_flush_mmu_tlbonly), then free (tlb_flush_mmu_free). From 6.2
// a dirty file page keeps its rmap until after the invalidate
// (tlb_flush_rmaps, 5df397dec7c4), so rmap walkers find the mapping while a
// stale TLB entry may still write it. From 6.18's x86, the tables freed
// (pte_free_tlb) go to a table batch of their own, so they do not take page
// slots.

import { MM_FIELD, PAGE_SIZE, PageState } from '../machine/layout.ts';
import type { Path } from '../machine/step.ts';
import { modelAssert } from '../machine/errors.ts';
import { mark } from '../machine/marks.ts';
import { fnEnter, type Kctx } from '../sync/context.ts';
import { flushTlbMmRange } from '../cpu/tlbflush.ts';
import { allocPage, freePage, freePages } from '../page/alloc.ts';
import { countFlush, gatherDone, type MmuGather } from './gather.ts';

export const MMU_GATHER_BUNDLE = 8;
/** (PAGE_SIZE - sizeof(struct mmu_gather_batch)) / sizeof(void *). */
export const MAX_GATHER_BATCH = (PAGE_SIZE - 16) / 8;
/** 10000UL / MAX_GATHER_BATCH (53a59fc67f97): bounds the work between two flushes. */
export const MAX_GATHER_BATCH_COUNT = Math.floor(10000 / MAX_GATHER_BATCH);
/** (PAGE_SIZE - sizeof(struct mmu_table_batch)) / sizeof(void *): the rcu_head and nr take 3 words. */
export const MAX_TABLE_BATCH = (PAGE_SIZE - 24) / 8;

/** The page-table level a freed table served, as the cleared_* flags count it. */
export const TableLevel = { PTE: 1, PMD: 2, PUD: 3 } as const;
/** stride_shift - PAGE_SHIFT of tlb_get_unmap_shift for each cleared level. */
const LEVEL_STRIDE = [0, 9, 18, 27] as const;

/** A user range no address reaches, as __tlb_reset_range's TASK_SIZE. */
const RANGE_RESET_START = Number.MAX_SAFE_INTEGER;

interface Batch {
  frame: number; // 0 for the on-stack bundle
  pages: Int32Array;
  /** ENCODED_PAGE_BIT_DELAY_RMAP per slot; the vpn whose rmap waits, -1 for none. */
  delayVpn: Int32Array;
  nr: number;
  max: number;
}

function newBatch(frame: number, max: number): Batch {
  return { frame, pages: new Int32Array(max), delayVpn: new Int32Array(max), nr: 0, max };
}

export class GenericGather implements MmuGather {
  traceId: string | null = null;
  readonly fastMode = false;
  /** [start, end) in vpns. */
  start = RANGE_RESET_START;
  end = 0;
  /** 3.11's tlb->need_flush; from 3.19 a non-empty range says it. */
  needFlush = false;
  freedTables = false;
  /** cleared_ptes, cleared_pmds, cleared_puds, cleared_p4ds by TableLevel - 1 (ptes first). */
  readonly cleared = [false, false, false, false];
  delayedRmap = false;
  private readonly batches: Batch[] = [newBatch(0, MMU_GATHER_BUNDLE)];
  private active = 0;
  private tables: number[] = [];

  constructor(readonly mm: number, public fullmm: boolean, private readonly ctx: Kctx, readonly rangeStart: number, readonly rangeEnd: number) {
    if (ctx.traits.generic.gatherRange === 'vma') {
      this.start = rangeStart;
      this.end = rangeEnd;
    } else {
      this.resetRange();
    }
  }

  private get tracked(): boolean {
    return this.ctx.traits.generic.gatherRange === 'tracked';
  }

  queued(): number {
    let n = this.tables.length;
    for (const b of this.batches) n += b.nr;
    return n;
  }

  /** __tlb_adjust_range(tlb, address, size), in pages. */
  private adjustRange(vpn: number, pages: number): void {
    if (!this.tracked) return;
    this.start = Math.min(this.start, vpn);
    this.end = Math.max(this.end, vpn + pages);
  }

  /** __tlb_reset_range: a fullmm gather's range is everything (~0), so before 6.x's cleared_* test it always flushes. */
  private resetRange(): void {
    if (!this.tracked) return;
    this.start = this.fullmm ? RANGE_RESET_START : RANGE_RESET_START;
    this.end = this.fullmm ? RANGE_RESET_START : 0;
    this.freedTables = false;
    this.cleared.fill(false);
  }

  /** tlb_flush_mmu_tlbonly's test: 3.11's need_flush, 3.19's tlb->end, 6.x's freed_tables || cleared_*. */
  private hasRangeToFlush(): boolean {
    if (!this.tracked) return this.needFlush;
    if (this.ctx.traits.generic.flushCeiling === 'strides') return this.freedTables || this.cleared.includes(true);
    return this.end !== 0;
  }

  setNeedFlush(): void {
    this.needFlush = true;
  }

  /** tlb_remove_tlb_entry: tlb_flush_pte_range(tlb, address, PAGE_SIZE). */
  removeTlbEntry(vpn: number): void {
    this.needFlush = true;
    this.adjustRange(vpn, 1);
    this.cleared[0] = true;
  }

  /** pte_free_tlb / pmd_free_tlb / pud_free_tlb's bookkeeping: the range of the level above, and freed_tables. */
  freeTableAt(vpn: number, level: number): void {
    this.needFlush = true;
    this.adjustRange(vpn, 1);
    this.cleared[level] = true;
    this.freedTables = true;
  }

  private get reserveSlot(): number {
    return this.ctx.traits.generic.batchReserveSlot ? 1 : 0;
  }

  /** tlb_next_batch: the next batch of the chain, a new one while the count allows and memory is there. */
  private *nextBatch(ctx: Kctx): Path<boolean> {
    if (this.delayedRmap && this.active !== 0) return false; // the delayed rmaps must be done before more pages pile up
    if (this.active + 1 < this.batches.length) {
      this.active++;
      return true;
    }
    if (this.batches.length - 1 === MAX_GATHER_BATCH_COUNT) return false;
    const frame = yield* allocPage(ctx, 'GFP_NOWAIT', PageState.BATCH);
    if (frame === 0) {
      mark('batchPageFallback');
      ctx.stats.batchAllocFailures++;
      return false;
    }
    ctx.stats.batchAllocs++;
    this.batches.push(newBatch(frame, MAX_GATHER_BATCH));
    this.active++;
    return true;
  }

  /** __tlb_remove_page_size (3.11: __tlb_remove_page): 0 when the chain is full and the caller must flush. */
  *removePage(ctx: Kctx, frame: number, delayRmapVpn = -1): Path<number> {
    modelAssert(this.needFlush, 'VM_BUG_ON(!tlb->end)', () => `frame ${frame} queued before any entry was cleared`);
    let batch = this.batches[this.active]!;
    batch.delayVpn[batch.nr] = delayRmapVpn;
    batch.pages[batch.nr++] = frame;
    if (delayRmapVpn >= 0) this.delayedRmap = true;
    if (batch.nr >= batch.max - this.reserveSlot) {
      if (!(yield* this.nextBatch(ctx))) return 0;
      batch = this.batches[this.active]!;
    }
    modelAssert(batch.nr <= batch.max - this.reserveSlot, 'VM_BUG_ON_PAGE(batch->nr > batch->max)', () => `nr ${batch.nr} max ${batch.max}`);
    return batch.max - this.reserveSlot - batch.nr;
  }

  /** tlb_remove_table (x86 from 4.14 with RCU table freeing: 6.18's table batch); a full table batch invalidates and frees. */
  *removeTable(ctx: Kctx, frame: number): Path {
    this.tables.push(frame);
    if (this.tables.length === MAX_TABLE_BATCH) {
      yield this.flushTlbOnly(ctx);
      yield this.freeTables(ctx);
    }
  }

  /** tlb_flush(tlb) on x86: the range unless fullmm, at tlb_get_unmap_shift's stride, saying whether tables were freed. */
  private *tlbFlush(ctx: Kctx): Path {
    const g = ctx.traits.generic;
    if (this.fullmm) {
      yield flushTlbMmRange(ctx, this.mm, 0, -1, 0, this.freedTables);
      return;
    }
    const stride = g.flushCeiling === 'strides' ? LEVEL_STRIDE[Math.max(0, this.cleared.indexOf(true))]! : 0;
    yield flushTlbMmRange(ctx, this.mm, this.start, this.end, stride, this.freedTables);
  }

  /** tlb_flush_mmu_tlbonly: invalidate the range gathered so far, and start a new one. */
  *flushTlbOnly(ctx: Kctx): Path {
    if (!this.hasRangeToFlush()) return;
    const caller = fnEnter(ctx, 'tlb_flush_mmu_tlbonly');
    this.needFlush = false;
    const startUs = countFlush(ctx);
    if (!(this.fullmm && ctx.traits.fullmmNoFlush)) yield this.tlbFlush(ctx);
    this.resetRange();
    ctx.lat.recordUs('gatherFlush', ctx.now() - startUs);
    ctx.fn = caller;
  }

  /** tlb_flush_rmaps: the rmaps of the dirty file pages this gather holds, now that their TLB entries are gone. */
  flushRmaps(ctx: Kctx, removeRmap: (ctx: Kctx, page: number, vpn: number) => void): void {
    if (!this.delayedRmap) return;
    for (const b of this.batches) {
      for (let i = 0; i < b.nr; i++) {
        if (b.delayVpn[i]! < 0) continue;
        mark('delayedRmap');
        removeRmap(ctx, b.pages[i]!, b.delayVpn[i]!);
        b.delayVpn[i] = -1;
      }
    }
    this.delayedRmap = false;
  }

  private *freeTables(ctx: Kctx): Path {
    if (this.tables.length === 0) return;
    yield freePages(ctx, Int32Array.from(this.tables), this.tables.length);
    this.tables = [];
  }

  /** tlb_flush_mmu_free: tlb_batch_pages_flush and the tables; the chain stays for the next pages. */
  *flushFree(ctx: Kctx): Path {
    yield this.freeTables(ctx);
    for (const b of this.batches) {
      if (b.nr === 0) continue;
      modelAssert(!this.delayedRmap, 'freeing pages whose rmap is still delayed', () => `mm ${this.mm}`);
      yield freePages(ctx, b.pages, b.nr);
      b.nr = 0;
    }
    this.active = 0;
  }

  /** tlb_flush_mmu. */
  *flushMmu(ctx: Kctx): Path {
    yield this.flushTlbOnly(ctx);
    yield this.flushFree(ctx);
  }

  /** tlb_finish_mmu: a nested gather of the same mm (99baac21e458) makes the last flush cover everything. */
  *finishMmu(ctx: Kctx): Path {
    const caller = fnEnter(ctx, 'tlb_finish_mmu');
    const g = ctx.traits.generic;
    if (g.nestedFlush && mmTlbFlushNested(ctx, this.mm)) {
      mark('nestedFlush');
      if (g.flushCeiling === 'strides') {
        this.fullmm = true; // 7a30df49f63a: flush the whole mm, tables included
        this.resetRange();
        this.freedTables = true;
      } else {
        this.adjustRange(this.rangeStart, this.rangeEnd - this.rangeStart);
      }
      this.needFlush = true;
    }
    yield this.flushMmu(ctx);
    for (const b of this.batches) if (b.frame !== 0) yield freePage(ctx, b.frame); // tlb_batch_list_free
    this.batches.length = 1;
    if (g.nestedFlush || g.tlbGen) decTlbFlushPending(ctx, this.mm);
    gatherDone(ctx, this);
    ctx.fn = caller;
  }
}

/** atomic_read(&mm->tlb_flush_pending) > 1. */
export function mmTlbFlushNested(ctx: Kctx, mm: number): boolean {
  return Atomics.load(ctx.mem, ctx.m.mm(mm, MM_PENDING)) > 1;
}

export function incTlbFlushPending(ctx: Kctx, mm: number): void {
  Atomics.add(ctx.mem, ctx.m.mm(mm, MM_PENDING), 1);
}

export function decTlbFlushPending(ctx: Kctx, mm: number): void {
  const left = Atomics.sub(ctx.mem, ctx.m.mm(mm, MM_PENDING), 1) - 1;
  modelAssert(left >= 0, 'tlb_flush_pending below zero', () => `mm ${mm}`);
}

const MM_PENDING = MM_FIELD.TLB_FLUSH_PENDING;

/** tlb_gather_mmu(tlb, mm, start, end): inc_tlb_flush_pending first, so a concurrent gather sees this one. */
export function genericGatherMmu(ctx: Kctx, mm: number, fullmm: boolean, start: number, end: number): MmuGather {
  const g = ctx.traits.generic;
  if (g.nestedFlush || g.tlbGen) incTlbFlushPending(ctx, mm);
  return new GenericGather(mm, fullmm, ctx, start, end);
}
