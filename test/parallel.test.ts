// Parallel mode: one worker thread per simulated cpu on one shared buffer,
// or one per host core, each running a group of the cpus, when they do not fit.
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { run, rules } from './helpers.ts';
import { makeConfig } from '../src/engine/configure.ts';
import { bootMachine } from '../src/engine/boot.ts';
import { HDR } from '../src/machine/layout.ts';
import { PV_ANY, kickCpu, kickWaiters, pvArm, pvBlock, pvDisarm, pvShareThread, spinEnd, spinOn } from '../src/sync/pv.ts';

describe('a thread that runs a group of cpus (pv.ts)', () => {
  it('blocks until any of its cpus is kicked, by an IPI or a release of the lock one spins on, and not by a kick of another thread\'s cpu', () => {
    const { m } = bootMachine(makeConfig({ cpus: 4, mode: 'parallel' }));
    pvShareThread(m, [1, 3]); // cpu 1 is the home
    const lock = HDR.ZONE_LOCK;
    const armBoth = (): number => {
      const seq = pvArm(m, 1, PV_ANY);
      pvArm(m, 3, lock);
      return seq;
    };
    let seq = armBoth();
    kickCpu(m, 3);
    expect(pvBlock(m, 1, seq, 5_000)).toBe(true);
    seq = armBoth();
    kickCpu(m, 0); // another thread's cpu
    kickCpu(m, 2);
    expect(pvBlock(m, 1, seq, 5)).toBe(false);
    spinOn(m, 3, lock);
    seq = armBoth();
    kickWaiters(m, lock);
    expect(pvBlock(m, 1, seq, 5_000)).toBe(true);
    spinEnd(m, 3);
    pvDisarm(m, 1);
    pvDisarm(m, 3);
  });
});

describe('parallel mode', () => {
  it('runs its cpus on different threads at once, and the gather counts stay exact', async () => {
    const r = await run({ variant: 'rework', workload: 'munmap', mode: 'parallel', cpus: 4, pages: 1000, preempt: 'none' });
    expect(r.error).toBeNull();
    expect(r.threads).toBe(Math.min(4, availableParallelism())); // a distinct worker thread per cpu, or per core when they do not fit
    // every cpu passed a start barrier that waits for all of them, and at least two were inside their loops together
    expect(r.maxConcurrentCpus).toBeGreaterThanOrEqual(2);
    expect(r.counters.gatherFlushes).toBe(2);
    expect(r.counters.pteLockAcquisitions).toBe(3);
    expect(r.counters.rssBefore - r.counters.rssAfter).toBe(1000);
    expect(r.violations).toEqual([]);
  });

  for (const variant of ['legacy', 'rework']) {
    it(`${variant} runs clean on every workload with 4 cpus`, async () => {
      for (const workload of ['munmap', 'exit', 'madvise', 'mix']) {
        const r = await run({ variant, workload, mode: 'parallel', cpus: 4 });
        expect(r.error, workload).toBeNull();
        expect(r.violations, workload).toEqual([]);
      }
    });
  }

  // real concurrency is not replayable: give each mutant a few runs
  for (const [variant, budget] of [['free-before-flush', 5], ['no-ack-wait', 10]] as const) {
    it(`catches ${variant} within ${budget} runs`, async () => {
      const found: string[] = [];
      for (let i = 0; i < budget && found.length === 0; i++) {
        const r = await run({ variant, workload: 'munmap', mode: 'parallel', cpus: 4, pages: 2000, seed: i + 1 });
        expect(r.error).toBeNull();
        found.push(...rules(r));
      }
      expect(found.some((x) => x === 'FREE_WHILE_REMOTE_TLB' || x === 'STALE_TLB_ACCESS' || x === 'TLB_AFTER_RETURN')).toBe(true);
    });
  }

  it('rework with the i_mmap lock as a mutex runs clean, tasks sleeping on it across workers', async () => {
    for (const workload of ['munmap', 'exit']) {
      const r = await run({ variant: 'rework', workload, mode: 'parallel', cpus: 4, tasksPerCpu: 2, immapLock: 'mutex' });
      expect(r.error, workload).toBeNull();
      expect(r.violations, workload).toEqual([]);
    }
  });

  // 8 simulated cpus with 3 tasks each on 2 host cores: spins back off, so every cpu makes progress
  // (the suite runs 4 seconds; the 10-second runs are in the closing notes)
  for (const variant of ['legacy', 'rework']) {
    it(`${variant}: 8 cpus x 3 tasks for 4 seconds, no soft lockup and no violation`, async () => {
      const r = await run({ variant, workload: 'mix', mode: 'parallel', cpus: 8, tasksPerCpu: 3, mms: 2, duration: '4s', rounds: 1_000_000_000, probe: true });
      expect(r.error).toBeNull();
      expect(r.violations).toEqual([]);
      expect(r.threads).toBe(Math.min(8, availableParallelism()));
      expect(r.counters.ops).toBeGreaterThan(0);
      expect(r.host.runMs).toBeGreaterThanOrEqual(4000);
      expect(r.clockUs).toBeGreaterThan(0);
    }, 60_000);
  }
});
