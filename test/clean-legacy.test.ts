// legacy (2.6.38) runs clean over many seeds of the deterministic scheduler at
// default flags (4 cpus, default --pages, --preempt full, i_mmap spinlock, a
// kworker per cpu). One file per variant so the two sweeps run side by side.
import { describe, expect, it } from 'vitest';
import { uncleanRuns } from './helpers.ts';

describe('legacy: no violation over many seeds', () => {
  for (const [workload, seeds] of [['munmap', 60], ['exit', 30], ['madvise', 30], ['mix', 25]] as const) {
    it(`${workload}, ${seeds} seeds`, async () => expect(await uncleanRuns('legacy', workload, seeds)).toEqual([]), 240_000);
  }
});
