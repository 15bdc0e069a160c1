// The races across the kernel's history: each appears in the designs whose
// kernel had it and is gone from the design with its fix; each later
// mechanism's mutant is caught on its own scenario. (The lost write of a
// dirty shared page, fixed by 5df397dec7c4, is stepped by hand in
// writeback.test.ts across all five designs.)
import { describe, expect, it } from 'vitest';
import type { RunOptions } from '../src/engine/configure.ts';
import { findVariant } from '../src/gather/variants.ts';
import { rules, run, uncleanRuns } from './helpers.ts';

/** The first seed in 1..seeds whose run reports `rule`, or 0. */
async function firstCatch(o: RunOptions, rule: string, seeds: number): Promise<number> {
  for (let seed = 1; seed <= seeds; seed++) if (rules(await run({ clockSkew: 'none', ...o, seed })).includes(rule)) return seed;
  return 0;
}

describe('fast mode under the preemptible gather (29eb77825cc7 removed it in 3.11)', () => {
  const scenario: RunOptions = { workload: 'munmap', cpus: 1, tasksPerCpu: 2, pages: 64 };
  it('rework: STALE_TLB_ACCESS on one cpu', async () => {
    expect(await firstCatch({ ...scenario, variant: 'rework' }, 'STALE_TLB_ACCESS', 100)).toBeGreaterThan(0);
  });
  for (const variant of ['v3.11', 'v4.15', 'v6.18']) {
    it(`${variant}: clean`, async () => {
      expect(await uncleanRuns(variant, 'munmap', 100, scenario)).toEqual([]);
    });
  }
});

describe('the nested MADV_DONTNEED flush miss (99baac21e458, 4.15)', () => {
  const scenario: RunOptions = { workload: 'madvise', overlap: true, pages: 64, cpus: 4 };
  for (const variant of ['rework', 'v3.11']) {
    it(`${variant}: TLB_AFTER_RETURN, a zap that found every pte cleared returns before the other one flushed`, async () => {
      expect(await firstCatch({ ...scenario, variant }, 'TLB_AFTER_RETURN', 300)).toBeGreaterThan(0);
    });
  }
  for (const variant of ['v4.15', 'v6.18']) {
    it(`${variant}: clean`, async () => {
      expect(await uncleanRuns(variant, 'madvise', 150, scenario)).toEqual([]);
    });
  }
});

describe("the later mechanisms' mutants are caught on their own scenarios", () => {
  const expected: Record<string, string> = {
    'lazy-skip-freed-tables': 'FREE_WHILE_REMOTE_TLB',
    'switch-ignores-tlb-gen': 'TLB_AFTER_RETURN',
    'no-nested-flush': 'TLB_AFTER_RETURN',
  };
  for (const [name, rule] of Object.entries(expected)) {
    it(`${name}: ${rule}`, async () => {
      const v = findVariant(name)!;
      expect(await firstCatch({ ...(v.huntWith as RunOptions), variant: name }, rule, 100)).toBeGreaterThan(0);
    });
  }
  it('the real v6.18 stays clean on those scenarios', async () => {
    for (const name of Object.keys(expected)) {
      const o = findVariant(name)!.huntWith as RunOptions;
      expect(await uncleanRuns('v6.18', o.workload as string, 20, o), name).toEqual([]);
    }
  });
});
