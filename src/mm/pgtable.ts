// Four-level page tables (pgd, pud, pmd, pte) in physical frames, x86-64
// geometry, addressed by virtual page number. Upper levels are populated
// under mm->page_table_lock as __pte_alloc and friends do; a pte table's own
// split lock (page->ptl) guards its entries. Hardware (the TLB walker) reads
// entries without locks, so every entry is read and written with Atomics.

import { PAGE_FIELD, MM_FIELD, PageState, PTRS_PER_TABLE, PTE, mkPte, pteFrame, USER_VPN_LIMIT } from '../machine/layout.ts';
import { modelAssert } from '../machine/errors.ts';
import { Step, type Path } from '../machine/step.ts';
import type { Kctx } from '../sync/context.ts';
import { spinLock, spinUnlock, LockClass } from '../sync/spinlock.ts';
import { allocPage, freePage } from '../page/alloc.ts';

/** Pages covered by one entry at each level: pte, pmd, pud, pgd. */
export const PMD_PAGES = PTRS_PER_TABLE; // 2 MiB
export const PUD_PAGES = PTRS_PER_TABLE * PMD_PAGES; // 1 GiB
export const PGD_PAGES = PTRS_PER_TABLE * PUD_PAGES; // 512 GiB
/** The top of the user address space in pages (48-bit), the kernel's ceiling 0. */
export const TASK_SIZE_PAGES = PTRS_PER_TABLE * PGD_PAGES;

export function pgdIndex(vpn: number): number {
  return Math.floor(vpn / PGD_PAGES) % PTRS_PER_TABLE;
}
export function pudIndex(vpn: number): number {
  return Math.floor(vpn / PUD_PAGES) % PTRS_PER_TABLE;
}
export function pmdIndex(vpn: number): number {
  return Math.floor(vpn / PMD_PAGES) % PTRS_PER_TABLE;
}
export function pteIndex(vpn: number): number {
  return vpn % PTRS_PER_TABLE;
}
/** pgd_addr_end and friends: the next boundary of `size` pages, or end. */
export function addrEnd(vpn: number, end: number, size: number): number {
  const boundary = (Math.floor(vpn / size) + 1) * size;
  return boundary < end ? boundary : end;
}

export function readEntry(ctx: Kctx, table: number, index: number): number {
  return Atomics.load(ctx.mem, ctx.m.ptEntry(table, index));
}

export function pgdFrame(ctx: Kctx, mm: number): number {
  return ctx.mem[ctx.m.mm(mm, MM_FIELD.PGD)]!;
}

/** The lock word of a pte table: its split page->ptl. */
export function pteLockptr(ctx: Kctx, pteTable: number): number {
  return ctx.m.page(pteTable, PAGE_FIELD.PTL);
}

/** Walk without allocating: the pte table covering vpn, or 0. Hardware walks this way too. */
export function lookupPteTable(ctx: Kctx, mm: number, vpn: number): number {
  let table = pgdFrame(ctx, mm);
  for (const index of [pgdIndex(vpn), pudIndex(vpn), pmdIndex(vpn)]) {
    const e = readEntry(ctx, table, index);
    if (e === 0) return 0;
    table = pteFrame(e);
  }
  return table;
}

/** __pud_alloc / __pmd_alloc / __pte_alloc: populate one entry of `table` with a new table. */
function* allocLevel(ctx: Kctx, mm: number, table: number, index: number, level: number): Path<number> {
  const existing = readEntry(ctx, table, index);
  if (existing !== 0) return pteFrame(existing);
  const fresh = yield* allocPage(ctx, 'GFP_KERNEL', PageState.PAGETABLE);
  ctx.mem[ctx.m.page(fresh, PAGE_FIELD.MM)] = mm + 1;
  ctx.mem[ctx.m.page(fresh, PAGE_FIELD.INDEX)] = level;
  const ptl = ctx.m.mm(mm, MM_FIELD.PAGE_TABLE_LOCK);
  yield spinLock(ctx, ptl, LockClass.PAGE_TABLE_LOCK, ['', '__pte_alloc', '__pmd_alloc', '__pud_alloc'][level] ?? '__pgd_alloc');
  const now = readEntry(ctx, table, index);
  let result: number;
  if (now === 0) {
    Atomics.store(ctx.mem, ctx.m.ptEntry(table, index), mkPte(fresh, PTE.PRESENT));
    if (level === 1) Atomics.add(ctx.mem, ctx.m.mm(mm, MM_FIELD.NR_PTES), 1);
    result = fresh;
  } else {
    result = pteFrame(now);
  }
  yield Step.PTE;
  yield spinUnlock(ctx, ptl, LockClass.PAGE_TABLE_LOCK);
  if (result !== fresh) yield freePage(ctx, fresh); // another fault populated it first
  return result;
}

/** pud_alloc, pmd_alloc, pte_alloc_map down to the pte table covering vpn. */
export function* allocPteTable(ctx: Kctx, mm: number, vpn: number): Path<number> {
  modelAssert(vpn >= 0 && vpn < USER_VPN_LIMIT, 'user vpn out of range', () => `vpn ${vpn}`);
  let table = pgdFrame(ctx, mm);
  table = yield* allocLevel(ctx, mm, table, pgdIndex(vpn), 3);
  table = yield* allocLevel(ctx, mm, table, pudIndex(vpn), 2);
  table = yield* allocLevel(ctx, mm, table, pmdIndex(vpn), 1);
  return table;
}
