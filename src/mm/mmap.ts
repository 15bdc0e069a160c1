// munmap (unmap_region), exit_mmap and zap_page_range (madvise DONTNEED, and
// truncate on each mapper's mm), with free_pgtables. Each brackets its zap
// with one gather: tlb_gather_mmu, zap, free the page tables nobody else
// spans, tlb_finish_mmu, so every page and page table goes back only after
// the flush that covers it.

import { MM_FIELD, PTRS_PER_TABLE, TASK_FIELD, pteFrame } from '../machine/layout.ts';
import { call, Step, type Path } from '../machine/step.ts';
import { BadInput, modelAssert } from '../machine/errors.ts';
import { fnEnter, type Kctx } from '../sync/context.ts';
import { downRead, downWrite, upRead, upWrite } from '../sync/rwsem.ts';
import type { MmuGather } from '../gather/gather.ts';
import { tlbGatherMmu } from '../gather/variants.ts';
import { unmapVmas, type GatherRef, type ZapDetails } from './memory.ts';
import { addrEnd, pgdFrame, pgdIndex, pudIndex, pmdIndex, readEntry, PMD_PAGES, PUD_PAGES, PGD_PAGES, TASK_SIZE_PAGES } from './pgtable.ts';
import { detachVma, vmas, type Vma } from './vma.ts';
import { unlinkFileVma } from './rmap.ts';

const FIRST_USER_ADDRESS = 0;

/** pte_free_tlb / pmd_free_tlb / pud_free_tlb on x86, for the table that mapped from `vpn`: the range and level to flush, then the table to its batch. */
function* pgtableFreeTlb(ctx: Kctx, tlb: MmuGather, table: number, vpn: number, level: number): Path {
  tlb.freeTableAt(vpn, level);
  yield tlb.removeTable(ctx, table);
}

/** Clear entry `index` of `table`, which points at the lower table that maps from `vpn`, and queue that table. */
function* clearAndFree(ctx: Kctx, tlb: MmuGather, table: number, index: number, level: number, vpn: number): Path {
  const at = ctx.m.ptEntry(table, index);
  const lower = pteFrame(Atomics.exchange(ctx.mem, at, 0));
  modelAssert(lower !== 0, 'freeing a table under a none entry', () => `table ${table} index ${index}`);
  yield Step.PTE;
  if (level === 1) Atomics.sub(ctx.mem, ctx.m.mm(tlb.mm, MM_FIELD.NR_PTES), 1);
  yield pgtableFreeTlb(ctx, tlb, lower, vpn, level);
}

/**
 * free_pgd_range(tlb, addr, end, floor, ceiling), in pages. A ceiling of 0
 * is the top of the address space. A table is freed only when its whole
 * span lies within [floor, ceiling), so a table another vma uses survives.
 */
export function* freePgdRange(ctx: Kctx, tlb: MmuGather, addr: number, end: number, floor: number, ceiling: number): Path {
  const top = ceiling === 0 ? TASK_SIZE_PAGES : ceiling;
  addr -= addr % PMD_PAGES;
  if (addr < floor) {
    addr += PMD_PAGES;
    if (addr >= TASK_SIZE_PAGES) return;
  }
  let ceil = top;
  ceil -= ceil % PMD_PAGES;
  if (ceil === 0) return;
  if (end > ceil) end -= PMD_PAGES;
  if (addr > end - 1) return;
  const pgd = pgdFrame(ctx, tlb.mm);
  let next: number;
  do {
    next = addrEnd(addr, end, PGD_PAGES);
    if (readEntry(ctx, pgd, pgdIndex(addr)) === 0) continue;
    yield freePudRange(ctx, tlb, pgd, addr, next, floor, top);
  } while ((addr = next) !== end);
}

function* freePudRange(ctx: Kctx, tlb: MmuGather, pgd: number, addr: number, end: number, floor: number, ceiling: number): Path {
  const pud = pteFrame(readEntry(ctx, pgd, pgdIndex(addr)));
  let start = addr;
  let next: number;
  do {
    next = addrEnd(addr, end, PUD_PAGES);
    if (readEntry(ctx, pud, pudIndex(addr)) === 0) continue;
    yield freePmdRange(ctx, tlb, pud, addr, next, floor, ceiling);
  } while ((addr = next) !== end);
  start -= start % PGD_PAGES;
  if (start < floor) return;
  const ceil = ceiling - (ceiling % PGD_PAGES);
  if (ceil === 0) return;
  if (end > ceil) return;
  yield clearAndFree(ctx, tlb, pgd, pgdIndex(start), 3, start);
}

function* freePmdRange(ctx: Kctx, tlb: MmuGather, pud: number, addr: number, end: number, floor: number, ceiling: number): Path {
  const pmd = pteFrame(readEntry(ctx, pud, pudIndex(addr)));
  let start = addr;
  let next: number;
  do {
    next = addrEnd(addr, end, PMD_PAGES);
    if (readEntry(ctx, pmd, pmdIndex(addr)) === 0) continue;
    yield clearAndFree(ctx, tlb, pmd, pmdIndex(addr), 1, addr); // free_pte_range
  } while ((addr = next) !== end);
  start -= start % PUD_PAGES;
  if (start < floor) return;
  const ceil = ceiling - (ceiling % PUD_PAGES);
  if (ceil === 0) return;
  if (end > ceil) return;
  yield clearAndFree(ctx, tlb, pud, pudIndex(start), 2, start);
}

/** free_pgtables(tlb, vma list, floor, ceiling): vmas within PMD_SIZE of each other share one range. */
export function* freePgtables(ctx: Kctx, tlb: MmuGather, list: Vma[], floor: number, ceiling: number): Path {
  const caller = fnEnter(ctx, 'free_pgtables');
  for (let i = 0; i < list.length; ) {
    const addr = list[i]!.start;
    // unlink_anon_vmas: no anon_vma chains in this model; unlink_file_vma takes the i_mmap lock
    let last = list[i]!;
    yield unlinkFileVma(ctx, last, tlb.mm);
    while (i + 1 < list.length && list[i + 1]!.start <= last.end + PMD_PAGES) {
      last = list[++i]!;
      yield unlinkFileVma(ctx, last, tlb.mm);
    }
    const next = list[i + 1];
    yield freePgdRange(ctx, tlb, addr, last.end, floor, next ? next.start : ceiling);
    i++;
  }
  ctx.fn = caller;
}

/** unmap_region(mm, vma, prev, start, end). */
function* unmapRegion(ctx: Kctx, mm: number, list: Vma[], prev: Vma | undefined, next: Vma | undefined, start: number, end: number): Path {
  const caller = fnEnter(ctx, 'unmap_region');
  // lru_add_drain: no LRU in this model
  const tlbp: GatherRef = { tlb: yield* tlbGatherMmu(ctx, mm, false, start, end) };
  // update_hiwater_rss
  yield unmapVmas(ctx, tlbp, list, start, end, null);
  const tlb = tlbp.tlb!;
  yield freePgtables(ctx, tlb, list, prev ? prev.end : FIRST_USER_ADDRESS, next ? next.start : 0);
  yield tlb.finishMmu(ctx);
  ctx.fn = caller;
}

/** An unmapping system call begins, with no flush yet: returnToUser answers for every TLB entry until the call flushes. */
export function unmapCallBegins(ctx: Kctx): void {
  if (ctx.task >= 0) ctx.mem[ctx.m.task(ctx.task, TASK_FIELD.CALL_FILL_SEQ)] = -1;
}

/** munmap(start, len) of whole mappings, with mmap_sem held for write. */
export function* doMunmap(ctx: Kctx, mm: number, start: number, end: number): Path {
  const sem = ctx.m.mm(mm, MM_FIELD.MMAP_SEM);
  const caller = fnEnter(ctx, 'do_munmap');
  unmapCallBegins(ctx);
  yield downWrite(ctx, sem, 'sys_munmap');
  const all = vmas(ctx, mm);
  const list = all.filter((v) => v.start < end && start < v.end);
  for (const v of list) {
    if (v.start < start || v.end > end) throw new BadInput(`munmap [${start}, ${end}) splits mapping [${v.start}, ${v.end}); only whole mappings are unmapped`);
  }
  if (list.length > 0) {
    const prev = all.filter((v) => v.end <= start).pop();
    const next = all.find((v) => v.start >= end);
    const detachedAt = ctx.m.mm(mm, MM_FIELD.DETACHED_PAGES);
    for (const v of list) {
      detachVma(ctx, mm, v); // detach_vmas_to_be_unmapped
      Atomics.add(ctx.mem, detachedAt, v.end - v.start);
    }
    yield unmapRegion(ctx, mm, list, prev, next, start, end);
    // remove_vma_list: total_vm goes down; nothing more to free for anonymous vmas
    for (const v of list) Atomics.sub(ctx.mem, detachedAt, v.end - v.start);
  }
  yield upWrite(ctx, sem);
  ctx.fn = caller;
}

/**
 * zap_page_range(vma, address, size, details), on vma->vm_mm (`mm`: current's
 * for madvise, another mm's for truncate). Returns where the zap stopped:
 * `end`, or a restart address when the truncate path's i_mmap lock asked for
 * a break (2.6.38 has then finished the gather already; the rework finishes
 * it here).
 */
export function* zapPageRange(ctx: Kctx, vma: Vma, start: number, end: number, details: ZapDetails | null = null, mm: number = ctx.mm): Path<number> {
  const caller = fnEnter(ctx, 'zap_page_range');
  const tlbp: GatherRef = { tlb: yield* tlbGatherMmu(ctx, mm, false, start, end) };
  const reached = yield* call(unmapVmas(ctx, tlbp, [vma], start, end, details));
  // 2.6.38: unmap_vmas may have finished the gather already (tlb == NULL); the rework always finishes
  if (tlbp.tlb) yield tlbp.tlb.finishMmu(ctx);
  ctx.fn = caller;
  return reached;
}

/** madvise(start, len, MADV_DONTNEED), with mmap_sem held for read. */
export function* madviseDontneed(ctx: Kctx, mm: number, start: number, end: number): Path {
  const sem = ctx.m.mm(mm, MM_FIELD.MMAP_SEM);
  const caller = fnEnter(ctx, 'madvise_dontneed');
  unmapCallBegins(ctx);
  yield downRead(ctx, sem, 'madvise');
  for (const vma of vmas(ctx, mm)) {
    const s = Math.max(vma.start, start);
    const e = Math.min(vma.end, end);
    if (s < e) yield zapPageRange(ctx, vma, s, e);
  }
  yield upRead(ctx, sem);
  ctx.fn = caller;
}

/** exit_mmap(mm): mm_users is 0, no mmap_sem; fullmm. The pgd goes last, outside the gather. */
export function* exitMmap(ctx: Kctx, mm: number): Path {
  const caller = fnEnter(ctx, 'exit_mmap');
  const list = vmas(ctx, mm);
  if (list.length > 0) {
    const tlbp: GatherRef = { tlb: yield* tlbGatherMmu(ctx, mm, true, 0, TASK_SIZE_PAGES) };
    yield unmapVmas(ctx, tlbp, list, 0, TASK_SIZE_PAGES, null);
    const tlb = tlbp.tlb!;
    yield freePgtables(ctx, tlb, list, FIRST_USER_ADDRESS, 0);
    yield tlb.finishMmu(ctx);
    for (const v of list) detachVma(ctx, mm, v); // remove_vma, preemptible
  }
  // the pgd stays until mmdrop, when the last lazy cpu lets go of the mm; a run ends before that
  const pgd = pgdFrame(ctx, mm);
  for (let i = 0; i < PTRS_PER_TABLE; i++) modelAssert(readEntry(ctx, pgd, i) === 0, 'pgd not empty after exit_mmap', () => `mm ${mm} index ${i}`);
  Atomics.store(ctx.mem, ctx.m.mm(mm, MM_FIELD.EXITED), 1);
  ctx.fn = caller;
}
