// Ticket spinlocks on Atomics. spin_lock disables preemption for the hold, as
// it does under CONFIG_PREEMPT; a failed spin is a step point and keeps
// servicing interrupts unless the caller disabled them. Only the holder may
// release (LOCK_NOT_OWNER otherwise). pte-lock waits and holds are timed.
// In model time: the releaser stamps the lock with its clock before it
// serves the next ticket, and the next holder goes on no earlier than that
// stamp plus a cache-line transfer when the lock comes from another cpu. A
// wait lasts from the first try to that moment, however many times the host
// spun meanwhile.

import { LOCK, loadNs, storeNs } from '../machine/layout.ts';
import { Step, type Call, type Path } from '../machine/step.ts';
import { clockAtLeast, type Kctx } from './context.ts';
import { preemptDisable, preemptEnable, localIrqSave, localIrqRestore } from './preempt.ts';
import { SpinWatch } from './spin.ts';
import { kickWaiters } from './pv.ts';

export const LockClass = {
  PTE_LOCK: 'ptlock_ptr(page)',
  PAGE_TABLE_LOCK: '&mm->page_table_lock',
  ZONE_LOCK: '&zone->lock',
  MMAP_SEM: '&mm->mmap_sem',
  I_MMAP_LOCK: '&mapping->i_mmap_lock',
  I_MMAP_MUTEX: '&mapping->i_mmap_mutex',
  TREE_LOCK: '&mapping->tree_lock',
  RWSEM_WAIT_LOCK: '&sem->wait_lock',
  MUTEX_WAIT_LOCK: '&lock->wait_lock',
} as const;
export type LockClassName = (typeof LockClass)[keyof typeof LockClass];

/** Where a section opened or closed by each lock class is reported (the preemptirqsoff tracer's symbols). */
const LOCK_WHERE = Object.fromEntries(Object.values(LockClass).map((c) => [c, `spin_lock(${c})`])) as Record<LockClassName, string>;
const UNLOCK_WHERE = Object.fromEntries(Object.values(LockClass).map((c) => [c, `spin_unlock(${c})`])) as Record<LockClassName, string>;

/** Microseconds to nanoseconds, for lock_stat. */
function ns(us: number): number {
  return Math.round(us * 1000);
}

/** Take a ticket; the lock is this cpu's once the ticket is served. A plain callee (step.ts): a frame only when it has to spin. */
function acquire(ctx: Kctx, lock: number, cls: LockClassName, site: string): Call {
  const ticket = Atomics.add(ctx.mem, lock + LOCK.NEXT, 1);
  const startUs = ctx.timesLocks ? ctx.now() : 0;
  if (Atomics.load(ctx.mem, lock + LOCK.SERVING) !== ticket) return spinUntilServed(ctx, lock, cls, site, ticket, startUs);
  owned(ctx, lock, cls, site, false, startUs);
  return Step.LOCK;
}

function* spinUntilServed(ctx: Kctx, lock: number, cls: LockClassName, site: string, ticket: number, startUs: number): Path {
  const watch = new SpinWatch(ctx, cls, 1, lock);
  do {
    watch.tick();
    yield Step.SPIN;
  } while (Atomics.load(ctx.mem, lock + LOCK.SERVING) !== ticket);
  watch.end();
  owned(ctx, lock, cls, site, true, startUs);
  yield Step.LOCK;
}

/** The ticket is served: the lock is this cpu's, from the releaser's time on. */
function owned(ctx: Kctx, lock: number, cls: LockClassName, site: string, contended: boolean, startUs: number): void {
  const last = Atomics.exchange(ctx.mem, lock + LOCK.OWNER, ctx.cpu + 1);
  const bounced = last !== 0 && last !== ctx.cpu + 1;
  clockAtLeast(ctx, loadNs(ctx.mem, lock + LOCK.RELEASE_NS) + (bounced ? ctx.costs.cacheLineTransferNs : 0));
  if (ctx.timesLocks) {
    const nowUs = ctx.now();
    ctx.lockStat.acquired(cls, site, contended, ns(nowUs - startUs), bounced);
    if (cls === LockClass.PTE_LOCK) ctx.lat.recordUs('pteLockWait', nowUs - startUs);
    ctx.lockSinceUs.set(lock, nowUs);
  }
}

/** Held: a ticket is being served that was taken. */
export function spinIsLocked(mem: Int32Array, lock: number): boolean {
  return Atomics.load(mem, lock + LOCK.NEXT) !== Atomics.load(mem, lock + LOCK.SERVING);
}

function release(ctx: Kctx, lock: number, cls: LockClassName): void {
  const mem = ctx.mem;
  const owner = Atomics.load(mem, lock + LOCK.OWNER);
  if (!spinIsLocked(mem, lock) || owner !== ctx.cpu + 1) {
    const holder = spinIsLocked(mem, lock) ? `cpu ${owner - 1}` : 'nobody';
    ctx.oracle.report('LOCK_NOT_OWNER', { cpu: ctx.cpu, task: ctx.task, mm: ctx.mm }, `${cls} released by cpu ${ctx.cpu}, held by ${holder}`);
    return;
  }
  const since = ctx.lockSinceUs.take(lock);
  if (since !== undefined) {
    const nowUs = ctx.now();
    const heldUs = nowUs - since;
    ctx.lockStat.released(cls, ns(heldUs));
    ctx.trace?.slice(cls, 'lock', since, nowUs);
    if (cls === LockClass.PTE_LOCK) ctx.lat.recordUs('pteLockHold', heldUs);
  }
  storeNs(mem, lock + LOCK.RELEASE_NS, ctx.clockNs); // read by the next holder once SERVING says it is its turn
  Atomics.add(mem, lock + LOCK.SERVING, 1);
  kickWaiters(ctx.m, lock); // pv_unlock: a waiter's host thread that blocked on this lock
}

/** spin_lock; `site` names the caller, lock_stat's contention point. `yield` it: a plain callee ending in its call of acquire (step.ts). */
export function spinLock(ctx: Kctx, lock: number, cls: LockClassName, site: string): Call {
  preemptDisable(ctx, LOCK_WHERE[cls]);
  return acquire(ctx, lock, cls, site);
}

export function* spinUnlock(ctx: Kctx, lock: number, cls: LockClassName): Path {
  release(ctx, lock, cls);
  yield Step.LOCK;
  yield preemptEnable(ctx, UNLOCK_WHERE[cls]);
}

/** spin_lock_irqsave: interrupts stay off while spinning, as in the kernel. A plain callee, as spinLock. */
export function spinLockIrqsave(ctx: Kctx, lock: number, cls: LockClassName, site: string): Call {
  localIrqSave(ctx, LOCK_WHERE[cls]);
  preemptDisable(ctx, LOCK_WHERE[cls]);
  return acquire(ctx, lock, cls, site);
}

export function* spinUnlockIrqrestore(ctx: Kctx, lock: number, cls: LockClassName): Path {
  release(ctx, lock, cls);
  localIrqRestore(ctx, UNLOCK_WHERE[cls]);
  yield Step.LOCK;
  yield preemptEnable(ctx, UNLOCK_WHERE[cls]);
}

/** spin_needbreak: someone waits for this lock; live only under CONFIG_PREEMPT. */
export function spinNeedbreak(ctx: Kctx, lock: number): boolean {
  if (ctx.config.preempt !== 'full') return false;
  return Atomics.load(ctx.mem, lock + LOCK.NEXT) - Atomics.load(ctx.mem, lock + LOCK.SERVING) > 1;
}
