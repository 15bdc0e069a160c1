// The 2.6.38 mmu_gather: one per cpu (DEFINE_PER_CPU mmu_gathers), taken with
// get_cpu_var so preemption is off from tlb_gather_mmu to tlb_finish_mmu and
// the batch cannot be shared with another task. FREE_PTE_NR is 506; the page
// that fills the batch flushes and frees it at once, wherever the caller is,
// which in zap_pte_range means under the pte lock. With one cpu online the
// gather is in fast mode and frees each page as it is removed.

import { CPU_FIELD } from '../machine/layout.ts';
import { mark } from '../machine/marks.ts';
import type { Path } from '../machine/step.ts';
import { fnEnter, type Kctx } from '../sync/context.ts';
import { preemptDisable, preemptEnable } from '../sync/preempt.ts';
import { flushTlbMm, cpusOnline } from '../cpu/tlbflush.ts';
import { freePage, freePages } from '../page/alloc.ts';
import { countFlush, gatherDone, tlbRemovePage, type MmuGather } from './gather.ts';

export const FREE_PTE_NR = 506;
const FAST_MODE_NR = -1; // ~0U

class PerCpuGather implements MmuGather {
  traceId: string | null = null;
  private readonly at: (field: number) => number;
  constructor(private readonly ctx: Kctx, readonly cpu: number) {
    this.at = (field) => ctx.m.cpu(cpu, field);
  }
  private get mem(): Int32Array {
    return this.ctx.mem;
  }
  get mm(): number {
    return this.mem[this.at(CPU_FIELD.GATHER_MM)]! - 1;
  }
  get fullmm(): boolean {
    return this.mem[this.at(CPU_FIELD.GATHER_FULLMM)] !== 0;
  }
  get fastMode(): boolean {
    return this.mem[this.at(CPU_FIELD.GATHER_NR)] === FAST_MODE_NR;
  }
  queued(): number {
    return this.fastMode ? 0 : this.mem[this.at(CPU_FIELD.GATHER_NR)]!;
  }
  setNeedFlush(): void {
    this.mem[this.at(CPU_FIELD.GATHER_NEED_FLUSH)] = 1;
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

  *removePage(ctx: Kctx, frame: number): Path<number> {
    this.setNeedFlush();
    if (this.fastMode) {
      yield freePage(ctx, frame);
      return 1;
    }
    const nrAt = this.at(CPU_FIELD.GATHER_NR);
    const nr = this.mem[nrAt]!;
    this.mem[this.at(CPU_FIELD.GATHER_PAGES + nr)] = frame;
    this.mem[nrAt] = nr + 1;
    if (nr + 1 >= FREE_PTE_NR) {
      if (ctx.ptlHeld > 0) mark('flushUnderPteLock');
      yield this.flushMmu(ctx);
    }
    return 1;
  }

  *flushMmu(ctx: Kctx): Path {
    const needAt = this.at(CPU_FIELD.GATHER_NEED_FLUSH);
    if (this.mem[needAt] === 0) return;
    const caller = fnEnter(ctx, 'tlb_flush_mmu');
    this.mem[needAt] = 0;
    const startUs = countFlush(ctx);
    yield flushTlbMm(ctx, this.mm);
    if (!this.fastMode) {
      const nr = this.mem[this.at(CPU_FIELD.GATHER_NR)]!;
      const base = this.at(CPU_FIELD.GATHER_PAGES);
      yield freePages(ctx, this.mem.subarray(base, base + nr), nr);
      this.mem[this.at(CPU_FIELD.GATHER_NR)] = 0;
    }
    ctx.lat.recordUs('gatherFlush', ctx.now() - startUs);
    ctx.fn = caller;
  }

  *finishMmu(ctx: Kctx): Path {
    const caller = fnEnter(ctx, 'tlb_finish_mmu');
    yield this.flushMmu(ctx);
    // check_pgt_cache() is a no-op on x86
    this.mem[this.at(CPU_FIELD.GATHER_IN_USE)] = 0;
    gatherDone(ctx, this);
    if (!ctx.traits.gatherPreemptible) yield preemptEnable(ctx, 'tlb_finish_mmu'); // put_cpu_var(mmu_gathers)
    ctx.fn = caller;
  }
}

/** tlb_gather_mmu(mm, full_mm_flush): &get_cpu_var(mmu_gathers), initialised. */
export function legacyGatherMmu(ctx: Kctx, mm: number, fullmm: boolean): MmuGather {
  if (!ctx.traits.gatherPreemptible) preemptDisable(ctx, 'tlb_gather_mmu'); // get_cpu_var
  const { m, mem } = ctx;
  mem[m.cpu(ctx.cpu, CPU_FIELD.GATHER_MM)] = mm + 1;
  mem[m.cpu(ctx.cpu, CPU_FIELD.GATHER_NR)] = cpusOnline(ctx) > 1 ? 0 : FAST_MODE_NR;
  mem[m.cpu(ctx.cpu, CPU_FIELD.GATHER_FULLMM)] = fullmm ? 1 : 0;
  mem[m.cpu(ctx.cpu, CPU_FIELD.GATHER_IN_USE)] = ctx.task + 1;
  return new PerCpuGather(ctx, ctx.cpu);
}
