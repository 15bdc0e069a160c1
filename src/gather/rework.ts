// The seed's mmu_gather ("mm: mmu_gather rework"): on the caller's stack, no
// per-cpu state and no preemption disable. It batches into one page taken
// with GFP_NOWAIT (512 slots) or, when that fails, into 8 local slots, and
// retries the page after every flush. __tlb_remove_page reports the slots
// left so zap_pte_range can leave the pte lock before flushing a full batch.

import { PAGE_SIZE, PageState } from '../machine/layout.ts';
import type { Path } from '../machine/step.ts';
import { modelAssert } from '../machine/errors.ts';
import { mark } from '../machine/marks.ts';
import { fnEnter, type Kctx } from '../sync/context.ts';
import { flushTlbMm, cpusOnline, mmCpumask } from '../cpu/tlbflush.ts';
import { allocPage, freePage, freePages } from '../page/alloc.ts';
import { countFlush, gatherDone, tlbRemovePage, type MmuGather } from './gather.ts';

export const MMU_GATHER_BUNDLE = 8;
/** PAGE_SIZE / sizeof(struct page *) on 64-bit. */
export const BATCH_PAGE_SLOTS = PAGE_SIZE / 8;
const FAST_MODE_NR = -1;

/**
 * The slots of batch pages given back, for the next gather on this thread:
 * a gather per operation allocating 2 KB of them was 2% of a per-page hunt.
 * Only the pointers a gather queued since it took the slots are ever read.
 */
const spareBatchSlots: Int32Array[] = [];
const SPARE_BATCH_SLOTS_MAX = 16;

class OnStackGather implements MmuGather {
  traceId: string | null = null;
  /** mm_cpumask when the gather began (the stale-cpumask mutant flushes these cpus). */
  cpumaskAtGather = 0;
  nr: number;
  max = MMU_GATHER_BUNDLE;
  needFlush = false;
  /** The batch page's frame, 0 while the local array is in use. */
  batchFrame = 0;
  private readonly local = new Int32Array(MMU_GATHER_BUNDLE);
  pages: Int32Array = this.local;

  constructor(readonly mm: number, readonly fullmm: boolean, fast: boolean) {
    this.nr = fast ? FAST_MODE_NR : 0;
  }
  get fastMode(): boolean {
    return this.nr === FAST_MODE_NR;
  }
  queued(): number {
    return this.fastMode ? 0 : this.nr;
  }
  setNeedFlush(): void {
    this.needFlush = true;
  }
  removeTlbEntry(): void {
    this.setNeedFlush();
  }
  freeTableAt(): void {
    this.setNeedFlush();
  }
  /** x86's __pte_free_tlb of that time: tlb_remove_page, into the same batch as the data pages. */
  removeTable(ctx: Kctx, frame: number): Path {
    return tlbRemovePage(ctx, this, frame);
  }

  /** __tlb_alloc_page. */
  *allocBatch(ctx: Kctx): Path {
    const frame = yield* allocPage(ctx, 'GFP_NOWAIT', PageState.BATCH);
    if (frame === 0) {
      mark('batchPageFallback');
      ctx.stats.batchAllocFailures++;
      return;
    }
    ctx.stats.batchAllocs++;
    this.batchFrame = frame;
    this.pages = spareBatchSlots.pop() ?? new Int32Array(BATCH_PAGE_SLOTS);
    this.max = BATCH_PAGE_SLOTS;
  }

  *removePage(ctx: Kctx, frame: number): Path<number> {
    this.needFlush = true;
    if (this.fastMode) {
      yield freePage(ctx, frame);
      return 1; // avoid calling tlb_flush_mmu()
    }
    if (ctx.traits.lostForceFlush && this.nr === this.max) return 0; // the planted bug: no room, and the page is dropped
    this.pages[this.nr++] = frame;
    modelAssert(this.nr <= this.max, 'VM_BUG_ON(tlb->nr > tlb->max)', () => `nr ${this.nr} max ${this.max}`);
    return this.max - this.nr;
  }

  *flushMmu(ctx: Kctx): Path {
    if (!this.needFlush) return;
    const caller = fnEnter(ctx, 'tlb_flush_mmu');
    this.needFlush = false;
    const startUs = countFlush(ctx);
    if (ctx.traits.freeBeforeFlush && !this.fastMode) {
      // the planted bug: the batch goes back to the allocator before the TLBs are flushed
      yield freePages(ctx, this.pages, this.nr);
      this.nr = 0;
    }
    if (!(this.fullmm && ctx.traits.fullmmNoFlush)) yield flushTlbMm(ctx, this.mm, ctx.traits.staleCpumask ? this.cpumaskAtGather : undefined);
    if (!this.fastMode) {
      yield freePages(ctx, this.pages, this.nr);
      this.nr = 0;
      // on the local array: memory was just freed, so try for a whole page again
      if (this.pages === this.local) yield this.allocBatch(ctx);
    }
    ctx.lat.recordUs('gatherFlush', ctx.now() - startUs);
    ctx.fn = caller;
  }

  *finishMmu(ctx: Kctx): Path {
    const caller = fnEnter(ctx, 'tlb_finish_mmu');
    yield this.flushMmu(ctx);
    // check_pgt_cache() is a no-op on x86
    if (this.pages !== this.local) {
      yield freePage(ctx, this.batchFrame);
      this.batchFrame = 0;
      if (spareBatchSlots.length < SPARE_BATCH_SLOTS_MAX) spareBatchSlots.push(this.pages);
      this.pages = this.local;
    }
    gatherDone(ctx, this);
    ctx.fn = caller;
  }
}

/** tlb_gather_mmu(&tlb, mm, fullmm). */
export function* reworkGatherMmu(ctx: Kctx, mm: number, fullmm: boolean): Path<MmuGather> {
  const fast = cpusOnline(ctx) <= 1;
  const tlb = new OnStackGather(mm, fullmm, fast);
  tlb.cpumaskAtGather = mmCpumask(ctx, mm);
  if (!fast) yield tlb.allocBatch(ctx);
  return tlb;
}
