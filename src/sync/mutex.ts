// struct mutex as kernel/mutex.c had it in 2.6.38: count 1 unlocked, 0
// locked, -1 locked with waiters. The fast paths are one atomic operation;
// the slow path queues on the FIFO wait list under wait_lock, sets the task
// asleep, and retries the xchg each time it is woken; unlock wakes the first
// waiter without handing it the lock. mutex_lock may sleep, so it is checked
// against atomic context: the check that flags the 2.6.38 gather once the
// i_mmap lock is a mutex. (The optimistic spin on a running owner,
// CONFIG_MUTEX_SPIN_ON_OWNER, is not modelled: waiters always sleep.)

import { MUTEX } from '../machine/layout.ts';
import type { Path } from '../machine/step.ts';
import { modelAssert } from '../machine/errors.ts';
import { lockHoldKey, type Kctx } from './context.ts';
import { mightSleep, preemptDisable, preemptEnable, preemptEnableNoResched } from './preempt.ts';
import { spinLock, spinUnlock, LockClass, type LockClassName } from './spinlock.ts';
import { WaitList, schedule, setCurrentRunning, setCurrentSleeping, wakeUpProcess, SPURIOUS_WAKEUPS_MAX } from './sched.ts';

const WAIT = LockClass.MUTEX_WAIT_LOCK;

export function mutexInit(mem: Int32Array, lock: number): void {
  mem[lock + MUTEX.COUNT] = 1;
}

/** mutex_lock; `site` names the caller, lock_stat's contention point. */
export function* mutexLock(ctx: Kctx, lock: number, cls: LockClassName, site: string): Path {
  yield mightSleep(ctx, `mutex_lock(${cls})`);
  const mem = ctx.mem;
  const startUs = ctx.timesLocks ? ctx.now() : 0;
  const contended = Atomics.compareExchange(mem, lock + MUTEX.COUNT, 1, 0) !== 1;
  if (contended) yield mutexLockSlowpath(ctx, lock);
  Atomics.store(mem, lock + MUTEX.OWNER, ctx.task + 1);
  const last = Atomics.exchange(mem, lock + MUTEX.LAST_CPU, ctx.cpu + 1);
  if (!ctx.timesLocks) return;
  const nowUs = ctx.now();
  ctx.lockStat.acquired(cls, site, contended, Math.round((nowUs - startUs) * 1000), last !== 0 && last !== ctx.cpu + 1);
  ctx.lockSinceUs.set(lockHoldKey(lock, ctx.task), nowUs);
}

/** __mutex_lock_common: preemption stays off around the wait loop, except across schedule(). */
function* mutexLockSlowpath(ctx: Kctx, lock: number): Path {
  const mem = ctx.mem;
  const list = new WaitList(ctx, lock + MUTEX.WAIT_HEAD, lock + MUTEX.WAIT_TAIL);
  preemptDisable(ctx, '__mutex_lock_common');
  yield spinLock(ctx, lock + MUTEX.WAIT_LOCK, WAIT, '__mutex_lock_common');
  list.addTail(ctx.task, 0);
  ctx.stats.sleepingLockWaits++;
  for (let wakes = 0; ; wakes++) {
    modelAssert(wakes < SPURIOUS_WAKEUPS_MAX, 'mutex waiter woken again and again without the lock', () => `task ${ctx.task}`);
    if (Atomics.exchange(mem, lock + MUTEX.COUNT, -1) === 1) break;
    setCurrentSleeping(ctx);
    yield spinUnlock(ctx, lock + MUTEX.WAIT_LOCK, WAIT);
    preemptEnableNoResched(ctx, '__mutex_lock_common');
    yield schedule(ctx);
    preemptDisable(ctx, '__mutex_lock_common');
    yield spinLock(ctx, lock + MUTEX.WAIT_LOCK, WAIT, '__mutex_lock_common');
  }
  setCurrentRunning(ctx);
  list.remove(ctx.task);
  if (list.empty) Atomics.store(mem, lock + MUTEX.COUNT, 0);
  yield spinUnlock(ctx, lock + MUTEX.WAIT_LOCK, WAIT);
  yield preemptEnable(ctx, '__mutex_lock_common');
}

export function* mutexUnlock(ctx: Kctx, lock: number, cls: LockClassName): Path {
  const mem = ctx.mem;
  if (Atomics.load(mem, lock + MUTEX.OWNER) !== ctx.task + 1) {
    ctx.oracle.report('LOCK_NOT_OWNER', { cpu: ctx.cpu, task: ctx.task, mm: ctx.mm }, `mutex_unlock(${cls}) by task ${ctx.task}, held by ${mem[lock + MUTEX.OWNER]! - 1}`);
    return;
  }
  const key = lockHoldKey(lock, ctx.task);
  const since = ctx.lockSinceUs.take(key);
  if (since !== undefined) ctx.lockStat.released(cls, Math.round((ctx.now() - since) * 1000));
  Atomics.store(mem, lock + MUTEX.OWNER, 0);
  if (Atomics.add(mem, lock + MUTEX.COUNT, 1) + 1 > 0) return;
  // __mutex_unlock_slowpath: release, then wake the first waiter, which retries
  yield spinLock(ctx, lock + MUTEX.WAIT_LOCK, WAIT, '__mutex_unlock_slowpath');
  Atomics.store(mem, lock + MUTEX.COUNT, 1);
  const list = new WaitList(ctx, lock + MUTEX.WAIT_HEAD, lock + MUTEX.WAIT_TAIL);
  if (!list.empty) wakeUpProcess(ctx, list.first());
  yield spinUnlock(ctx, lock + MUTEX.WAIT_LOCK, WAIT);
}
