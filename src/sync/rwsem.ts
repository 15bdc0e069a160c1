// The rw-semaphore (mmap_sem), as lib/rwsem-spinlock.c: activity counts the
// readers holding it, or is WRITER; a task that cannot take it queues on the
// FIFO wait list and sleeps, and the releaser hands the semaphore to the
// waiters at the head (one writer, or every reader up to the first writer).
// A new reader queues behind any waiter, so a stream of faults cannot starve
// munmap. Taking it may sleep, so it is checked against atomic context.

import { RWSEM, RWSEM_WRITER, WAIT_FLAG } from '../machine/layout.ts';
import type { Path } from '../machine/step.ts';
import { modelAssert } from '../machine/errors.ts';
import { lockHoldKey, type Kctx } from './context.ts';
import { mightSleep } from './preempt.ts';
import { spinLockIrqsave, spinUnlockIrqrestore, LockClass } from './spinlock.ts';
import { WaitList, sleepUntilGranted } from './sched.ts';

const WAIT = LockClass.RWSEM_WAIT_LOCK;
const SEM = LockClass.MMAP_SEM;

function waitList(ctx: Kctx, sem: number): WaitList {
  return new WaitList(ctx, sem + RWSEM.WAIT_HEAD, sem + RWSEM.WAIT_TAIL);
}

/** lock_stat for a down that has just succeeded. */
function noteAcquired(ctx: Kctx, sem: number, site: string, contended: boolean, startUs: number): void {
  const last = Atomics.exchange(ctx.mem, sem + RWSEM.LAST_CPU, ctx.cpu + 1);
  if (!ctx.timesLocks) return;
  const nowUs = ctx.now();
  ctx.lockStat.acquired(SEM, site, contended, Math.round((nowUs - startUs) * 1000), last !== 0 && last !== ctx.cpu + 1);
  ctx.lockSinceUs.set(lockHoldKey(sem, ctx.task), nowUs);
}

function noteReleased(ctx: Kctx, sem: number): void {
  const key = lockHoldKey(sem, ctx.task);
  const since = ctx.lockSinceUs.take(key);
  if (since !== undefined) ctx.lockStat.released(SEM, Math.round((ctx.now() - since) * 1000));
}

/** down_read; `site` names the caller, lock_stat's contention point. */
export function* downRead(ctx: Kctx, sem: number, site: string): Path {
  yield mightSleep(ctx, 'down_read');
  const mem = ctx.mem;
  const startUs = ctx.timesLocks ? ctx.now() : 0;
  yield spinLockIrqsave(ctx, sem + RWSEM.WAIT_LOCK, WAIT, '__down_read');
  if (mem[sem + RWSEM.ACTIVITY]! >= 0 && waitList(ctx, sem).empty) {
    mem[sem + RWSEM.ACTIVITY]!++;
    yield spinUnlockIrqrestore(ctx, sem + RWSEM.WAIT_LOCK, WAIT);
    noteAcquired(ctx, sem, site, false, startUs);
    return;
  }
  yield sleepUntilGranted(ctx, waitList(ctx, sem), 0, spinUnlockIrqrestore(ctx, sem + RWSEM.WAIT_LOCK, WAIT));
  noteAcquired(ctx, sem, site, true, startUs);
}

export function* downWrite(ctx: Kctx, sem: number, site: string): Path {
  yield mightSleep(ctx, 'down_write');
  const mem = ctx.mem;
  const startUs = ctx.timesLocks ? ctx.now() : 0;
  yield spinLockIrqsave(ctx, sem + RWSEM.WAIT_LOCK, WAIT, '__down_write');
  if (mem[sem + RWSEM.ACTIVITY] === 0 && waitList(ctx, sem).empty) {
    mem[sem + RWSEM.ACTIVITY] = RWSEM_WRITER;
    mem[sem + RWSEM.OWNER] = ctx.task + 1;
    yield spinUnlockIrqrestore(ctx, sem + RWSEM.WAIT_LOCK, WAIT);
    noteAcquired(ctx, sem, site, false, startUs);
    return;
  }
  yield sleepUntilGranted(ctx, waitList(ctx, sem), WAIT_FLAG.WRITER, spinUnlockIrqrestore(ctx, sem + RWSEM.WAIT_LOCK, WAIT));
  mem[sem + RWSEM.OWNER] = ctx.task + 1;
  noteAcquired(ctx, sem, site, true, startUs);
}

/** __rwsem_do_wake: hand the semaphore to the head writer, or to every reader before the first writer. Called with wait_lock held and activity 0. */
function doWake(ctx: Kctx, sem: number): void {
  const mem = ctx.mem;
  const list = waitList(ctx, sem);
  if (list.empty) return;
  const head = list.first();
  if ((list.flags(head) & WAIT_FLAG.WRITER) !== 0) {
    mem[sem + RWSEM.ACTIVITY] = RWSEM_WRITER;
    list.grant(head);
    return;
  }
  for (let n = 0; !list.empty && (list.flags(list.first()) & WAIT_FLAG.WRITER) === 0; n++) {
    modelAssert(n < ctx.m.size.tasks, 'rwsem wake-up loop longer than the task table', () => `sem at ${sem}`);
    mem[sem + RWSEM.ACTIVITY]!++;
    list.grant(list.first());
  }
}

export function* upRead(ctx: Kctx, sem: number): Path {
  const mem = ctx.mem;
  noteReleased(ctx, sem);
  yield spinLockIrqsave(ctx, sem + RWSEM.WAIT_LOCK, WAIT, '__up_read');
  const activity = mem[sem + RWSEM.ACTIVITY]!;
  if (activity <= 0) {
    ctx.oracle.report('LOCK_NOT_OWNER', { cpu: ctx.cpu, task: ctx.task, mm: ctx.mm }, `up_read of an rwsem with activity ${activity}`);
  } else if (--mem[sem + RWSEM.ACTIVITY]! === 0) {
    doWake(ctx, sem);
  }
  yield spinUnlockIrqrestore(ctx, sem + RWSEM.WAIT_LOCK, WAIT);
}

export function* upWrite(ctx: Kctx, sem: number): Path {
  const mem = ctx.mem;
  noteReleased(ctx, sem);
  yield spinLockIrqsave(ctx, sem + RWSEM.WAIT_LOCK, WAIT, '__up_write');
  if (mem[sem + RWSEM.OWNER] !== ctx.task + 1 || mem[sem + RWSEM.ACTIVITY] !== RWSEM_WRITER) {
    ctx.oracle.report('LOCK_NOT_OWNER', { cpu: ctx.cpu, task: ctx.task, mm: ctx.mm }, 'up_write by a task that does not hold the rwsem for write');
  } else {
    mem[sem + RWSEM.OWNER] = 0;
    mem[sem + RWSEM.ACTIVITY] = 0;
    doWake(ctx, sem);
  }
  yield spinUnlockIrqrestore(ctx, sem + RWSEM.WAIT_LOCK, WAIT);
}
