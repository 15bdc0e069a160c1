// What kernel paths see of the scheduler: set_current_state, schedule(),
// schedule_timeout(), wake_up_process(), and the wait lists of sleeping
// locks. A sleeping task yields SLEEP with its state set; the engine takes it
// off the cpu only if nobody woke it in between, so no wake-up is lost. Wake-ups
// cross cpus through the task table (the runqueues) and a notify on the
// target cpu's interrupt word, which ends an idle cpu's timed wait at once.
// A wake-up carries the waker's model time in the task table: the woken task
// runs no earlier than that plus the wake-up cost.

import { CLOCK_SLOT, CLOCK_STRIDE, CPU_FIELD, TASK_FIELD, TaskState, WAIT_FLAG, storeNs } from '../machine/layout.ts';
import { kickCpu } from './pv.ts';
import { Step, type Path } from '../machine/step.ts';
import { modelAssert } from '../machine/errors.ts';
import type { Kctx } from './context.ts';

/** A sleep on a lock longer than this many lockup limits is a hung task: 120 s at the default 2 s, khungtaskd's default timeout. */
export const HUNG_TASK_LOCKUPS = 60;

export function taskState(ctx: Kctx, task: number): number {
  return Atomics.load(ctx.mem, ctx.m.task(task, TASK_FIELD.STATE));
}

/** set_current_state(TASK_UNINTERRUPTIBLE) */
export function setCurrentSleeping(ctx: Kctx): void {
  Atomics.store(ctx.mem, ctx.m.task(ctx.task, TASK_FIELD.STATE), TaskState.SLEEPING);
}

/** __set_current_state(TASK_RUNNING) */
export function setCurrentRunning(ctx: Kctx): void {
  Atomics.store(ctx.mem, ctx.m.task(ctx.task, TASK_FIELD.STATE), TaskState.RUNNING);
}

/** schedule(): the engine switches away unless the task was woken since it set its state. */
export function* schedule(ctx: Kctx): Path {
  yield Step.SLEEP;
}

/** schedule_timeout_uninterruptible(us): sleep until the tick after `us` has passed (or a wake-up). */
export function* scheduleTimeout(ctx: Kctx, us: number): Path {
  setCurrentSleeping(ctx);
  ctx.timerWakeAtNs = ctx.clockNs + Math.round(us * 1000);
  yield schedule(ctx);
  ctx.timerWakeAtNs = Infinity;
}

/**
 * try_to_wake_up: a sleeping task becomes runnable on its cpu. `preempt`
 * asks its cpu to reschedule (a real-time task waking). Returns whether it
 * was asleep.
 */
export function wakeUpProcess(ctx: Kctx, task: number, preempt = false): boolean {
  const { m, mem } = ctx;
  if (Atomics.load(mem, m.task(task, TASK_FIELD.STATE)) !== TaskState.SLEEPING) return false;
  // stamped before the state change publishes it; a waker that loses the race below may leave its own later time, which only delays the task by the difference
  storeNs(mem, m.task(task, TASK_FIELD.WAKE_NS), ctx.clockNs);
  const was = Atomics.compareExchange(mem, m.task(task, TASK_FIELD.STATE), TaskState.SLEEPING, TaskState.RUNNING);
  if (was !== TaskState.SLEEPING) return false;
  const cpu = mem[m.task(task, TASK_FIELD.CPU)]!;
  // the woken task's cpu may act from now on: say so before it notices, or an idle cpu could run ahead past the wake-up
  const actAt = cpu * CLOCK_STRIDE + CLOCK_SLOT.ACT;
  if (cpu !== ctx.cpu && m.clocks[actAt]! > ctx.clockNs) m.clocks[actAt] = ctx.clockNs;
  if (preempt) Atomics.store(mem, m.cpu(cpu, CPU_FIELD.NEED_RESCHED), 1);
  if (cpu !== ctx.cpu) kickCpu(m, cpu); // the reschedule IPI, to a cpu whose host thread may have blocked
  ctx.stats.wakeups++;
  return true;
}

/**
 * A sleeping lock's FIFO wait list: head and tail words hold task + 1 and the
 * tasks are linked through TASK_FIELD.WAIT_NEXT. Callers hold the lock's
 * wait_lock. Every walk is bounded by the number of tasks.
 */
export class WaitList {
  constructor(private readonly ctx: Kctx, private readonly headAt: number, private readonly tailAt: number) {}

  get empty(): boolean {
    return this.ctx.mem[this.headAt] === 0;
  }
  /** The first waiter's task, or -1. */
  first(): number {
    return this.ctx.mem[this.headAt]! - 1;
  }
  flags(task: number): number {
    return Atomics.load(this.ctx.mem, this.ctx.m.task(task, TASK_FIELD.WAIT_FLAGS));
  }
  /** list_add_tail(&waiter.list, &lock->wait_list) */
  addTail(task: number, flags: number): void {
    const { m, mem } = this.ctx;
    mem[m.task(task, TASK_FIELD.WAIT_NEXT)] = 0;
    Atomics.store(mem, m.task(task, TASK_FIELD.WAIT_FLAGS), flags);
    const tail = mem[this.tailAt]!;
    if (tail === 0) mem[this.headAt] = task + 1;
    else mem[m.task(tail - 1, TASK_FIELD.WAIT_NEXT)] = task + 1;
    mem[this.tailAt] = task + 1;
  }
  /** list_del(&waiter.list) */
  remove(task: number): void {
    const { m, mem } = this.ctx;
    let prev = 0;
    let at = mem[this.headAt]!;
    for (let n = 0; at !== 0; n++) {
      modelAssert(n <= m.size.tasks, 'wait list longer than the task table', () => `at task ${at - 1}`);
      const next = mem[m.task(at - 1, TASK_FIELD.WAIT_NEXT)]!;
      if (at === task + 1) {
        if (prev === 0) mem[this.headAt] = next;
        else mem[m.task(prev - 1, TASK_FIELD.WAIT_NEXT)] = next;
        if (mem[this.tailAt] === task + 1) mem[this.tailAt] = prev;
        mem[m.task(task, TASK_FIELD.WAIT_NEXT)] = 0;
        return;
      }
      prev = at;
      at = next;
    }
    modelAssert(false, 'waiter not on the wait list', () => `task ${task}`);
  }
  /** Hand the lock to a waiter: mark it granted, take it off the list and wake it. */
  grant(task: number): void {
    const { m, mem } = this.ctx;
    this.remove(task);
    Atomics.or(mem, m.task(task, TASK_FIELD.WAIT_FLAGS), WAIT_FLAG.GRANTED);
    wakeUpProcess(this.ctx, task);
  }
  granted(task: number): boolean {
    return (this.flags(task) & WAIT_FLAG.GRANTED) !== 0;
  }
}

/** Wake-ups a waiter may see without getting the lock (a fast-path locker can win every time) before the model calls it broken. */
export const SPURIOUS_WAKEUPS_MAX = 1_000_000;

/**
 * Queue on `list`, release the wait_lock (`unlock`, run after the state is
 * set, as the kernel orders it) and sleep until a releaser hands the lock
 * over. How long a task may sleep is the engine's hung-task check.
 */
export function* sleepUntilGranted(ctx: Kctx, list: WaitList, flags: number, unlock: Path): Path {
  list.addTail(ctx.task, flags);
  ctx.stats.sleepingLockWaits++;
  setCurrentSleeping(ctx);
  yield unlock;
  for (let wakes = 0; !list.granted(ctx.task); wakes++) {
    modelAssert(wakes < SPURIOUS_WAKEUPS_MAX, 'woken again and again without the lock', () => `task ${ctx.task}`);
    yield schedule(ctx);
    if (!list.granted(ctx.task)) setCurrentSleeping(ctx);
  }
  setCurrentRunning(ctx);
}
