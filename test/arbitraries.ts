// fast-check arbitraries for scenario programs, valid by construction: each
// task works in its own slots (a slot is SLOT_PAGES pages, 2 MiB apart, so
// slots never share a page table with another task's), maps a slot before it
// unmaps it, and tasks of one mm pass the same number of barriers. Reads may
// reach any slot, so tasks do race on each other's page tables through the
// TLB. A task may take its program's leading mmaps and writes as its setup:
// writes of fresh pages, which flush no TLB, so a setup never waits for
// another cpu. Used by the property tests and by `npm run soak`.

import fc from 'fast-check';
import { stringify } from 'yaml';
import type { ScenarioOp } from '../src/machine/config.ts';

export const SLOT_STRIDE_PAGES = 512;
export const SLOTS_PER_TASK = 3;
/** Page-cache pages one reclaim scans: as many as the longest mapping. */
const RECLAIM_SCAN_PAGES = 64;

type RangeKind = 'mmap' | 'munmap' | 'madvise' | 'write' | 'read' | 'msync';
/** A file mmap is MAP_SHARED when `shared`; a program that msyncs or fsyncs puts the file on a disk, with writeback. */
export type Action = { kind: RangeKind; slot: number; pages: number; file: boolean; shared: boolean } | { kind: 'barrier' } | { kind: 'fsync' } | { kind: 'reclaim' };

/** Raw actions of at most `pagesMax` pages each; `program` turns them into a valid program. */
export function actionArbOf(pagesMax: number): fc.Arbitrary<Action> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constantFrom('mmap', 'munmap', 'madvise', 'write', 'read', 'msync') as fc.Arbitrary<RangeKind>, slot: fc.integer({ min: 0, max: SLOTS_PER_TASK - 1 }), pages: fc.integer({ min: 1, max: pagesMax }), file: fc.boolean(), shared: fc.boolean() }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'barrier' } as const) },
    { weight: 1, arbitrary: fc.constant({ kind: 'fsync' } as const) },
    { weight: 1, arbitrary: fc.constant({ kind: 'reclaim' } as const) },
  );
}

export const actionArb: fc.Arbitrary<Action> = actionArbOf(64);

/**
 * A valid program for task `task` from raw actions: an mmap of a mapped slot
 * or an munmap of an unmapped one is dropped, ranges are clipped to what is
 * mapped, and reads of another task's slots are kept. Barriers are dropped
 * here; `withBarriers` puts the same number into every task of an mm.
 */
export function program(task: number, actions: readonly Action[], tasks: number, opts: { exit: boolean }): ScenarioOp[] {
  const base = (t: number, slot: number): number => (t * SLOTS_PER_TASK + slot) * SLOT_STRIDE_PAGES;
  const size = new Map<number, { pages: number; file: boolean }>();
  const ops: ScenarioOp[] = [];
  for (const a of actions) {
    if (a.kind === 'barrier') continue;
    if (a.kind === 'fsync' || a.kind === 'reclaim') {
      ops.push(a.kind === 'fsync' ? { op: 'fsync', measure: true } : { op: 'reclaim', pages: RECLAIM_SCAN_PAGES, measure: true });
      continue;
    }
    const start = base(task, a.slot);
    const mapped = size.get(a.slot);
    if (a.kind === 'mmap') {
      if (mapped) continue;
      size.set(a.slot, { pages: a.pages, file: a.file });
      ops.push({ op: 'mmap', start, pages: a.pages, file: a.file, ...(a.file && a.shared ? { shared: true } : {}), measure: false });
    } else if (a.kind === 'munmap') {
      if (!mapped) continue;
      size.delete(a.slot);
      ops.push({ op: 'munmap', start, pages: mapped.pages, measure: true });
    } else if (a.kind === 'read') {
      // any task's slot: a read of another task's range may hit its mapping, a hole, or nothing
      const other = (task + a.pages) % tasks;
      ops.push({ op: 'read', start: base(other, a.slot), pages: a.pages, measure: false });
    } else {
      if (!mapped) continue;
      ops.push({ op: a.kind, start, pages: Math.min(a.pages, mapped.pages), measure: a.kind === 'madvise' || a.kind === 'msync' });
    }
  }
  if (opts.exit) ops.push({ op: 'exit', measure: true });
  return ops;
}

/** `k` barriers spread through `ops` (before the exit, if any). */
export function withBarriers(ops: ScenarioOp[], k: number): ScenarioOp[] {
  const body = ops.at(-1)?.op === 'exit' ? ops.slice(0, -1) : ops.slice();
  const tail = ops.at(-1)?.op === 'exit' ? [ops.at(-1)!] : [];
  const out: ScenarioOp[] = [];
  for (let i = 0; i < k; i++) {
    const from = Math.floor((i * body.length) / k);
    const to = Math.floor(((i + 1) * body.length) / k);
    out.push(...body.slice(from, to), { op: 'barrier' });
  }
  if (k === 0) out.push(...body);
  return [...out, ...tail];
}

export interface GeneratedScenario {
  cpus: number;
  preempt: 'none' | 'voluntary' | 'full';
  immapLock: 'spinlock' | 'mutex';
  allocFail: 'never' | 'once' | 'always' | number;
  tasks: { cpu: number; mm: number; setup?: ScenarioOp[]; program: ScenarioOp[] }[];
  /** Set false for a machine without the per-cpu kworker (the tiny scenarios bounded exploration enumerates). */
  kworker?: boolean;
}

/** A whole machine: 1 to 4 cpus, 1 to 5 tasks over 1 or 2 mms, barriers, every preemption model. */
export const scenarioArb: fc.Arbitrary<GeneratedScenario> = fc
  .record({
    cpus: fc.integer({ min: 1, max: 4 }),
    preempt: fc.constantFrom('none', 'voluntary', 'full') as fc.Arbitrary<'none' | 'voluntary' | 'full'>,
    immapLock: fc.constantFrom('spinlock', 'mutex') as fc.Arbitrary<'spinlock' | 'mutex'>,
    allocFail: fc.oneof(fc.constantFrom('never', 'once', 'always') as fc.Arbitrary<'never' | 'once' | 'always'>, fc.double({ min: 0, max: 1, noNaN: true })),
    barriers: fc.integer({ min: 0, max: 3 }),
    tasks: fc.array(fc.record({ cpu: fc.nat(), mm: fc.integer({ min: 0, max: 1 }), actions: fc.array(actionArb, { minLength: 1, maxLength: 14 }), exit: fc.boolean(), setup: fc.boolean() }), { minLength: 1, maxLength: 5 }),
  })
  .map((g) => {
    // mms numbered from 0 without gaps
    const mms = [...new Set(g.tasks.map((t) => t.mm))].sort();
    const tasks = g.tasks.map((t, i) => withSetup({ cpu: t.cpu % g.cpus, mm: mms.indexOf(t.mm), program: program(i, t.actions, g.tasks.length, { exit: t.exit }) }, t.setup));
    // a task that does nothing still needs an operation; and barriers need every task of the mm
    for (const t of tasks) if (t.program.length === 0) t.program.push({ op: 'read', start: 0, pages: 1, measure: false });
    return { cpus: g.cpus, preempt: g.preempt, immapLock: g.immapLock, allocFail: g.allocFail, tasks: tasks.map((t) => ({ ...t, program: withBarriers(t.program, g.barriers) })) };
  });

/** With `take`, the program's leading mmaps and writes become the task's setup. */
function withSetup(t: { cpu: number; mm: number; program: ScenarioOp[] }, take: boolean): GeneratedScenario['tasks'][number] {
  const n = take ? t.program.findIndex((op) => op.op !== 'mmap' && op.op !== 'write') : 0;
  const lead = n < 0 ? t.program.length : n;
  return lead === 0 ? t : { ...t, setup: t.program.slice(0, lead), program: t.program.slice(lead) };
}

/**
 * A machine small enough to enumerate its schedules (the soak's bounded
 * explorations): 1 or 2 cpus with 1 or 2 tasks each, a few short actions of
 * at most 4 pages per task, no kworker.
 */
export const tinyScenarioArb: fc.Arbitrary<GeneratedScenario> = fc
  .record({
    cpus: fc.integer({ min: 1, max: 2 }),
    tasksPerCpu: fc.integer({ min: 1, max: 2 }),
    preempt: fc.constantFrom('none', 'voluntary', 'full') as fc.Arbitrary<'none' | 'voluntary' | 'full'>,
    immapLock: fc.constantFrom('spinlock', 'mutex') as fc.Arbitrary<'spinlock' | 'mutex'>,
    barriers: fc.integer({ min: 0, max: 1 }),
    tasks: fc.array(fc.record({ mm: fc.integer({ min: 0, max: 1 }), actions: fc.array(actionArbOf(4), { minLength: 1, maxLength: 4 }), exit: fc.boolean() }), { minLength: 4, maxLength: 4 }),
  })
  .map((g) => {
    const n = g.cpus * g.tasksPerCpu;
    const picked = g.tasks.slice(0, n);
    const mms = [...new Set(picked.map((t) => t.mm))].sort();
    const tasks = picked.map((t, i) => ({ cpu: i % g.cpus, mm: mms.indexOf(t.mm), program: program(i, t.actions, n, { exit: t.exit }) }));
    for (const t of tasks) if (t.program.length === 0) t.program.push({ op: 'read', start: 0, pages: 1, measure: false });
    return { cpus: g.cpus, preempt: g.preempt, immapLock: g.immapLock, allocFail: 'never' as const, kworker: false, tasks: tasks.map((t) => ({ ...t, program: withBarriers(t.program, g.barriers) })) };
  });

function opYaml(op: ScenarioOp): unknown {
  switch (op.op) {
    case 'barrier':
      return 'barrier';
    case 'exit':
      return 'exit';
    case 'fsync':
      return 'fsync';
    case 'reclaim':
      return { reclaim: { pages: op.pages } };
    case 'repeat':
      return { repeat: { times: op.times, do: op.ops.map(opYaml) } };
    case 'sleep':
      return { sleep: { ms: op.ms } };
    case 'truncate':
      return { truncate: { pages: op.pages } };
    case 'mmap':
      return { mmap: { start: op.start, pages: op.pages, ...(op.file ? { file: true } : {}), ...(op.shared ? { shared: true } : {}) } };
    case 'mprotect':
      return { mprotect: { start: op.start, pages: op.pages, writable: op.writable } };
    case 'exec-shift':
      return { 'exec-shift': { start: op.start, pages: op.pages, shift: op.shift } };
    default:
      return { [op.op]: { start: op.start, pages: op.pages, measure: op.measure } };
  }
}

/** The scenario as the YAML file a user would write: what a failure prints to reproduce it. */
export function scenarioYaml(s: GeneratedScenario, name: string): string {
  return stringify({
    name,
    machine: { cpus: s.cpus, preempt: s.preempt, immapLock: s.immapLock, allocFail: s.allocFail, ...(s.kworker === false ? { kworker: false } : {}) },
    tasks: s.tasks.map((t) => ({ cpu: t.cpu, mm: t.mm, ...(t.setup ? { setup: t.setup.map(opYaml) } : {}), program: t.program.map(opYaml) })),
  });
}
