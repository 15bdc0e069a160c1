// What a workload is: a shape (address spaces, and a task per cpu with the mm
// it runs in), the memory it needs, and a program per task. Programs are user
// space plus system calls; they coordinate through the header's workload
// words with bounded waits. One operation per workload is "measured": its
// counters are the run's headline numbers.

import { HDR, MM_FIELD, PAGES_PER_PUD, VMA_FLAGS } from '../machine/layout.ts';
import type { RunConfig } from '../machine/config.ts';
import { Step, type Path } from '../machine/step.ts';
import { Rng } from '../machine/rng.ts';
import { newCounters, diffCounters, addCounters, type Counters } from '../stats/counters.ts';
import type { Kctx } from '../sync/context.ts';
import { SpinWatch } from '../sync/spin.ts';
import { downWrite, upWrite } from '../sync/rwsem.ts';
import { userAccess } from '../mm/fault.ts';
import { insertVma } from '../mm/vma.ts';

export interface TaskSpec {
  cpu: number;
  mm: number;
}

export interface TaskRecord {
  task: number;
  cpu: number;
  mm: number;
  stats: Counters;
  /** Counters of this task's measured operations, summed; null when it measured none. */
  measured: Counters | null;
  rssBefore: number;
  rssAfter: number;
  finished: boolean;
}

export interface Workload {
  name: string;
  about: string;
  /** --pages when the user gives none. */
  defaultPages: number;
  tasks(config: RunConfig): TaskSpec[];
  mms(config: RunConfig): number;
  /** Frames the workload needs at its peak (data, page tables, batch pages). */
  memoryNeeded(config: RunConfig): number;
  program(ctx: Kctx, rec: TaskRecord, index: number): Path;
}

/** The shape every built-in workload has: one task per cpu, all in mm 0. */
export function oneTaskPerCpu(config: RunConfig): TaskSpec[] {
  return Array.from({ length: config.cpus }, (_, cpu) => ({ cpu, mm: 0 }));
}

/** Where workloads place their mappings: the second 1 GiB of the address space. */
export const REGION_BASE = PAGES_PER_PUD;

export function wordAt(i: number): number {
  return HDR.WORKLOAD + i;
}

/** User-space waits may last as long as another task's whole setup, so their bound is this many lockup limits. */
export const USER_WAIT_LOCKUPS = 100;

/** A user-space wait for a workload word to reach `value`, bounded like every wait. */
export function* waitWord(ctx: Kctx, i: number, value: number, what: string): Path {
  if (Atomics.load(ctx.mem, wordAt(i)) >= value) return;
  const watch = new SpinWatch(ctx, what, USER_WAIT_LOCKUPS);
  while (Atomics.load(ctx.mem, wordAt(i)) < value) {
    watch.tick();
    yield Step.USER;
  }
}

export function bumpWord(ctx: Kctx, i: number): void {
  Atomics.add(ctx.mem, wordAt(i), 1);
}

/** mmap(MAP_FIXED|MAP_ANONYMOUS) of each [start, end) range, under mmap_sem held for write. */
export function* mmapAnon(ctx: Kctx, ranges: [number, number][]): Path {
  const sem = ctx.m.mm(ctx.mm, MM_FIELD.MMAP_SEM);
  yield* downWrite(ctx, sem);
  for (const [start, end] of ranges) insertVma(ctx, ctx.mm, start, end, VMA_FLAGS.READ | VMA_FLAGS.WRITE | VMA_FLAGS.ANON);
  yield* upWrite(ctx, sem);
}

export function* touchRange(ctx: Kctx, start: number, end: number): Path {
  for (let vpn = start; vpn < end; vpn++) yield* userAccess(ctx, vpn, true);
}

/** Run `op` as a measured operation: its counters and the mm's rss around it go into the record. */
export function* measure(ctx: Kctx, rec: TaskRecord, mm: number, op: Path): Path {
  const before = { ...ctx.stats };
  const rss = (): number => Atomics.load(ctx.mem, ctx.m.mm(mm, MM_FIELD.RSS_ANON));
  if (rec.measured === null) rec.rssBefore = rss();
  ctx.ptlFreedThisHold = 0;
  const maxBefore = ctx.stats.maxPagesFreedInOnePteLockHold;
  ctx.stats.maxPagesFreedInOnePteLockHold = 0;
  yield* op;
  const d = diffCounters(ctx.stats, before);
  ctx.stats.maxPagesFreedInOnePteLockHold = Math.max(maxBefore, ctx.stats.maxPagesFreedInOnePteLockHold);
  rec.measured ??= newCounters();
  addCounters(rec.measured, d);
  rec.rssAfter = rss();
}

/** A per-task random stream derived from the run seed. */
export function taskRng(config: RunConfig, task: number): Rng {
  return new Rng((config.seed * 7919 + task * 104729 + 1) >>> 0);
}

/** Page-table pages needed to map `pages` pages in one region, with the upper levels. */
export function tablesFor(pages: number): number {
  return Math.ceil(pages / 512) + 4;
}

/** Frames the gathers may hold at once: one batch page per cpu. */
export function gatherFrames(config: RunConfig): number {
  return config.cpus;
}

