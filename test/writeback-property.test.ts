// Property: for any single-cpu program of writes, msync, fsync, munmap,
// truncate and reclaim on a MAP_SHARED mapping of a disk file, the file's final on-disk
// content (the data version of every page) is what a reference model of the
// same program says, for every variant that is not a mutant; the oracles
// stay quiet; and wp-fault-no-dirty, whose writes after a sync never reach
// the disk, breaks the property.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ScenarioOp } from '../src/machine/config.ts';
import { VARIANTS } from '../src/gather/variants.ts';
import { Oracle } from '../src/oracle/rules.ts';
import { makeConfig } from '../src/engine/configure.ts';
import { bootCtx, bootMachine, runToEnd } from '../src/engine/boot.ts';
import { switchMm } from '../src/cpu/tlbflush.ts';
import { checkQuiescent } from '../src/mm/syscall.ts';
import { scenarioWorkload } from '../src/workloads/program.ts';
import { TaskKind } from '../src/machine/layout.ts';
import type { TaskRecord } from '../src/workloads/workload.ts';

const REAL_VARIANTS = VARIANTS.filter((v) => !v.mutant).map((v) => v.name);
/** File pages the mapping covers. */
const FILE_PAGES = 6;

type Step = { kind: 'write'; page: number; pages: number } | { kind: 'msync' } | { kind: 'fsync' } | { kind: 'munmap' } | { kind: 'mmap' } | { kind: 'truncate'; pages: number } | { kind: 'reclaim' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('write' as const), page: fc.integer({ min: 0, max: FILE_PAGES - 1 }), pages: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'msync' } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: 'fsync' } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: 'munmap' } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: 'mmap' } as const) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), pages: fc.integer({ min: 0, max: FILE_PAGES }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reclaim' } as const) },
);

/** The program, and the disk the reference model expects after it: versions per file page. */
function programAndReference(steps: readonly Step[]): { ops: ScenarioOp[]; disk: number[] } {
  const ops: ScenarioOp[] = [{ op: 'mmap', start: 0, pages: FILE_PAGES, file: true, shared: true, measure: false }];
  const disk = new Array<number>(FILE_PAGES).fill(0);
  const cache = new Map<number, { version: number; dirty: boolean }>();
  let mapped = true;
  /** File pages a pte maps: written while mapped, until munmap or truncate zaps them. */
  const faulted = new Set<number>();
  let iSize = Infinity;
  const sync = (): void => {
    for (const [i, p] of cache) {
      if (!p.dirty) continue;
      disk[i] = p.version;
      p.dirty = false;
    }
  };
  for (const s of steps) {
    if (s.kind === 'write') {
      if (!mapped) continue;
      const pages = Math.min(s.pages, FILE_PAGES - s.page);
      ops.push({ op: 'write', start: s.page, pages, measure: false });
      for (let i = s.page; i < s.page + pages; i++) {
        if (i >= iSize) continue; // SIGBUS
        const p = cache.get(i) ?? { version: disk[i]!, dirty: false };
        p.version++;
        p.dirty = true;
        cache.set(i, p);
        faulted.add(i);
      }
    } else if (s.kind === 'msync') {
      if (!mapped) continue;
      ops.push({ op: 'msync', start: 0, pages: FILE_PAGES, measure: true });
      sync();
    } else if (s.kind === 'fsync') {
      ops.push({ op: 'fsync', measure: true });
      sync();
    } else if (s.kind === 'munmap') {
      if (!mapped) continue;
      ops.push({ op: 'munmap', start: 0, pages: FILE_PAGES, measure: true });
      mapped = false; // the zap passes each dirty pte to its page: the cache stays as it is
      faulted.clear();
    } else if (s.kind === 'mmap') {
      if (mapped) continue;
      ops.push({ op: 'mmap', start: 0, pages: FILE_PAGES, file: true, shared: true, measure: false });
      mapped = true;
    } else if (s.kind === 'reclaim') {
      ops.push({ op: 'reclaim', pages: FILE_PAGES, measure: true });
      for (const [i, p] of cache) {
        if (faulted.has(i)) continue; // mapped: reclaim leaves it
        if (p.dirty) disk[i] = p.version; // pageout
        cache.delete(i); // read from the disk again next time, with the same version
      }
    } else {
      ops.push({ op: 'truncate', pages: s.pages, measure: true });
      iSize = s.pages;
      for (let i = s.pages; i < FILE_PAGES; i++) {
        cache.delete(i);
        faulted.delete(i);
        disk[i] = 0; // the blocks are freed: zeros when read again
      }
    }
  }
  ops.push({ op: 'fsync', measure: true }); // the file lives on a disk (a program that syncs)
  sync();
  return { ops, disk };
}

/** Run the program as task 0 on cpu 0 of a two-cpu machine (nothing else runs), and read the disk back. */
function runOnDisk(variant: string, ops: ScenarioOp[]): { disk: number[]; rules: string[] } {
  const config = makeConfig({ variant, cpus: 2, kworker: false, scenario: { name: 'property', tasks: [{ cpu: 0, mm: 0, program: ops }] } });
  expect(config.diskFile).toBe(true);
  const { m, tasks } = bootMachine(config);
  const oracle = new Oracle(variant, 1, 100, () => 0, () => {});
  const ctx = bootCtx(m, config, oracle);
  ctx.task = 0;
  ctx.mm = 0;
  switchMm(ctx, 0);
  const rec: TaskRecord = { task: 0, cpu: 0, mm: 0, kind: TaskKind.USER, stats: ctx.stats, measured: null, inOp: false, rssBefore: 0, rssAfter: 0, tlbFlushEventsFrom: -1, tlbFlushEventsTo: -1, finished: false };
  runToEnd(scenarioWorkload.program(ctx, rec, tasks[0]!));
  checkQuiescent(m.mem, m, oracle, 0);
  return { disk: Array.from({ length: FILE_PAGES }, (_, i) => m.mem[m.fileDiskSlot(i)]!), rules: oracle.violations.map((v) => v.rule) };
}

describe('the disk holds what a reference model of the program says', () => {
  for (const variant of REAL_VARIANTS) {
    it(`${variant}`, () => {
      fc.assert(
        fc.property(fc.array(stepArb, { minLength: 1, maxLength: 30 }), (steps) => {
          const { ops, disk } = programAndReference(steps);
          const got = runOnDisk(variant, ops);
          expect(got.rules).toEqual([]);
          expect(got.disk).toEqual(disk);
        }),
        { numRuns: 150, seed: 20118, endOnFailure: true },
      );
    }, 120_000);
  }

  it('wp-fault-no-dirty breaks it: a write to a page already written back reaches the disk only if something else dirties the page', () => {
    const out = fc.check(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 30 }), (steps) => {
        const { ops, disk } = programAndReference(steps);
        const got = runOnDisk('wp-fault-no-dirty', ops);
        return JSON.stringify(got.disk) === JSON.stringify(disk);
      }),
      { numRuns: 150, seed: 20118 },
    );
    expect(out.failed).toBe(true);
  }, 120_000);
});
