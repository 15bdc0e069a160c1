// rework runs clean on every workload at default flags (4 cpus, 1000 pages,
// --preempt full) over 500 seeds of the deterministic scheduler.
import { describe, expect, it } from 'vitest';
import { run } from './helpers.ts';

const SEEDS = 500;

describe('rework: no violation over ' + SEEDS + ' seeds', () => {
  for (const workload of ['munmap', 'exit', 'madvise']) {
    it(workload, async () => {
      const bad: string[] = [];
      for (let seed = 1; seed <= SEEDS; seed++) {
        const r = await run({ variant: 'rework', workload, seed });
        if (r.violations.length > 0 || r.error) bad.push(`seed ${seed}: ${r.violations[0]?.rule ?? r.error?.name} ${r.violations[0]?.detail ?? r.error?.message}`);
      }
      expect(bad).toEqual([]);
    }, 240_000);
  }
});
