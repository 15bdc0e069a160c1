// The per-cpu kernel threads. Neither has an mm: while one runs, its cpu
// keeps the last user mm loaded lazily (enter_lazy_tlb), so flushes reach
// lazy cpus and leave_mm really happens.
// - kworker: a reclaim-like worker that wakes every few ticks and takes the
//   zone lock with interrupts off, as vmstat and per-cpu page draining do.
// - probe: a real-time latency probe, like cyclictest: it sleeps until its
//   next period, is woken by the timer interrupt, and records how late it
//   got the cpu; the wake-up asks for an immediate reschedule, so the delay
//   is exactly the time until the running task reached a preemption point.
// - flusher: the backing device's flush thread (bdi_writeback_thread,
//   kupdate-style): every FLUSHER_PERIOD_US it writes back every dirty page
//   of the file (write_cache_pages, WB_SYNC_NONE), then sleeps again.
// All stop once every user task has exited (kthread_should_stop).

import { HDR } from '../machine/layout.ts';
import type { Path } from '../machine/step.ts';
import type { Kctx } from '../sync/context.ts';
import { scheduleTimeout } from '../sync/sched.ts';
import { spinLockIrqsave, spinUnlockIrqrestore, LockClass } from '../sync/spinlock.ts';
import { writeCachePages } from '../mm/writeback.ts';

export const KWORKER_PERIOD_US = 4000;
/** dirty_writeback_centisecs, scaled to runs of a few ms: the flusher wakes this often. */
export const FLUSHER_PERIOD_US = 1000;
/** cyclictest -i 100, as latency hunts run it: a 1 ms period would sample a unmap of a few thousand pages once or not at all. */
export const PROBE_PERIOD_US = 100;
/** Every loop has a bound: far more periods than any run lasts. */
const KTHREAD_LOOPS_MAX = 1e9;

function kthreadShouldStop(ctx: Kctx): boolean {
  return Atomics.load(ctx.mem, HDR.LIVE_TASKS) === 0 || ctx.m.stopped;
}

export function* kworkerThread(ctx: Kctx): Path {
  for (let i = 0; i < KTHREAD_LOOPS_MAX && !kthreadShouldStop(ctx); i++) {
    yield spinLockIrqsave(ctx, HDR.ZONE_LOCK, LockClass.ZONE_LOCK, 'kworker: drain_local_pages');
    ctx.stats.kworkerRuns++;
    yield spinUnlockIrqrestore(ctx, HDR.ZONE_LOCK, LockClass.ZONE_LOCK);
    yield scheduleTimeout(ctx, KWORKER_PERIOD_US);
  }
}

export function* probeThread(ctx: Kctx): Path {
  let next = ctx.now() + PROBE_PERIOD_US;
  for (let i = 0; i < KTHREAD_LOOPS_MAX; i++) {
    yield scheduleTimeout(ctx, next - ctx.now());
    if (kthreadShouldStop(ctx)) return;
    const nowUs = ctx.now();
    ctx.lat.recordUs('probeWakeup', nowUs - next);
    ctx.stats.probeWakeups++;
    // the next period after now: a probe that missed periods does not catch up in a burst
    next += PROBE_PERIOD_US * Math.max(1, Math.ceil((nowUs - next) / PROBE_PERIOD_US));
  }
}

export function* bdiFlusherThread(ctx: Kctx): Path {
  for (let i = 0; i < KTHREAD_LOOPS_MAX && !kthreadShouldStop(ctx); i++) {
    yield scheduleTimeout(ctx, FLUSHER_PERIOD_US);
    if (kthreadShouldStop(ctx)) return;
    ctx.stats.flusherRuns++;
    yield writeCachePages(ctx, 0, ctx.m.size.filePages); // wb_writeback -> writeback_inodes_wb -> do_writepages
  }
}
