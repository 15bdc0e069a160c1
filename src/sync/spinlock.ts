// Ticket spinlocks on Atomics. spin_lock disables preemption for the hold, as
// it does under CONFIG_PREEMPT; a failed spin is a step point and keeps
// servicing interrupts unless the caller disabled them. Only the holder may
// release (LOCK_NOT_OWNER otherwise). pte-lock waits and holds are timed.

import { LOCK } from '../machine/layout.ts';
import { Step, type Path } from '../machine/step.ts';
import type { Kctx } from './context.ts';
import { preemptDisable, preemptEnable, localIrqSave, localIrqRestore } from './preempt.ts';
import { SpinWatch } from './spin.ts';

export const LockClass = {
  PTE_LOCK: 'ptlock_ptr(page)',
  PAGE_TABLE_LOCK: '&mm->page_table_lock',
  ZONE_LOCK: '&zone->lock',
  MMAP_SEM: '&mm->mmap_sem',
  I_MMAP_LOCK: '&mapping->i_mmap_lock',
  RWSEM_WAIT_LOCK: '&sem->wait_lock',
  MUTEX_WAIT_LOCK: '&lock->wait_lock',
} as const;
export type LockClassName = (typeof LockClass)[keyof typeof LockClass];

/** Where a section opened or closed by each lock class is reported (the preemptirqsoff tracer's symbols). */
const LOCK_WHERE = Object.fromEntries(Object.values(LockClass).map((c) => [c, `spin_lock(${c})`])) as Record<LockClassName, string>;
const UNLOCK_WHERE = Object.fromEntries(Object.values(LockClass).map((c) => [c, `spin_unlock(${c})`])) as Record<LockClassName, string>;

function* acquire(ctx: Kctx, lock: number, cls: LockClassName): Path {
  const mem = ctx.mem;
  const ticket = Atomics.add(mem, lock + LOCK.NEXT, 1);
  const startUs = cls === LockClass.PTE_LOCK ? ctx.now() : 0;
  if (Atomics.load(mem, lock + LOCK.SERVING) !== ticket) {
    const watch = new SpinWatch(ctx, cls);
    do {
      watch.tick();
      yield Step.SPIN;
    } while (Atomics.load(mem, lock + LOCK.SERVING) !== ticket);
  }
  Atomics.store(mem, lock + LOCK.OWNER, ctx.cpu + 1);
  if (cls === LockClass.PTE_LOCK) {
    const nowUs = ctx.now();
    ctx.lat.recordUs('pteLockWait', nowUs - startUs);
    ctx.ptlSinceUs.set(lock, nowUs);
  }
  yield Step.LOCK;
}

function release(ctx: Kctx, lock: number, cls: LockClassName): void {
  const mem = ctx.mem;
  const owner = Atomics.load(mem, lock + LOCK.OWNER);
  if (owner !== ctx.cpu + 1) {
    ctx.oracle.report('LOCK_NOT_OWNER', { cpu: ctx.cpu, task: ctx.task, mm: ctx.mm }, `${cls} released by cpu ${ctx.cpu}, held by ${owner === 0 ? 'nobody' : `cpu ${owner - 1}`}`);
    return;
  }
  if (cls === LockClass.PTE_LOCK) {
    const since = ctx.ptlSinceUs.get(lock);
    if (since !== undefined) ctx.lat.recordUs('pteLockHold', ctx.now() - since);
    ctx.ptlSinceUs.delete(lock);
  }
  Atomics.store(mem, lock + LOCK.OWNER, 0);
  Atomics.add(mem, lock + LOCK.SERVING, 1);
}

export function* spinLock(ctx: Kctx, lock: number, cls: LockClassName): Path {
  preemptDisable(ctx, LOCK_WHERE[cls]);
  yield* acquire(ctx, lock, cls);
}

export function* spinUnlock(ctx: Kctx, lock: number, cls: LockClassName): Path {
  release(ctx, lock, cls);
  yield Step.LOCK;
  yield* preemptEnable(ctx, UNLOCK_WHERE[cls]);
}

/** spin_lock_irqsave: interrupts stay off while spinning, as in the kernel. */
export function* spinLockIrqsave(ctx: Kctx, lock: number, cls: LockClassName): Path {
  localIrqSave(ctx, LOCK_WHERE[cls]);
  preemptDisable(ctx, LOCK_WHERE[cls]);
  yield* acquire(ctx, lock, cls);
}

export function* spinUnlockIrqrestore(ctx: Kctx, lock: number, cls: LockClassName): Path {
  release(ctx, lock, cls);
  localIrqRestore(ctx, UNLOCK_WHERE[cls]);
  yield Step.LOCK;
  yield* preemptEnable(ctx, UNLOCK_WHERE[cls]);
}

/** spin_needbreak: someone waits for this lock; live only under CONFIG_PREEMPT. */
export function spinNeedbreak(ctx: Kctx, lock: number): boolean {
  if (ctx.config.preempt !== 'full') return false;
  return Atomics.load(ctx.mem, lock + LOCK.NEXT) - Atomics.load(ctx.mem, lock + LOCK.SERVING) > 1;
}
