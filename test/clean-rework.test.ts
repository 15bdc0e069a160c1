// rework runs clean over many seeds (the long campaigns are `shootdown hunt`'s) of the deterministic scheduler at default
// flags (4 cpus, default --pages, --preempt full, a kworker per cpu). The
// file-mapping workloads run with the i_mmap lock as a mutex, as the series
// made it: rework's gather is preemptible, so sleeping in free_pgtables is
// legal. One file per variant so the two sweeps run side by side.
import { describe, expect, it } from 'vitest';
import { uncleanRuns } from './helpers.ts';

describe('rework: no violation over many seeds', () => {
  it('munmap (256 pages), i_mmap mutex, 500 seeds', async () => expect(await uncleanRuns('rework', 'munmap', 500, { immapLock: 'mutex', pages: 256 })).toEqual([]), 240_000);
  it('exit, i_mmap mutex, 30 seeds', async () => expect(await uncleanRuns('rework', 'exit', 30, { immapLock: 'mutex' })).toEqual([]), 240_000);
  for (const [workload, seeds] of [['madvise', 30], ['mix', 25]] as const) {
    it(`${workload}, ${seeds} seeds`, async () => expect(await uncleanRuns('rework', workload, seeds)).toEqual([]), 240_000);
  }
});
