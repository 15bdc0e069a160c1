// The file side of reverse mapping: a MAP_PRIVATE file vma is linked into the
// file's i_mmap when it is mapped and unlinked by free_pgtables, both under
// mapping->i_mmap_lock. That lock is a spinlock in 2.6.38 and a mutex after
// "mm: convert i_mmap_lock to a mutex" (--immap-lock). The 2.6.38 gather
// keeps preemption off around free_pgtables, so taking the mutex there sleeps
// in atomic context: the reason the series made the gather preemptible first.

import { FILE_FIELD, VMA_FLAGS } from '../machine/layout.ts';
import type { Path } from '../machine/step.ts';
import { modelAssert } from '../machine/errors.ts';
import type { Kctx } from '../sync/context.ts';
import { spinLock, spinUnlock, LockClass } from '../sync/spinlock.ts';
import { mutexLock, mutexUnlock } from '../sync/mutex.ts';
import type { Vma } from './vma.ts';

const FILE = 0;

function lockWord(ctx: Kctx): number {
  return ctx.m.file(FILE, FILE_FIELD.I_MMAP_LOCK);
}

export function* iMmapLock(ctx: Kctx, site: string): Path {
  if (ctx.config.immapLock === 'mutex') yield* mutexLock(ctx, lockWord(ctx), LockClass.I_MMAP_MUTEX, site);
  else yield* spinLock(ctx, lockWord(ctx), LockClass.I_MMAP_LOCK, site);
}

export function* iMmapUnlock(ctx: Kctx): Path {
  if (ctx.config.immapLock === 'mutex') yield* mutexUnlock(ctx, lockWord(ctx), LockClass.I_MMAP_MUTEX);
  else yield* spinUnlock(ctx, lockWord(ctx), LockClass.I_MMAP_LOCK);
}

/** __vma_link_file: insert into mapping->i_mmap. */
export function* vmaLinkFile(ctx: Kctx, vma: Vma): Path {
  modelAssert((vma.flags & VMA_FLAGS.FILE) !== 0, 'linking an anonymous vma into i_mmap', () => `[${vma.start}, ${vma.end})`);
  yield* iMmapLock(ctx, 'vma_link');
  ctx.mem[ctx.m.file(FILE, FILE_FIELD.I_MMAP_COUNT)]!++;
  yield* iMmapUnlock(ctx);
}

/** unlink_file_vma: hide the vma from rmap and truncate before its page tables go. */
export function* unlinkFileVma(ctx: Kctx, vma: Vma): Path {
  if ((vma.flags & VMA_FLAGS.FILE) === 0) return;
  yield* iMmapLock(ctx, 'unlink_file_vma');
  const at = ctx.m.file(FILE, FILE_FIELD.I_MMAP_COUNT);
  modelAssert(ctx.mem[at]! > 0, 'unlinking a vma i_mmap does not hold', () => `[${vma.start}, ${vma.end})`);
  ctx.mem[at]!--;
  yield* iMmapUnlock(ctx);
}
