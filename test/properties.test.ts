// Properties of the model, checked on generated programs (fast-check): for
// any sequence of faults, reads, MADV_DONTNEED and munmaps run by one task on
// one cpu (of two, so the gathers batch as on SMP rather than freeing at once
// as 2.6.38 does on a uniprocessor), every
// variant that is not a mutant conserves pages (the oracle's PAGE_LEAK and
// RSS_MISMATCH stay quiet) and frees exactly the pages the program's writes
// allocated; a mutant that breaks the accounting is caught by the same
// property. Generated multi-cpu scenarios round-trip through YAML and run
// clean.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ScenarioOp } from '../src/machine/config.ts';
import { VARIANTS } from '../src/gather/variants.ts';
import { makeConfig } from '../src/engine/configure.ts';
import { runDeterministic } from '../src/engine/deterministic.ts';
import { parseScenario } from '../src/scenario/load.ts';
import { actionArb, program, scenarioArb, scenarioYaml } from './arbitraries.ts';

const REAL_VARIANTS = VARIANTS.filter((v) => !v.mutant).map((v) => v.name);

/**
 * Pages a one-task program allocates: a write to a page that holds no private
 * page yet. Everything is freed by the final exit, except the page-cache pages
 * of MAP_SHARED mappings, which the page cache keeps (and which are not counted).
 */
function pagesAllocated(ops: readonly ScenarioOp[]): number {
  const present = new Map<number, Set<number>>();
  const shared = new Set<number>();
  let allocated = 0;
  for (const op of ops) {
    if (op.op === 'mmap' && op.shared) shared.add(op.start);
    else if (op.op === 'mmap') shared.delete(op.start);
    if (op.op === 'mmap') present.set(op.start, new Set());
    else if (op.op === 'munmap') present.delete(op.start);
    else if (op.op === 'madvise') for (let p = 0; p < op.pages; p++) present.get(op.start)!.delete(p);
    else if (op.op === 'write' && !shared.has(op.start)) {
      const pages = present.get(op.start)!;
      for (let p = 0; p < op.pages; p++) {
        if (pages.has(p)) continue;
        pages.add(p);
        allocated++;
      }
    }
  }
  return allocated;
}

const oneCpu = fc.record({
  actions: fc.array(actionArb, { minLength: 1, maxLength: 24 }),
  preempt: fc.constantFrom('none', 'voluntary', 'full'),
  allocFail: fc.constantFrom('never', 'always', 'once', '0.5'),
  seed: fc.integer({ min: 1, max: 1000 }),
});

function runOneCpu(variant: string, c: { actions: Parameters<typeof program>[1]; preempt: string; allocFail: string; seed: number }) {
  const ops = program(0, c.actions, 1, { exit: true });
  const config = makeConfig({ variant, cpus: 2, kworker: false, preempt: c.preempt, allocFail: c.allocFail, seed: c.seed, scenario: { name: 'property', tasks: [{ cpu: 0, mm: 0, program: ops }] } });
  return { r: runDeterministic(config), allocated: pagesAllocated(ops) };
}

describe('page conservation and RSS on one cpu, for every variant that is not a mutant', () => {
  for (const variant of REAL_VARIANTS) {
    it(`${variant}: no leak, no RSS mismatch, and exactly the pages written are freed`, () => {
      fc.assert(
        fc.property(oneCpu, (c) => {
          const { r, allocated } = runOneCpu(variant, c);
          expect(r.error).toBeNull();
          expect(r.violations).toEqual([]);
          expect(r.counters.pagesFreed).toBe(allocated);
          expect(r.counters.rssAfter).toBe(0);
        }),
        { numRuns: 60, seed: 20111, endOnFailure: true },
      );
    }, 120_000);
  }

  it('the same property catches rework-seed, which applies the rss deltas twice after a forced flush', () => {
    const out = fc.check(
      fc.property(oneCpu, (c) => {
        const { r } = runOneCpu('rework-seed', { ...c, allocFail: 'always' });
        return r.violations.length === 0;
      }),
      { numRuns: 200, seed: 20111 },
    );
    expect(out.failed).toBe(true);
    const { r } = runOneCpu('rework-seed', { ...(out.counterexample![0] as Parameters<typeof runOneCpu>[1]), allocFail: 'always' });
    expect(r.violations.map((v) => v.rule)).toContain('RSS_MISMATCH');
  }, 120_000);
});

describe('generated scenarios', () => {
  it('load from their YAML and run clean for legacy and rework, with their setups in the programs and once at boot', () => {
    let withSetups = 0;
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: 1, max: 1000 }), (g, seed) => {
        const sc = parseScenario('generated.yaml', scenarioYaml(g, 'generated'));
        expect(sc.options.scenario!.tasks).toEqual(g.tasks);
        const hasSetup = g.tasks.some((t) => t.setup);
        if (hasSetup) withSetups++;
        for (const variant of ['legacy', 'rework']) {
          for (const setupOnce of hasSetup ? [false, true] : [false]) {
            // 2.6.38 never had the i_mmap mutex: under its non-preemptible gather the mutex sleeps in atomic context
            const r = runDeterministic(makeConfig({ ...sc.options, variant, seed, setupOnce, immapLock: variant === 'legacy' ? 'spinlock' : sc.options.immapLock }));
            const why = `${variant} seed ${seed}${setupOnce ? ' setup once' : ''}: ${r.error?.message ?? ''} ${r.violations[0]?.rule ?? ''} ${r.violations[0]?.detail ?? ''}\n${scenarioYaml(g, 'generated')}`;
            expect(r.error, why).toBeNull();
            expect(r.violations, why).toEqual([]);
          }
        }
      }),
      { numRuns: 25, seed: 20112, endOnFailure: true },
    );
    expect(withSetups).toBeGreaterThan(5); // the generator does give setups
  }, 120_000);
});
