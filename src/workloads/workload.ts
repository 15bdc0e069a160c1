// What a workload is: a shape (address spaces, and user tasks on cpus with
// the mm each runs in), the memory it needs, and a program per task.
// Programs are user space plus system calls; the tasks of one mm coordinate
// through that mm's workload words with bounded waits. Operations wrapped in
// `measure` are the run's headline numbers.
//
// Shape: --tasks-per-cpu K gives cpus x K user tasks; task i runs on cpu
// i mod cpus, and --mms M splits the tasks into M consecutive groups, one per
// mm, so the tasks of one mm are spread over the cpus. A task's rank is its
// place in its mm's group; rank 0 leads (maps, unmaps, tears down).

import { CLOCK_SLOT, CLOCK_STRIDE, HDR, MM_FIELD, PAGES_PER_PUD, TaskKind, VMA_FIELD, VMA_FLAGS, WORKLOAD_WORDS, WORKLOAD_WORDS_PER_MM } from '../machine/layout.ts';
import type { RunConfig } from '../machine/config.ts';
import { Step, type Path } from '../machine/step.ts';
import { Rng } from '../machine/rng.ts';
import { modelAssert } from '../machine/errors.ts';
import { newCounters, type Counters } from '../stats/counters.ts';
import { clockAtLeast, type Kctx } from '../sync/context.ts';
import { SpinWatch } from '../sync/spin.ts';
import { changedForAll, kickCpu } from '../sync/pv.ts';
import { downWrite, upWrite } from '../sync/rwsem.ts';
import { userAccess } from '../mm/fault.ts';
import { insertVma } from '../mm/vma.ts';
import { vmaLinkFile } from '../mm/rmap.ts';

export type TaskKindValue = (typeof TaskKind)[keyof typeof TaskKind];

export interface TaskSpec {
  cpu: number;
  /** The task's mm, -1 for a kernel thread. */
  mm: number;
  kind: TaskKindValue;
  /** Place among the user tasks of its mm (0 leads); -1 for kernel threads. */
  rank: number;
  /** User tasks in its mm. */
  peers: number;
}

export interface TaskRecord {
  task: number;
  cpu: number;
  mm: number;
  kind: TaskKindValue;
  /** What the task counted outside its measured operations; the task's totals are this and `measured`. */
  stats: Counters;
  /** Counters of this task's measured operations, summed; null when it began none. */
  measured: Counters | null;
  /** Inside a measured operation: the task counts into `measured`. */
  inOp: boolean;
  rssBefore: number;
  rssAfter: number;
  /** tlb:tlb_flush events emitted before this task's first measured operation began, and by the end of its last; -1 before any. */
  tlbFlushEventsFrom: number;
  tlbFlushEventsTo: number;
  finished: boolean;
}

export interface Workload {
  name: string;
  about: string;
  /** --pages when the user gives none. */
  defaultPages: number;
  /** Frames the workload needs at its peak (data, page tables, batch pages). */
  memoryNeeded(config: RunConfig): number;
  /** Mappings one mm holds at its peak (an mm has room for MAX_VMAS). */
  mappingsNeeded(config: RunConfig): number;
  /** Page-cache slots the file needs: one past the highest file page a MAP_SHARED mapping may fault (none when absent). */
  filePagesNeeded?(config: RunConfig): number;
  program(ctx: Kctx, rec: TaskRecord, spec: TaskSpec): Path;
  /**
   * What a user task does before it meets the others: mapping and writing
   * the pages the measured operation works on, touching nothing another
   * task could have touched yet and drawing nothing from the seed. With
   * config.setupOnce boot runs it (boot.ts), each task's on its cpu with
   * nothing else running; otherwise the task runs it just before its
   * program (`userTaskPath`), so a program never runs it itself. Null: this
   * task has nothing to set up, and boot leaves its cpu as it found it.
   */
  setup?(ctx: Kctx, spec: TaskSpec): Path | null;
  /** Defaults of run flags that suit this workload better than the general ones. */
  defaults?: { mms?: number; tasksPerCpu?: number; writeback?: boolean };
  /** The file must live on a disk with writeback (its program syncs it); --writeback implies it too. */
  diskFile?(config: RunConfig): boolean;
  /** The user tasks, when the workload places them itself (a scenario file); otherwise `userTasks`. */
  tasks?(config: RunConfig): TaskSpec[];
}

export function userTaskCount(config: RunConfig): number {
  return config.cpus * config.tasksPerCpu;
}

/** The user tasks: task i on cpu i mod cpus, in mm floor(i * mms / tasks). */
export function userTasks(config: RunConfig): TaskSpec[] {
  const n = userTaskCount(config);
  const mmOf = (i: number): number => Math.floor((i * config.mms) / n);
  const specs: TaskSpec[] = [];
  for (let i = 0; i < n; i++) {
    const mm = mmOf(i);
    const first = specs.findIndex((s) => s.mm === mm);
    specs.push({ cpu: i % config.cpus, mm, kind: TaskKind.USER, rank: first < 0 ? 0 : i - first, peers: 0 });
  }
  for (const s of specs) s.peers = specs.filter((t) => t.mm === s.mm).length;
  return specs;
}

/** The most user tasks any one mm has. */
export function maxPeers(config: RunConfig): number {
  return Math.ceil(userTaskCount(config) / config.mms);
}

/** Where workloads place their mappings: the second 1 GiB of the address space. */
export const REGION_BASE = PAGES_PER_PUD;

/** Word `i` of the current mm's workload words. */
export function wordAt(ctx: Kctx, i: number): number {
  modelAssert(i < WORKLOAD_WORDS_PER_MM && ctx.mm >= 0, 'workload word out of range', () => `word ${i} of mm ${ctx.mm}`);
  return HDR.WORKLOAD + ctx.mm * WORKLOAD_WORDS_PER_MM + i;
}

/** User-space waits may last as long as another task's whole setup, so their bound is this many lockup limits. */
export const USER_WAIT_LOCKUPS = 100;

/**
 * A workload word carries the model time it was last set: the setter stamps
 * it before the atomic that publishes the value, and a task that waited for
 * the value goes on no earlier than that stamp (sawWordAt). Two setters may
 * race on the stamp; either time is one the word was set at. Every change
 * then bumps HDR.WORD_EPOCH, which tells the clocks that a task in a
 * user-space wait may act again.
 */
export function stampWordAt(ctx: Kctx, at: number): void {
  const k = at - HDR.WORKLOAD;
  modelAssert(k >= 0 && k < WORKLOAD_WORDS, 'not a workload word', () => `word ${at}`);
  if (ctx.m.workloadNs[k]! < ctx.clockNs) ctx.m.workloadNs[k] = ctx.clockNs;
  holdUserWaiters(ctx);
}

/**
 * A cpu whose task waits in user space holds nobody back; once a word it may
 * wait for is set, it may go on from its own clock, so it holds the others
 * there from now (parallel mode: it republishes at its next step) and is
 * told to look (the host's wake-up of a backed-off waiter).
 */
function holdUserWaiters(ctx: Kctx): void {
  const { m } = ctx;
  for (let c = 0; c < m.size.cpus; c++) {
    const line = c * CLOCK_STRIDE;
    const waitNs = m.clocks[line + CLOCK_SLOT.USER_WAIT]!;
    if (c === ctx.cpu || !Number.isFinite(waitNs)) continue;
    if (!(m.clocks[line + CLOCK_SLOT.HOLD]! <= waitNs)) m.clocks[line + CLOCK_SLOT.HOLD] = waitNs;
    kickCpu(m, c);
  }
}

/** The task saw the workload word at `at` change: it goes on no earlier than the change. */
export function sawWordAt(ctx: Kctx, at: number): void {
  clockAtLeast(ctx, ctx.m.workloadNs[at - HDR.WORKLOAD]!);
}

/** A user-space wait for the workload word at `at` to reach `value`: sched_yield in a loop, bounded like every wait. */
export function* waitWordAt(ctx: Kctx, at: number, value: number, what: string): Path {
  if (Atomics.load(ctx.mem, at) >= value) return;
  const watch = new SpinWatch(ctx, what, USER_WAIT_LOCKUPS);
  while (Atomics.load(ctx.mem, at) < value) {
    watch.tick();
    yield Step.YIELD;
  }
  sawWordAt(ctx, at);
}

/** waitWordAt on word `i` of the current mm. */
export function waitWord(ctx: Kctx, i: number, value: number, what: string): Path {
  return waitWordAt(ctx, wordAt(ctx, i), value, what);
}

export function bumpWordAt(ctx: Kctx, at: number): void {
  stampWordAt(ctx, at);
  Atomics.add(ctx.mem, at, 1);
  Atomics.add(ctx.mem, HDR.WORD_EPOCH, 1); // after the value: a waiter that sees the epoch move finds the value
  changedForAll(ctx.m);
}

export function bumpWord(ctx: Kctx, i: number): void {
  bumpWordAt(ctx, wordAt(ctx, i));
}

export function storeWordAt(ctx: Kctx, at: number, value: number): void {
  stampWordAt(ctx, at);
  Atomics.store(ctx.mem, at, value);
  Atomics.add(ctx.mem, HDR.WORD_EPOCH, 1);
  changedForAll(ctx.m);
}

export function readWord(ctx: Kctx, i: number): number {
  return Atomics.load(ctx.mem, wordAt(ctx, i));
}

/**
 * A loop that runs until another task sets a word polls it once per
 * iteration: while it is still 0, this iteration only waited for the other
 * task, however much it did meanwhile. Such a loop is what CHESS calls
 * fair-terminating only if the poll counts as a yield; the hint tells the
 * scheduler so, and changes nothing else in the run.
 */
export function pollWordAt(ctx: Kctx, at: number): number {
  const value = Atomics.load(ctx.mem, at);
  if (value === 0) ctx.polled = true;
  return value;
}

/** pollWordAt on word `i` of the current mm. */
export function pollWord(ctx: Kctx, i: number): number {
  return pollWordAt(ctx, wordAt(ctx, i));
}

/**
 * mmap(MAP_FIXED) of each [start, end) range under mmap_sem held for write:
 * anonymous; with `file` true a MAP_PRIVATE mapping of the file (written
 * before it is read, so its pages are anonymous copies); with `file`
 * 'shared' a MAP_SHARED one, which maps the page-cache pages. A file mapping
 * maps the file from page `pgoff` on and is linked into its i_mmap.
 */
export function* mmapRanges(ctx: Kctx, ranges: [number, number][], file: boolean | 'shared' = false, pgoff = 0): Path {
  const sem = ctx.m.mm(ctx.mm, MM_FIELD.MMAP_SEM);
  const kind = file === 'shared' ? VMA_FLAGS.FILE | VMA_FLAGS.SHARED : file ? VMA_FLAGS.FILE : VMA_FLAGS.ANON;
  modelAssert(pgoff === 0 || file !== false, 'an anonymous mapping with a file offset', () => `pgoff ${pgoff}`);
  yield downWrite(ctx, sem, 'sys_mmap');
  for (const [start, end] of ranges) {
    const vma = insertVma(ctx, ctx.mm, start, end, VMA_FLAGS.READ | VMA_FLAGS.WRITE | kind);
    if (file === false) continue;
    ctx.mem[ctx.m.vma(ctx.mm, vma.slot, VMA_FIELD.PGOFF)] = pgoff; // vm_pgoff, set before the vma is visible in i_mmap
    yield vmaLinkFile(ctx, vma);
  }
  yield upWrite(ctx, sem);
}

export function* touchRange(ctx: Kctx, start: number, end: number): Path {
  for (let vpn = start; vpn < end; vpn++) yield userAccess(ctx, vpn, true);
}

/** The counters a task counts into now: its measured ones inside a measured operation. */
export function taskCounters(rec: TaskRecord): Counters {
  return rec.inOp ? rec.measured! : rec.stats;
}

/** A user task's whole path: its setup first, unless boot ran it already (config.setupOnce), then its program. */
export function* userTaskPath(workload: Workload, ctx: Kctx, rec: TaskRecord, spec: TaskSpec): Path {
  const setup = ctx.config.setupOnce ? null : (workload.setup?.(ctx, spec) ?? null);
  if (setup !== null) yield setup;
  yield workload.program(ctx, rec, spec);
}

/**
 * Run `op` as a measured operation: the task counts into the record's
 * measured counters while it runs (an op cut short by the end of the run
 * keeps what it counted there), and the mm's rss around it goes into the
 * record. Switching where it counts costs nothing per event; a snapshot and
 * a sum of every counter per op were 5% of a per-page hunt.
 */

export function* measure(ctx: Kctx, rec: TaskRecord, mm: number, op: Path): Path {
  modelAssert(!rec.inOp && ctx.stats === rec.stats, 'measured operations nest', () => `task ${rec.task}`);
  const rss = (): number => Atomics.load(ctx.mem, ctx.m.mm(mm, MM_FIELD.RSS_ANON));
  if (rec.measured === null) {
    rec.rssBefore = rss();
    rec.measured = newCounters();
    rec.tlbFlushEventsFrom = Atomics.load(ctx.mem, HDR.TLB_FLUSH_EVENTS);
  }
  ctx.ptlFreedThisHold = 0;
  const startUs = ctx.now();
  const startHostUs = ctx.watchIsHost ? ctx.watchNow() : 0;
  rec.inOp = true;
  ctx.stats = rec.measured;
  yield op;
  rec.inOp = false;
  ctx.stats = rec.stats;
  rec.measured.ops++;
  rec.measured.opTimeUs += Math.round(ctx.now() - startUs);
  if (ctx.watchIsHost) ctx.lat.hostOpTimeUs += ctx.watchNow() - startHostUs;
  rec.rssAfter = rss();
  rec.tlbFlushEventsTo = Atomics.load(ctx.mem, HDR.TLB_FLUSH_EVENTS);
}

/** The rounds of a looping workload: --rounds of them, fewer when --duration ends first (a budget on the watchdog's clock: host time in parallel mode). */
export function* roundsOf(ctx: Kctx): Generator<number, void, void> {
  const endUs = ctx.config.durationMs > 0 ? ctx.config.durationMs * 1000 : Infinity;
  for (let round = 0; round < ctx.config.rounds && ctx.watchNow() < endUs; round++) yield round;
}

/** A per-task random stream derived from the run seed. */
export function taskRng(config: RunConfig, task: number): Rng {
  return new Rng((config.seed * 7919 + task * 104729 + 1) >>> 0);
}

/** Page-table pages needed to map `pages` pages in one region, with the upper levels. */
export function tablesFor(pages: number): number {
  return Math.ceil(pages / 512) + 4;
}

/** Frames the gathers may hold at once: one batch page per user task (each may be inside a gather). */
export function gatherFrames(config: RunConfig): number {
  return userTaskCount(config);
}
