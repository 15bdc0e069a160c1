// One interface over the mmu_gather designs. Whatever the design, the order
// is asm-generic/tlb.h's: unhook the page from the page tables, invalidate the
// TLBs that may cache it, and only then free the page. The designs differ in
// where the batch lives, how big it is, whether preemption is off around it,
// and whether a full batch is flushed under the pte lock.

import type { Path } from '../machine/step.ts';
import type { Kctx } from '../sync/context.ts';

export interface MmuGather {
  readonly mm: number;
  readonly fullmm: boolean;
  /** nr == ~0U: one cpu online, pages are freed as they are removed. */
  readonly fastMode: boolean;
  /** tlb_remove_tlb_entry: the pte at `vpn` was really unmapped. */
  removeTlbEntry(vpn: number): void;
  /** pte_free_tlb (level 1), pmd_free_tlb (2), pud_free_tlb (3), for the table that mapped from `vpn`. */
  freeTableAt(vpn: number, level: number): void;
  /**
   * __tlb_remove_page: queue (or in fast mode free) a page. Returns the slots
   * left; 0 means full and the caller must tlb_flush_mmu. The 2.6.38 design
   * flushes by itself when full, wherever its caller is, and never returns 0.
   */
  removePage(ctx: Kctx, frame: number): Path<number>;
  /** Where the design puts a freed page table: the page batch, or (6.18's x86) a table batch of its own. */
  removeTable(ctx: Kctx, frame: number): Path;
  /** tlb_flush_mmu: flush the TLBs, then free the batch. */
  flushMmu(ctx: Kctx): Path;
  /** tlb_finish_mmu: the last flush, and the end of the gather. */
  finishMmu(ctx: Kctx): Path;
  /** Pages queued and not yet freed (for page conservation). */
  queued(): number;
  /** The gather's async slice in the trace, or null. */
  traceId: string | null;
}

/** tlb_finish_mmu's bookkeeping, common to both designs: the gather is over. */
export function gatherDone(ctx: Kctx, tlb: MmuGather): void {
  ctx.gatherDepth--;
  if (tlb.traceId) ctx.trace?.gatherEnd(tlb.traceId, ctx.now(), ctx.traits.design);
}

/** tlb_remove_page: callers that hold no pte lock flush at once when the batch is full. */
export function* tlbRemovePage(ctx: Kctx, tlb: MmuGather, frame: number): Path {
  const left = yield* tlb.removePage(ctx, frame);
  if (left === 0) yield tlb.flushMmu(ctx);
}

/** tlb_flush(tlb) on x86 is flush_tlb_mm(tlb->mm); count it against the pte lock if one is held. Returns when the flush began (µs). */
export function countFlush(ctx: Kctx): number {
  ctx.stats.gatherFlushes++;
  if (ctx.ptlHeld > 0) ctx.stats.flushesUnderPteLock++;
  return ctx.now();
}
