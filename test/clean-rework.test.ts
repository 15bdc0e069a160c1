// rework runs clean on every workload at default flags (4 cpus, default --pages,
// --preempt full) over 500 seeds of the deterministic scheduler. One file per
// variant so the two sweeps run side by side.
import { describe, expect, it } from 'vitest';
import { uncleanRuns } from './helpers.ts';

describe('rework: no violation over 500 seeds', () => {
  for (const workload of ['munmap', 'exit', 'madvise']) {
    it(workload, async () => expect(await uncleanRuns('rework', workload, 500)).toEqual([]), 240_000);
  }
});
