// Task-level entry and exit of the kernel: return to user space (where
// TLB_AFTER_RETURN is decided), exit_mm with mmput, and the checks that run
// when the machine has stopped (RSS and page conservation). At rest every
// frame is free, reserved, reachable from some mm's page tables or in the
// file's page cache; each mm's MM_ANONPAGES and MM_FILEPAGES equal the
// anonymous and page-cache pages its ptes map; a page-cache page has one
// reference for the cache plus one per pte that maps it; and a clean page of
// a disk file holds no data newer than the disk's (LOST_WRITE).

import { FILE_FIELD, MM_FIELD, TASK_FIELD, PAGE_FIELD, PAGE_FLAG, PageState, PTRS_PER_TABLE, HDR, pteFrame, ptePresent } from '../machine/layout.ts';
import { Step, type Path } from '../machine/step.ts';
import type { Oracle } from '../oracle/rules.ts';
import type { Kctx } from '../sync/context.ts';
import { tlbEntriesInRange } from '../cpu/tlb.ts';
import { enterLazyTlb } from '../cpu/tlbflush.ts';
import { ZERO_PAGE } from '../page/alloc.ts';
import { lookupPteTable, pteIndex, readEntry } from './pgtable.ts';
import { exitMmap } from './mmap.ts';

/**
 * Return from munmap or madvise over [start, end): no TLB anywhere may still
 * translate an address there to anything but what its pte maps now. A page
 * that page_mkclean is working on is the exception: its ptes are none for a
 * moment while it flushes them (ptep_clear_flush), and an entry a fault
 * filled after this call's zap may still be waiting for that flush. So is an
 * entry filled after the call's last flush: a fault after this call's zap
 * mapped the page again, and another zap, still under way, has it
 * (concurrent MADV_DONTNEEDs under mmap_sem read); that zap answers for it.
 */
export function* returnToUser(ctx: Kctx, mm: number, start: number, end: number, syscall: string): Path {
  const flushedAt = ctx.task >= 0 ? ctx.mem[ctx.m.task(ctx.task, TASK_FIELD.CALL_FILL_SEQ)]! : -1;
  const since = flushedAt < 0 ? Infinity : flushedAt;
  for (const e of tlbEntriesInRange(ctx.m, mm, start, end, since)) {
    const table = lookupPteTable(ctx, mm, e.vpn);
    const pte = table === 0 ? 0 : readEntry(ctx, table, pteIndex(e.vpn));
    const frame = pteFrame(e.pte);
    const same = ptePresent(pte) && pteFrame(pte) === frame && Atomics.load(ctx.mem, ctx.m.page(frame, PAGE_FIELD.GEN)) === e.gen;
    const mkcleanFlushing = pte === 0 && Atomics.load(ctx.mem, ctx.m.page(frame, PAGE_FIELD.MKCLEAN_BUSY)) > 0;
    if (!same && !mkcleanFlushing) {
      ctx.oracle.report(
        'TLB_AFTER_RETURN',
        { cpu: ctx.cpu, task: ctx.task, mm, address: e.vpn * 4096, frame },
        `${syscall} returned while cpu ${e.cpu}'s TLB still maps vpn ${e.vpn} to frame ${frame}`,
      );
      break;
    }
  }
  yield Step.PREEMPT;
}

/** exit_mm: drop current->mm, go lazy on it, and mmput; the last user tears the mm down. */
export function* exitMm(ctx: Kctx): Path {
  const mm = ctx.mm;
  if (mm < 0) return;
  ctx.mm = -1;
  enterLazyTlb(ctx);
  if (Atomics.sub(ctx.mem, ctx.m.mm(mm, MM_FIELD.USERS), 1) === 1) yield exitMmap(ctx, mm);
}

/**
 * Anonymous and page-cache pages the page tables of `mm` map; marks every
 * frame reachable from its pgd and counts the ptes that map each frame.
 */
function walkMm(mem: Int32Array, m: Kctx['m'], mm: number, reach: Uint8Array, ptes: Int32Array): { anon: number; file: number } {
  const mapped = { anon: 0, file: 0 };
  const pgd = mem[m.mm(mm, MM_FIELD.PGD)]!;
  if (pgd === 0) return mapped;
  reach[pgd] = 1;
  const visit = (table: number, level: number): void => {
    for (let i = 0; i < PTRS_PER_TABLE; i++) {
      const e = mem[m.ptEntry(table, i)]!;
      if (e === 0) continue;
      const frame = pteFrame(e);
      if (level === 0) {
        if (frame !== ZERO_PAGE) {
          if (mem[m.page(frame, PAGE_FIELD.STATE)] === PageState.PAGECACHE) mapped.file++;
          else mapped.anon++;
          reach[frame] = 1;
          ptes[frame]!++;
        }
      } else {
        reach[frame] = 1;
        visit(frame, level - 1);
      }
    }
  };
  visit(pgd, 3);
  return mapped;
}

/**
 * LOST_WRITE for a page-cache page that leaves the cache's view (dropped, or
 * the run ends): if it is clean, the disk must hold its data version. The
 * task named is the page's last writer.
 */
export function checkPageWritten(mem: Int32Array, m: Kctx['m'], oracle: Oracle, page: number, index: number, cpu: number, when: string): void {
  if (mem[m.file(0, FILE_FIELD.ACCOUNT_DIRTY)] === 0 || (Atomics.load(mem, m.page(page, PAGE_FIELD.FLAGS)) & PAGE_FLAG.DIRTY) !== 0) return;
  const version = Atomics.load(mem, m.page(page, PAGE_FIELD.VERSION));
  const disk = Atomics.load(mem, m.fileDiskSlot(index));
  if (version <= disk) return;
  const writer = (Atomics.load(mem, m.page(page, PAGE_FIELD.DATA)) >>> 20) - 1;
  oracle.report('LOST_WRITE', { cpu, task: writer, mm: -1, frame: page }, `${when}: file page ${index} (frame ${page}) is clean with data version ${version}, the disk holds ${disk}; last written by task ${writer}`);
}

/** The file's page cache at rest: each page is reachable, and holds the cache's reference and one per mapping pte; a clean page's data is on the disk. */
function checkPageCache(mem: Int32Array, m: Kctx['m'], oracle: Oracle, reach: Uint8Array, ptes: Int32Array): void {
  let cached = 0;
  for (let index = 0; index < m.size.filePages; index++) {
    const frame = mem[m.pageCacheSlot(index)]!;
    if (frame === 0) continue;
    cached++;
    reach[frame] = 1;
    const state = mem[m.page(frame, PAGE_FIELD.STATE)];
    const count = mem[m.page(frame, PAGE_FIELD.REFCOUNT)]!;
    const mapcount = mem[m.page(frame, PAGE_FIELD.MAPCOUNT)]!;
    if (state !== PageState.PAGECACHE || mem[m.page(frame, PAGE_FIELD.INDEX)] !== index) {
      oracle.report('PAGE_LEAK', { cpu: -1, task: -1, mm: -1, frame }, `page-cache slot ${index} holds frame ${frame}, which is ${state === PageState.FREE ? 'free' : `not the page of file page ${index}`}`);
    } else if (mapcount !== ptes[frame] || count !== 1 + ptes[frame]!) {
      oracle.report('BAD_PAGE_MAP', { cpu: -1, task: -1, mm: -1, frame }, `page-cache page ${frame} (file page ${index}): count ${count}, mapcount ${mapcount}, mapped by ${ptes[frame]} ptes`);
    } else {
      checkPageWritten(mem, m, oracle, frame, index, -1, 'at the end of the run');
    }
  }
  const nr = mem[m.file(0, FILE_FIELD.NR_PAGES)]!;
  if (nr !== cached) oracle.report('PAGE_LEAK', { cpu: -1, task: -1, mm: -1 }, `the file's nrpages is ${nr}, its page cache holds ${cached}`);
}

/** RSS_MISMATCH, PAGE_LEAK and the page cache's counts, checked once every cpu has stopped. */
export function checkQuiescent(mem: Int32Array, m: Kctx['m'], oracle: Oracle, queuedInGathers: number): void {
  const reach = new Uint8Array(m.size.pages);
  const ptes = new Int32Array(m.size.pages);
  for (let mm = 0; mm < m.size.mms; mm++) {
    const mapped = walkMm(mem, m, mm, reach, ptes);
    const rss = mem[m.mm(mm, MM_FIELD.RSS_ANON)]!;
    if (rss !== mapped.anon) {
      oracle.report('RSS_MISMATCH', { cpu: -1, task: -1, mm }, `mm ${mm}: MM_ANONPAGES is ${rss}, page tables map ${mapped.anon}`);
    }
    const rssFile = mem[m.mm(mm, MM_FIELD.RSS_FILE)]!;
    if (rssFile !== mapped.file) {
      oracle.report('RSS_MISMATCH', { cpu: -1, task: -1, mm }, `mm ${mm}: MM_FILEPAGES is ${rssFile}, page tables map ${mapped.file} page-cache pages`);
    }
  }
  checkPageCache(mem, m, oracle, reach, ptes);
  let free = 0;
  let inUse = 0;
  let leaked = 0;
  let firstLeak = -1;
  for (let f = 0; f < m.size.pages; f++) {
    const state = mem[m.page(f, PAGE_FIELD.STATE)];
    if (state === PageState.FREE) free++;
    else if (state === PageState.RESERVED) continue;
    else if (reach[f]) inUse++;
    else {
      leaked++;
      if (firstLeak < 0) firstLeak = f;
    }
  }
  const total = m.size.pages - 2;
  if (free !== mem[HDR.FREE_TOP]) {
    oracle.report('PAGE_LEAK', { cpu: -1, task: -1, mm: -1 }, `${free} frames are marked free but the free list holds ${mem[HDR.FREE_TOP]}`);
  }
  if (free + inUse + queuedInGathers !== total) {
    oracle.report(
      'PAGE_LEAK',
      { cpu: -1, task: -1, mm: -1, frame: firstLeak },
      `free ${free} + in use ${inUse} + queued ${queuedInGathers} != total ${total}: ${leaked} frames unaccounted for, first ${firstLeak}`,
    );
  }
}
