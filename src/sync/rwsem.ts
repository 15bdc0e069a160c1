// The rw-semaphore (mmap_sem). A task that cannot take it sleeps: here it
// yields SLEEP until the semaphore is free, bounded by the lockup limit.
// Waiting writers hold off new readers, so a stream of faults cannot starve
// munmap. Taking it may sleep, so it is checked against atomic context.

import { RWSEM } from '../machine/layout.ts';
import { Step, type Path } from '../machine/step.ts';
import type { Kctx } from './context.ts';
import { mightSleep } from './preempt.ts';
import { SpinWatch } from './spin.ts';

export function* downRead(ctx: Kctx, sem: number): Path {
  mightSleep(ctx, 'down_read');
  const mem = ctx.mem;
  let watch: SpinWatch | undefined;
  for (;;) {
    const c = Atomics.load(mem, sem + RWSEM.COUNT);
    if (c >= 0 && Atomics.load(mem, sem + RWSEM.WAITING_WRITERS) === 0) {
      if (Atomics.compareExchange(mem, sem + RWSEM.COUNT, c, c + 1) === c) break;
      continue;
    }
    (watch ??= new SpinWatch(ctx, 'down_read')).tick();
    yield Step.SLEEP;
  }
  yield Step.LOCK;
}

export function* upRead(ctx: Kctx, sem: number): Path {
  const prev = Atomics.sub(ctx.mem, sem + RWSEM.COUNT, 1);
  if (prev <= 0) ctx.oracle.report('LOCK_NOT_OWNER', { cpu: ctx.cpu, task: ctx.task, mm: ctx.mm }, `up_read of an rwsem with count ${prev}`);
  yield Step.LOCK;
}

export function* downWrite(ctx: Kctx, sem: number): Path {
  mightSleep(ctx, 'down_write');
  const mem = ctx.mem;
  Atomics.add(mem, sem + RWSEM.WAITING_WRITERS, 1);
  let watch: SpinWatch | undefined;
  while (Atomics.compareExchange(mem, sem + RWSEM.COUNT, 0, RWSEM.WRITER) !== 0) {
    (watch ??= new SpinWatch(ctx, 'down_write')).tick();
    yield Step.SLEEP;
  }
  Atomics.sub(mem, sem + RWSEM.WAITING_WRITERS, 1);
  Atomics.store(mem, sem + RWSEM.OWNER, ctx.task + 1);
  yield Step.LOCK;
}

export function* upWrite(ctx: Kctx, sem: number): Path {
  const mem = ctx.mem;
  if (Atomics.load(mem, sem + RWSEM.OWNER) !== ctx.task + 1 || Atomics.load(mem, sem + RWSEM.COUNT) !== RWSEM.WRITER) {
    ctx.oracle.report('LOCK_NOT_OWNER', { cpu: ctx.cpu, task: ctx.task, mm: ctx.mm }, 'up_write by a task that does not hold the rwsem for write');
    return;
  }
  Atomics.store(mem, sem + RWSEM.OWNER, 0);
  Atomics.store(mem, sem + RWSEM.COUNT, 0);
  yield Step.LOCK;
}
