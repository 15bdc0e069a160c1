// The file side of reverse mapping, and the file's size. A file vma
// (MAP_PRIVATE or MAP_SHARED) is linked into the file's i_mmap when it is
// mapped and unlinked by free_pgtables, both under mapping->i_mmap_lock, so
// whoever holds that lock (truncate) sees exactly the vmas whose page tables
// still exist. That lock is a spinlock in 2.6.38 and a mutex after "mm:
// convert i_mmap_lock to a mutex" (--immap-lock). The 2.6.38 gather keeps
// preemption off around free_pgtables, so taking the mutex there sleeps in
// atomic context: the reason the series made the gather preemptible first.

import { FILE_FIELD, MAX_VMAS, MUTEX, VMA_FIELD, VMA_FLAGS } from '../machine/layout.ts';
import type { Path } from '../machine/step.ts';
import { modelAssert } from '../machine/errors.ts';
import type { Kctx } from '../sync/context.ts';
import { spinLock, spinUnlock, spinNeedbreak, LockClass } from '../sync/spinlock.ts';
import { mutexLock, mutexUnlock } from '../sync/mutex.ts';
import type { Vma } from './vma.ts';

const FILE = 0;

/** The i_mmap lock's word (a spinlock or a struct mutex, by --immap-lock). */
export function iMmapLockWord(ctx: Kctx): number {
  return ctx.m.file(FILE, FILE_FIELD.I_MMAP_LOCK);
}

export function* iMmapLock(ctx: Kctx, site: string): Path {
  if (ctx.config.immapLock === 'mutex') yield mutexLock(ctx, iMmapLockWord(ctx), LockClass.I_MMAP_MUTEX, site);
  else yield spinLock(ctx, iMmapLockWord(ctx), LockClass.I_MMAP_LOCK, site);
}

export function* iMmapUnlock(ctx: Kctx): Path {
  if (ctx.config.immapLock === 'mutex') yield mutexUnlock(ctx, iMmapLockWord(ctx), LockClass.I_MMAP_MUTEX);
  else yield spinUnlock(ctx, iMmapLockWord(ctx), LockClass.I_MMAP_LOCK);
}

/**
 * Someone waits for the i_mmap lock: spin_needbreak for the spinlock (live
 * only under CONFIG_PREEMPT), mutex_is_contended (count < 0, "mutex: provide
 * mutex_is_contended") for the mutex, which is not tied to the preemption model.
 */
export function iMmapNeedbreak(ctx: Kctx, lock: number): boolean {
  if (ctx.config.immapLock === 'mutex') return Atomics.load(ctx.mem, lock + MUTEX.COUNT) < 0;
  return spinNeedbreak(ctx, lock);
}

/** vma_link for a file vma: __vma_link_file inserts it into mapping->i_mmap, and vm_truncate_count starts at the mapping's. */
export function* vmaLinkFile(ctx: Kctx, vma: Vma, mm: number = ctx.mm): Path {
  modelAssert((vma.flags & VMA_FLAGS.FILE) !== 0, 'linking an anonymous vma into i_mmap', () => `[${vma.start}, ${vma.end})`);
  const { m, mem } = ctx;
  yield iMmapLock(ctx, 'vma_link');
  modelAssert(mem[m.vma(mm, vma.slot, VMA_FIELD.I_MMAP)] === 0, 'vma linked into i_mmap twice', () => `mm ${mm} [${vma.start}, ${vma.end})`);
  mem[m.vma(mm, vma.slot, VMA_FIELD.TRUNCATE_COUNT)] = mem[m.file(FILE, FILE_FIELD.TRUNCATE_COUNT)]!;
  mem[m.vma(mm, vma.slot, VMA_FIELD.I_MMAP)] = 1;
  mem[m.file(FILE, FILE_FIELD.I_MMAP_COUNT)]!++;
  yield iMmapUnlock(ctx);
}

/** unlink_file_vma: hide the vma from rmap and truncate before its page tables go. */
export function* unlinkFileVma(ctx: Kctx, vma: Vma, mm: number = ctx.mm): Path {
  if ((vma.flags & VMA_FLAGS.FILE) === 0) return;
  const { m, mem } = ctx;
  yield iMmapLock(ctx, 'unlink_file_vma');
  const at = m.file(FILE, FILE_FIELD.I_MMAP_COUNT);
  modelAssert(mem[at]! > 0 && mem[m.vma(mm, vma.slot, VMA_FIELD.I_MMAP)] === 1, 'unlinking a vma i_mmap does not hold', () => `mm ${mm} [${vma.start}, ${vma.end})`);
  mem[m.vma(mm, vma.slot, VMA_FIELD.I_MMAP)] = 0;
  mem[at]!--;
  yield iMmapUnlock(ctx);
}

/** A vma linked into i_mmap, with its mm (vma->vm_mm). It maps file page (vpn - start + pgoff). */
export interface FileVma extends Vma {
  mm: number;
  pgoff: number;
}

/** vma->vm_pgoff, in pages: the file page the vma's first page maps (0 for anonymous vmas). */
export function vmaPgoff(ctx: Kctx, mm: number, vma: Vma): number {
  return ctx.mem[ctx.m.vma(mm, vma.slot, VMA_FIELD.PGOFF)]!;
}

/**
 * The vmas in mapping->i_mmap whose file pages reach `firstIndex` or beyond
 * (vma_prio_tree_foreach over [first_index, ULONG_MAX]), by mm then address.
 * The caller holds the i_mmap lock.
 */
export function iMmapVmas(ctx: Kctx, firstIndex: number): FileVma[] {
  const { m, mem } = ctx;
  const out: FileVma[] = [];
  for (let mm = 0; mm < m.size.mms; mm++) {
    const linked: FileVma[] = [];
    for (let slot = 0; slot < MAX_VMAS; slot++) {
      if (mem[m.vma(mm, slot, VMA_FIELD.I_MMAP)] === 0) continue;
      const start = mem[m.vma(mm, slot, VMA_FIELD.START)]!;
      const end = mem[m.vma(mm, slot, VMA_FIELD.END)]!;
      const pgoff = mem[m.vma(mm, slot, VMA_FIELD.PGOFF)]!;
      if (pgoff + end - start - 1 < firstIndex) continue;
      // FLAGS is cleared at detach, before free_pgtables unlinks: a linked vma is always a file vma
      linked.push({ mm, slot, start, end, flags: VMA_FLAGS.USED | VMA_FLAGS.FILE, pgoff });
    }
    out.push(...linked.sort((a, b) => a.start - b.start));
  }
  return out;
}

/** i_size_read, in pages: Infinity until the file's first truncate. */
export function iSizeRead(ctx: Kctx): number {
  if (Atomics.load(ctx.mem, ctx.m.file(FILE, FILE_FIELD.I_SIZE_SET)) === 0) return Infinity;
  return Atomics.load(ctx.mem, ctx.m.file(FILE, FILE_FIELD.I_SIZE));
}

/** i_size_write: the size first, then the word that makes it valid, so a reader never sees a half-written size. */
export function iSizeWrite(ctx: Kctx, pages: number): void {
  Atomics.store(ctx.mem, ctx.m.file(FILE, FILE_FIELD.I_SIZE), pages);
  Atomics.store(ctx.mem, ctx.m.file(FILE, FILE_FIELD.I_SIZE_SET), 1);
}

/** The file's words, for truncate (truncate_count, the one-truncator guard). */
export function fileWord(ctx: Kctx, field: number): number {
  return ctx.m.file(FILE, field);
}
