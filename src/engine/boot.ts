// Building the machine for a run: size the shared buffer from the config,
// fill the allocator, create the mms (a pgd each) and the task table. Runs
// once, in the main thread, before any cpu starts.

import { FILE_FIELD, HDR, Machine, MM_FIELD, PAGE_FIELD, PageState, TASK_FIELD, TLB_WAYS, RunState, TaskKind, type LayoutSize } from '../machine/layout.ts';
import type { RunConfig } from '../machine/config.ts';
import { PATH_DONE, PathStack, type Call, type Path } from '../machine/step.ts';
import { Rng } from '../machine/rng.ts';
import { ModelAssert } from '../machine/errors.ts';
import { Oracle } from '../oracle/rules.ts';
import { newKctx, type Kctx } from '../sync/context.ts';
import { mutexInit } from '../sync/mutex.ts';
import { allocPage, initAllocator } from '../page/alloc.ts';
import { findVariant } from '../gather/variants.ts';
import { userTasks, type TaskSpec } from '../workloads/workload.ts';
import { findWorkload } from '../workloads/index.ts';

/** Every task of the run: the workload's user tasks, then each cpu's kernel threads. */
export function allTasks(config: RunConfig): TaskSpec[] {
  const tasks = findWorkload(config.workload)?.tasks?.(config) ?? userTasks(config);
  for (let cpu = 0; cpu < config.cpus; cpu++) {
    if (config.kworker) tasks.push({ cpu, mm: -1, kind: TaskKind.KWORKER, rank: -1, peers: 0 });
    if (config.probe) tasks.push({ cpu, mm: -1, kind: TaskKind.PROBE, rank: -1, peers: 0 });
  }
  // one flusher for the file's backing device, as 2.6.38 has one flush-MAJOR:MINOR thread per bdi
  if (config.writeback) tasks.push({ cpu: 0, mm: -1, kind: TaskKind.FLUSHER, rank: -1, peers: 0 });
  return tasks;
}

export function layoutSizeFor(config: RunConfig): LayoutSize {
  return {
    cpus: config.cpus,
    pages: config.memoryPages,
    ptSlots: Math.ceil(config.memoryPages / 256) + 16 * config.mms + 16,
    mms: config.mms,
    tasks: allTasks(config).length,
    tlbEntries: config.tlbEntries,
    filePages: findWorkload(config.workload)?.filePagesNeeded?.(config) ?? 0,
  };
}

/** A context for work done outside any cpu's run loop (boot, final checks). */
export function bootCtx(m: Machine, config: RunConfig, oracle: Oracle): Kctx {
  const traits = findVariant(config.variant);
  if (!traits) throw new ModelAssert('unknown variant', config.variant);
  return newKctx({ m, cpu: 0, config, traits, oracle, rng: new Rng(config.seed), watchNow: () => 0, latencyStats: false });
}

/** Run a path to completion with nobody else running (boot time). */
export function runToEnd<T>(path: Path<T>): T;
export function runToEnd(path: Call): void;
export function runToEnd<T>(path: Call<T>): T {
  const stack = new PathStack(path);
  for (let i = 0; ; i++) {
    if (stack.next() === PATH_DONE) return stack.result as T;
    if (i > 10_000_000) throw new ModelAssert('boot path does not end', 'over 10M steps');
  }
}

export function bootMachine(config: RunConfig): { m: Machine; tasks: TaskSpec[] } {
  const size = layoutSizeFor(config);
  if (size.tlbEntries % TLB_WAYS !== 0) throw new ModelAssert('TLB size', `${size.tlbEntries} is not a multiple of ${TLB_WAYS}`);
  const m = Machine.create(size);
  const mem = m.mem;
  mem[HDR.ONLINE_CPUS] = config.cpus;
  initAllocator(mem, m);
  const oracle = new Oracle(config.variant, config.seed, 16, () => 0, () => {});
  const ctx = bootCtx(m, config, oracle);
  const tasks = allTasks(config);
  if (config.immapLock === 'mutex') mutexInit(mem, m.file(0, FILE_FIELD.I_MMAP_LOCK));
  mem[m.file(0, FILE_FIELD.ACCOUNT_DIRTY)] = config.diskFile ? 1 : 0;
  for (let mm = 0; mm < size.mms; mm++) {
    const pgd = runToEnd(allocPage(ctx, 'GFP_KERNEL', PageState.PAGETABLE));
    mem[m.page(pgd, PAGE_FIELD.MM)] = mm + 1;
    mem[m.page(pgd, PAGE_FIELD.INDEX)] = 4;
    mem[m.mm(mm, MM_FIELD.PGD)] = pgd;
    mem[m.mm(mm, MM_FIELD.USERS)] = tasks.filter((t) => t.mm === mm).length;
  }
  tasks.forEach((t, i) => {
    mem[m.task(i, TASK_FIELD.CPU)] = t.cpu;
    mem[m.task(i, TASK_FIELD.MM)] = t.mm;
    mem[m.task(i, TASK_FIELD.KIND)] = t.kind;
  });
  mem[HDR.LIVE_TASKS] = tasks.filter((t) => t.kind === TaskKind.USER).length;
  mem[HDR.RUN_STATE] = RunState.RUNNING;
  return { m, tasks };
}
