// The `scenario` workload: each task runs the program its scenario file gave
// it, operation by operation. Ranges are pages from REGION_BASE. Tasks of one
// mm meet at `barrier`s through the mm's first workload word: the k-th
// barrier of a task waits until every task of its mm has arrived k times, so
// every task of an mm must pass the same number of barriers (the loader
// checks it). Reads and writes of unmapped pages segfault and are survived,
// as user space survives SIGSEGV with a handler. A task's `setup` (mmap,
// write, read, mprotect, and repeats of them; the loader refuses the rest)
// runs before its program: at boot when config.setupOnce, else first.

import { MAX_VMAS, PAGES_PER_PMD } from '../machine/layout.ts';
import type { RunConfig, ScenarioOp, ScenarioProgram } from '../machine/config.ts';
import type { Path } from '../machine/step.ts';
import { modelAssert } from '../machine/errors.ts';
import type { Kctx } from '../sync/context.ts';
import { scheduleTimeout } from '../sync/sched.ts';
import { userAccess } from '../mm/fault.ts';
import { doMunmap, madviseDontneed } from '../mm/mmap.ts';
import { exitMm, returnToUser } from '../mm/syscall.ts';
import { mprotectRange } from '../mm/mprotect.ts';
import { shiftArgPages } from '../mm/exec.ts';
import { truncateFile } from '../mm/truncate.ts';
import { sysMsync, vfsFsync } from '../mm/writeback.ts';
import { shrinkPageCache } from '../mm/vmscan.ts';
import { REGION_BASE, bumpWord, gatherFrames, measure, mmapRanges, tablesFor, touchRange, waitWord, type TaskRecord, type TaskSpec, type Workload } from './workload.ts';
import { TaskKind } from '../machine/layout.ts';

const BARRIER = 0;

/** Operations a program runs at most, counting every repeat: a bound on every run. */
export const PROGRAM_OPS_MAX = 1_000_000;

/** Operations `ops` runs, with repeats multiplied out. */
export function opsRun(ops: readonly ScenarioOp[]): number {
  let n = 0;
  for (const op of ops) n += op.op === 'repeat' ? op.times * opsRun(op.ops) : 1;
  return n;
}

/** Barriers `ops` passes, with repeats multiplied out. */
export function barriersPassed(ops: readonly ScenarioOp[]): number {
  let n = 0;
  for (const op of ops) n += op.op === 'repeat' ? op.times * barriersPassed(op.ops) : op.op === 'barrier' ? 1 : 0;
  return n;
}

/** The operations a setup may hold: mappings and accesses, nothing that waits for another task or is measured. */
export const SETUP_OPS: ReadonlySet<ScenarioOp['op']> = new Set(['mmap', 'write', 'read', 'mprotect', 'repeat']);

/** A task's setup, then its program: what it runs when nothing runs the setup at boot. */
export function setupAndProgram(task: ScenarioProgram['tasks'][number]): ScenarioOp[] {
  return [...(task.setup ?? []), ...task.program];
}

/** Every mmap in `ops`, repeats not multiplied (a mapping is the same one each time round). */
export function mmapsOf(ops: readonly ScenarioOp[]): Extract<ScenarioOp, { op: 'mmap' }>[] {
  return ops.flatMap((op) => (op.op === 'repeat' ? mmapsOf(op.ops) : op.op === 'mmap' ? [op] : []));
}

/** The program calls msync or fsync or reclaims pages somewhere, so the file it maps lives on a disk (one with writeback). */
export function syncsFile(ops: readonly ScenarioOp[]): boolean {
  return ops.some((op) => (op.op === 'repeat' ? syncsFile(op.ops) : op.op === 'msync' || op.op === 'fsync' || op.op === 'reclaim'));
}

function scenarioOf(config: RunConfig): ScenarioProgram {
  modelAssert(config.scenario !== null, 'workload scenario without a scenario', () => config.workload);
  return config.scenario;
}

function* readRange(ctx: Kctx, start: number, end: number): Path {
  for (let vpn = start; vpn < end; vpn++) yield userAccess(ctx, vpn, false);
}

function* runOps(ctx: Kctx, rec: TaskRecord, spec: TaskSpec, ops: readonly ScenarioOp[], barriers: { passed: number }): Path {
  const mm = spec.mm;
  for (const op of ops) {
    if (op.op === 'repeat') {
      for (let i = 0; i < op.times; i++) yield runOps(ctx, rec, spec, op.ops, barriers);
      continue;
    }
    if (op.op === 'barrier') {
      barriers.passed++;
      bumpWord(ctx, BARRIER);
      yield waitWord(ctx, BARRIER, barriers.passed * spec.peers, `scenario: task ${ctx.task} at barrier ${barriers.passed}`);
      continue;
    }
    if (op.op === 'sleep') {
      yield scheduleTimeout(ctx, op.ms * 1000);
      continue;
    }
    const body = opPath(ctx, mm, op);
    if (op.measure) yield measure(ctx, rec, mm, body);
    else yield body;
    if ('start' in op && (op.op === 'munmap' || op.op === 'madvise')) {
      const start = REGION_BASE + op.start;
      yield returnToUser(ctx, mm, start, start + op.pages, op.op === 'munmap' ? 'munmap' : 'madvise(MADV_DONTNEED)');
    }
  }
}

/** A setup's operations: the program's without barriers, sleeps or measuring (SETUP_OPS). */
function* setupOps(ctx: Kctx, mm: number, ops: readonly ScenarioOp[]): Path {
  for (const op of ops) {
    modelAssert(SETUP_OPS.has(op.op) && !('measure' in op && op.measure), 'a scenario setup holds an operation a setup may not', () => JSON.stringify(op));
    if (op.op === 'repeat') {
      for (let i = 0; i < op.times; i++) yield setupOps(ctx, mm, op.ops);
    } else if (op.op !== 'barrier' && op.op !== 'sleep') {
      yield opPath(ctx, mm, op);
    }
  }
}

function scenarioSetup(ctx: Kctx, spec: TaskSpec): Path | null {
  const setup = scenarioOf(ctx.config).tasks[ctx.task]?.setup;
  return setup ? setupOps(ctx, spec.mm, setup) : null;
}

function* reclaimPath(ctx: Kctx, pages: number): Path {
  yield shrinkPageCache(ctx, pages);
}

function opPath(ctx: Kctx, mm: number, op: Exclude<ScenarioOp, { op: 'repeat' | 'barrier' | 'sleep' }>): Path {
  if (op.op === 'exit') return exitMm(ctx);
  if (op.op === 'truncate') return truncateFile(ctx, op.pages);
  if (op.op === 'fsync') return vfsFsync(ctx);
  if (op.op === 'reclaim') return reclaimPath(ctx, op.pages);
  const start = REGION_BASE + op.start;
  const end = start + op.pages;
  switch (op.op) {
    case 'mmap':
      return mmapRanges(ctx, [[start, end]], op.shared ? 'shared' : op.file);
    case 'write':
      return touchRange(ctx, start, end);
    case 'read':
      return readRange(ctx, start, end);
    case 'munmap':
      return doMunmap(ctx, mm, start, end);
    case 'madvise':
      return madviseDontneed(ctx, mm, start, end);
    case 'mprotect':
      return mprotectRange(ctx, mm, start, end, op.writable);
    case 'msync':
      return sysMsync(ctx, mm, start, end);
    case 'exec-shift':
      return shiftArgPages(ctx, mm, start, end, op.shift);
  }
}

/** Pages the scenario's mms map at most: every mmap at once, with page tables, plus the gathers' batch pages. */
function scenarioMemory(config: RunConfig): number {
  const sc = scenarioOf(config);
  let pages = 0;
  for (const t of sc.tasks) for (const m of mmapsOf(setupAndProgram(t))) pages += m.pages + tablesFor(m.pages);
  return pages + gatherFrames(config) + PAGES_PER_PMD / 64;
}

export const scenarioWorkload: Workload = {
  name: 'scenario',
  defaultPages: 1,
  about: 'the tasks and programs of a scenario file (shootdown run FILE.yaml)',
  // every file mapping maps the file from page 0, so its pages reach no further than the longest MAP_SHARED mapping
  filePagesNeeded: (c) => Math.max(0, ...scenarioOf(c).tasks.flatMap((t) => mmapsOf(setupAndProgram(t)).filter((m) => m.shared).map((m) => m.pages))),
  mappingsNeeded: (c) => {
    const sc = scenarioOf(c);
    const perMm = new Map<number, number>();
    for (const t of sc.tasks) perMm.set(t.mm, (perMm.get(t.mm) ?? 0) + mmapsOf(setupAndProgram(t)).length);
    return Math.min(MAX_VMAS + 1, Math.max(0, ...perMm.values()));
  },
  memoryNeeded: scenarioMemory,
  diskFile: (c) => scenarioOf(c).tasks.some((t) => syncsFile(t.program)),
  tasks: (c) => {
    const sc = scenarioOf(c);
    return sc.tasks.map((t, i) => {
      const peers = sc.tasks.filter((u) => u.mm === t.mm).length;
      const rank = sc.tasks.slice(0, i).filter((u) => u.mm === t.mm).length;
      return { cpu: t.cpu, mm: t.mm, kind: TaskKind.USER, rank, peers };
    });
  },
  *program(ctx: Kctx, rec: TaskRecord, spec: TaskSpec): Path {
    const sc = scenarioOf(ctx.config);
    const task = sc.tasks[ctx.task];
    modelAssert(task !== undefined && task.cpu === spec.cpu && task.mm === spec.mm, 'scenario task out of place', () => `task ${ctx.task}`);
    yield runOps(ctx, rec, spec, task.program, { passed: 0 });
  },
  setup: scenarioSetup,
};
