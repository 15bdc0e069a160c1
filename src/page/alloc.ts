// The page allocator: one zone, a stack of free frames under the zone lock
// (taken with interrupts off, as zone->lock is). Every allocation bumps the
// frame's generation, so a TLB entry filled from an older life of the frame
// is recognisably stale. A frame is returned only when no other cpu's TLB
// maps it (FREE_WHILE_REMOTE_TLB otherwise) and only once (DOUBLE_FREE).
// GFP_NOWAIT allocations fail as the run's alloc-fail policy says; the
// others may sleep and are checked against atomic context.
// Anonymous, page-table and batch pages have one owner and go back when it
// frees them. A page-cache page is shared (the page cache and every pte that
// maps it hold a reference): putting it drops one reference, and only the
// put that takes the count to 0 frees it, with the checks above.

import { HDR, PAGE_FIELD, PageState, PTRS_PER_TABLE, LOCK } from '../machine/layout.ts';
import { Step, type Path } from '../machine/step.ts';
import { OutOfMemory, modelAssert } from '../machine/errors.ts';
import type { Kctx } from '../sync/context.ts';
import { mightSleep } from '../sync/preempt.ts';
import { spinLockIrqsave, spinUnlockIrqrestore, LockClass } from '../sync/spinlock.ts';
import { cpusHoldingFrame, lazyStaleWalkers } from '../cpu/tlb.ts';

export type Gfp = 'GFP_KERNEL' | 'GFP_NOWAIT';
export type PageStateValue = (typeof PageState)[keyof typeof PageState];

/** Frames that are never handed out: 0 (so a pte of 0 is none) and the zero page. */
export const ZERO_PAGE = 1;
export const FIRST_FREE_FRAME = 2;
/** free_pages_and_swap_cache releases in chunks of PAGEVEC_SIZE. */
export const PAGEVEC_SIZE = 14;

/** Fill the free stacks; called once before any cpu runs. */
export function initAllocator(mem: Int32Array, m: Kctx['m']): void {
  const pages = m.size.pages;
  for (let f = 0; f < FIRST_FREE_FRAME; f++) mem[m.page(f, PAGE_FIELD.STATE)] = PageState.RESERVED;
  let top = 0;
  for (let f = pages - 1; f >= FIRST_FREE_FRAME; f--) mem[m.freeStackBase + top++] = f;
  mem[HDR.FREE_TOP] = top;
  for (let s = 0; s < m.size.ptSlots; s++) mem[m.ptFreeStackBase + s] = m.size.ptSlots - 1 - s;
  mem[HDR.PT_FREE_TOP] = m.size.ptSlots;
}

function gfpFails(ctx: Kctx, gfp: Gfp): boolean {
  if (gfp !== 'GFP_NOWAIT') return false;
  const policy = ctx.config.allocFail;
  if (policy.kind === 'never') return false;
  if (policy.kind === 'always') return true;
  if (policy.kind === 'once') return ctx.gfpNowaitCalls++ === 0;
  return ctx.rng.chance(policy.p);
}

/** __get_free_pages / alloc_page. Returns the frame, or 0 when a GFP_NOWAIT allocation fails. */
export function* allocPage(ctx: Kctx, gfp: Gfp, state: PageStateValue): Path<number> {
  if (gfp === 'GFP_KERNEL') yield mightSleep(ctx, 'alloc_page(GFP_KERNEL)');
  if (gfpFails(ctx, gfp)) return 0;
  const { m, mem } = ctx;
  yield spinLockIrqsave(ctx, HDR.ZONE_LOCK, LockClass.ZONE_LOCK, '__alloc_pages');
  const top = mem[HDR.FREE_TOP]!;
  let slot = -1;
  if (state === PageState.PAGETABLE && top > 0) {
    const ptTop = mem[HDR.PT_FREE_TOP]!;
    if (ptTop > 0) {
      mem[HDR.PT_FREE_TOP] = ptTop - 1;
      slot = mem[m.ptFreeStackBase + ptTop - 1]!;
    }
  }
  const frame = top > 0 && (state !== PageState.PAGETABLE || slot >= 0) ? mem[m.freeStackBase + top - 1]! : 0;
  if (frame !== 0) mem[HDR.FREE_TOP] = top - 1;
  ctx.trace?.counter('free pages', ctx.now(), mem[HDR.FREE_TOP]!);
  yield spinUnlockIrqrestore(ctx, HDR.ZONE_LOCK, LockClass.ZONE_LOCK);
  if (frame === 0) {
    if (gfp === 'GFP_NOWAIT') return 0;
    throw new OutOfMemory(`cpu ${ctx.cpu}: no free ${state === PageState.PAGETABLE ? 'page-table storage' : 'frame'} for a GFP_KERNEL allocation; the run needs more --memory`);
  }
  modelAssert(mem[m.page(frame, PAGE_FIELD.STATE)] === PageState.FREE, 'allocated frame not free', () => `frame ${frame}`);
  mem[m.page(frame, PAGE_FIELD.REFCOUNT)] = 1;
  mem[m.page(frame, PAGE_FIELD.MAPCOUNT)] = 0;
  mem[m.page(frame, PAGE_FIELD.MM)] = 0;
  mem[m.page(frame, PAGE_FIELD.INDEX)] = 0;
  mem[m.page(frame, PAGE_FIELD.PT_SLOT)] = slot + 1;
  mem[m.page(frame, PAGE_FIELD.FLAGS)] = 0;
  mem[m.page(frame, PAGE_FIELD.VERSION)] = 0;
  mem[m.page(frame, PAGE_FIELD.MKCLEAN_BUSY)] = 0;
  mem[m.page(frame, PAGE_FIELD.PTL + LOCK.NEXT)] = 0;
  mem[m.page(frame, PAGE_FIELD.PTL + LOCK.SERVING)] = 0;
  mem[m.page(frame, PAGE_FIELD.PTL + LOCK.OWNER)] = 0;
  Atomics.add(mem, m.page(frame, PAGE_FIELD.GEN), 1);
  Atomics.store(mem, m.page(frame, PAGE_FIELD.STATE), state);
  return frame;
}

/** Checks made as a frame goes back; reports and returns false when it must not. */
function checkFree(ctx: Kctx, frame: number): boolean {
  const { m, mem } = ctx;
  const state = Atomics.load(mem, m.page(frame, PAGE_FIELD.STATE));
  if (state === PageState.FREE || state === PageState.RESERVED) {
    ctx.oracle.report('DOUBLE_FREE', { cpu: ctx.cpu, task: ctx.task, mm: ctx.mm, frame }, `frame ${frame} freed while ${state === PageState.FREE ? 'already free' : 'reserved'}`);
    return false;
  }
  if (Atomics.load(mem, m.page(frame, PAGE_FIELD.TLB_REFS)) > 0) {
    const remote = cpusHoldingFrame(m, frame).filter((h) => h.cpu !== ctx.cpu);
    if (remote.length > 0) {
      const h = remote[0]!;
      ctx.oracle.report(
        'FREE_WHILE_REMOTE_TLB',
        { cpu: ctx.cpu, task: ctx.task, mm: h.mm, address: h.vpn * 4096, frame },
        `frame ${frame} freed by cpu ${ctx.cpu} while cpu ${h.cpu}'s TLB maps vpn ${h.vpn} of mm ${h.mm} to it`,
      );
    }
  }
  if (state === PageState.PAGETABLE) {
    const mm = mem[m.page(frame, PAGE_FIELD.MM)]! - 1;
    const walker = mm >= 0 ? lazyStaleWalkers(m, mm, ctx.cpu)[0] : undefined;
    if (walker !== undefined) {
      ctx.oracle.report(
        'FREE_WHILE_REMOTE_TLB',
        { cpu: ctx.cpu, task: ctx.task, mm, frame },
        `page table ${frame} of mm ${mm} freed by cpu ${ctx.cpu} while lazy cpu ${walker}, not told of the flush, still has the mm loaded and may walk it`,
      );
    }
    const base = m.ptSlotBase(mem[m.page(frame, PAGE_FIELD.PT_SLOT)]! - 1);
    for (let i = 0; i < PTRS_PER_TABLE; i++) {
      if (mem[base + i] === 0) continue;
      // the table stays allocated, so the run goes on without a use after free of its own
      ctx.oracle.report('FREE_LIVE_PAGE_TABLE', { cpu: ctx.cpu, task: ctx.task, mm: mem[m.page(frame, PAGE_FIELD.MM)]! - 1, frame }, `page table ${frame} freed while its entry ${i} is live`);
      return false;
    }
  }
  return true;
}

/** Return frames to the zone under one hold of the zone lock (the caller holds it). */
function freeLocked(ctx: Kctx, frames: ArrayLike<number>, from: number, to: number): void {
  const { m, mem } = ctx;
  for (let i = from; i < to; i++) {
    const frame = frames[i]!;
    if (!checkFree(ctx, frame)) continue;
    ctx.trace?.instant('free page', 'page', ctx.now(), { frame });
    const state = mem[m.page(frame, PAGE_FIELD.STATE)];
    if (state === PageState.ANON || state === PageState.PAGECACHE) ctx.stats.pagesFreed++;
    else if (state === PageState.PAGETABLE) ctx.stats.pageTablesFreed++;
    if (ctx.ptlHeld > 0) {
      ctx.stats.pagesFreedUnderPteLock++;
      ctx.ptlFreedThisHold++;
      if (ctx.ptlFreedThisHold > ctx.stats.maxPagesFreedInOnePteLockHold) ctx.stats.maxPagesFreedInOnePteLockHold = ctx.ptlFreedThisHold;
    }
    const slot = mem[m.page(frame, PAGE_FIELD.PT_SLOT)]! - 1;
    if (slot >= 0) {
      mem[m.ptFreeStackBase + mem[HDR.PT_FREE_TOP]!] = slot;
      mem[HDR.PT_FREE_TOP]!++;
      mem[m.page(frame, PAGE_FIELD.PT_SLOT)] = 0;
    }
    mem[m.page(frame, PAGE_FIELD.REFCOUNT)] = 0;
    mem[m.page(frame, PAGE_FIELD.MAPCOUNT)] = 0;
    mem[m.page(frame, PAGE_FIELD.MM)] = 0;
    Atomics.store(mem, m.page(frame, PAGE_FIELD.STATE), PageState.FREE);
    const top = mem[HDR.FREE_TOP]!;
    modelAssert(top < m.size.pages, 'free stack overflow', () => `frame ${frame}`);
    mem[m.freeStackBase + top] = frame;
    mem[HDR.FREE_TOP] = top + 1;
  }
}

/**
 * put_page_testzero for a page-cache page: drop one reference, and say whether
 * it was the last (the page must be freed). Any other page has one owner, whose
 * put is always the last.
 */
function putPageTestzero(ctx: Kctx, frame: number): boolean {
  // the caller holds a reference, so the state cannot change under this read
  if (ctx.mem[ctx.m.page(frame, PAGE_FIELD.STATE)] !== PageState.PAGECACHE) return true;
  const left = Atomics.sub(ctx.mem, ctx.m.page(frame, PAGE_FIELD.REFCOUNT), 1) - 1;
  modelAssert(left >= 0, 'page-cache page put more often than it was got', () => `frame ${frame}: count ${left}`);
  return left === 0;
}

/**
 * put_page of each frame (free_pages_and_swap_cache -> release_pages),
 * PAGEVEC_SIZE a chunk: a page whose last reference goes is freed under the
 * zone lock; a page-cache page that keeps a reference stays, and a chunk
 * that frees nothing takes no lock (release_pages takes one only for pages
 * it frees).
 */
export function* freePages(ctx: Kctx, frames: ArrayLike<number>, nr: number): Path {
  for (let from = 0; from < nr; from += PAGEVEC_SIZE) {
    const to = Math.min(nr, from + PAGEVEC_SIZE);
    let last: number[] | null = null; // the frames to free, when some page-cache page in the chunk stays
    for (let i = from; i < to; i++) {
      if (putPageTestzero(ctx, frames[i]!)) last?.push(frames[i]!);
      else last ??= Array.from({ length: i - from }, (_, k) => frames[from + k]!);
    }
    if (last !== null && last.length === 0) continue;
    yield spinLockIrqsave(ctx, HDR.ZONE_LOCK, LockClass.ZONE_LOCK, 'free_pages_and_swap_cache');
    if (last === null) freeLocked(ctx, frames, from, to);
    else freeLocked(ctx, last, 0, last.length);
    yield Step.FREE;
    ctx.trace?.counter('free pages', ctx.now(), ctx.mem[HDR.FREE_TOP]!);
    yield spinUnlockIrqrestore(ctx, HDR.ZONE_LOCK, LockClass.ZONE_LOCK);
  }
}

/** get_page: one more reference to a page-cache page on which the caller, or the page cache it found it in, already holds one. */
export function getPage(ctx: Kctx, frame: number): void {
  modelAssert(Atomics.load(ctx.mem, ctx.m.page(frame, PAGE_FIELD.STATE)) === PageState.PAGECACHE, 'get_page on a page that is not in the page cache', () => `frame ${frame}`);
  const was = Atomics.add(ctx.mem, ctx.m.page(frame, PAGE_FIELD.REFCOUNT), 1);
  modelAssert(was > 0, 'get_page on a page with no reference', () => `frame ${frame}`);
}

/** free_page_and_swap_cache / free_pages for one frame. */
export function* freePage(ctx: Kctx, frame: number): Path {
  yield freePages(ctx, [frame], 1);
}
