// The scheduler, preemption and sleeping locks, and what they show about the
// seed's claim: the rework makes the unmap path preemptible, and lets the
// i_mmap lock become a mutex. Deterministic runs, so every figure is exact.
import { describe, expect, it } from 'vitest';
import { CPU_FIELD, PAGE_FIELD, PageState } from '../src/machine/layout.ts';
import { SoftLockup } from '../src/machine/errors.ts';
import { Oracle } from '../src/oracle/rules.ts';
import { makeConfig } from '../src/engine/configure.ts';
import { bootCtx, bootMachine, runToEnd } from '../src/engine/boot.ts';
import { cpuStateDump } from '../src/engine/dump.ts';
import { allocPage } from '../src/page/alloc.ts';
import { spinLock, LockClass } from '../src/sync/spinlock.ts';
import { run, rules } from './helpers.ts';

describe('preemption inside a gather', () => {
  for (const preempt of ['none', 'full']) {
    it(`--preempt ${preempt}: a rework munmap is preempted mid-gather and another task runs; legacy never is`, async () => {
      const o = { workload: 'munmap', pages: 4096, cpus: 2, tasksPerCpu: 2, preempt };
      const rework = await run({ ...o, variant: 'rework' });
      const legacy = await run({ ...o, variant: 'legacy' });
      for (const r of [rework, legacy]) {
        expect(r.violations).toEqual([]);
        expect(r.error).toBeNull();
        expect(r.totals.involuntarySwitches).toBeGreaterThan(0); // the scheduler did preempt tasks
      }
      // the unmapping task (task 0) was switched out while its gather held pages, and cpu 0 ran another task
      expect(rework.counters.preemptionsInGather).toBeGreaterThan(0);
      expect(legacy.totals.preemptionsInGather).toBe(0);
    });
  }
});

describe('the longest non-preemptible section', () => {
  it('grows with the unmap for legacy (whole 1024-page blocks) and stays one pte-lock hold for rework (--preempt none)', async () => {
    const off = async (variant: string, pages: number) => {
      const r = await run({ variant, workload: 'munmap', pages, cpus: 2, preempt: 'none', readerAccesses: 200 });
      expect(r.violations).toEqual([]);
      return r;
    };
    const legacySmall = await off('legacy', 256);
    const legacyBig = await off('legacy', 4096);
    const reworkBig = await off('rework', 4096);
    const l = legacyBig.latency.preemptOffMax!;
    const w = reworkBig.latency.preemptOffMax!;
    expect(legacySmall.latency.preemptOffMax!.ns).toBeLessThan(l.ns);
    expect(w.ns).toBeLessThan(l.ns);
    // legacy's is a whole gather; rework's is one pte-lock hold, as long as the longest hold
    expect([l.startWhere, l.endWhere]).toEqual(['tlb_gather_mmu', 'tlb_finish_mmu']);
    expect([w.startWhere, w.endWhere]).toEqual([`spin_lock(${LockClass.PTE_LOCK})`, `spin_unlock(${LockClass.PTE_LOCK})`]);
    expect(w.ns).toBeGreaterThanOrEqual(reworkBig.latency.summaries.pteLockHold.maxNs * 0.99);
    // a 1024-page block: the same bound at 4096 pages as at 1024
    const legacyBlock = await off('legacy', 1024);
    expect(Math.abs(legacyBlock.latency.preemptOffMax!.ns - l.ns) / l.ns).toBeLessThan(0.05);
  });

  it('the latency probe waits for the next preemption point: far longer under --preempt none than full', async () => {
    const probe = (preempt: string) => run({ variant: 'legacy', workload: 'munmap', pages: 4096, cpus: 2, preempt, probe: true });
    const none = await probe('none');
    const full = await probe('full');
    for (const r of [none, full]) {
      expect(r.violations).toEqual([]);
      expect(r.latency.summaries.probeWakeup.count).toBeGreaterThan(10);
      expect(r.totals.probeWakeups).toBe(r.latency.summaries.probeWakeup.count);
    }
    // under none the probe waits out a whole 1024-page block; under full at most an 8-page one
    expect(none.latency.summaries.probeWakeup.maxNs).toBeGreaterThan(10 * full.latency.summaries.probeWakeup.maxNs);
  });
});

describe('i_mmap lock as a mutex', () => {
  for (const workload of ['munmap', 'exit']) {
    it(`${workload}: legacy sleeps in atomic context inside its gather; rework does not`, async () => {
      const legacy = await run({ variant: 'legacy', workload, immapLock: 'mutex' });
      expect(rules(legacy)).toEqual(['SLEEP_IN_ATOMIC']);
      expect(legacy.violations[0]!.detail).toMatch(/^mutex_lock\(&mapping->i_mmap_mutex\) with preempt_count 1/);
      const rework = await run({ variant: 'rework', workload, immapLock: 'mutex' });
      expect(rework.violations).toEqual([]);
      // and with the 2.6.38 spinlock, legacy is clean
      expect((await run({ variant: 'legacy', workload })).violations).toEqual([]);
    });
  }
});

describe('sleeping locks', () => {
  it('tasks block on mmap_sem and the i_mmap mutex, give up their cpu, and are woken from other cpus', async () => {
    for (const variant of ['legacy', 'rework']) {
      const r = await run({ variant, workload: 'mix', cpus: 3, tasksPerCpu: 2, immapLock: variant === 'rework' ? 'mutex' : 'spinlock' });
      expect(r.violations, variant).toEqual([]);
      expect(r.totals.sleepingLockWaits, variant).toBeGreaterThan(0);
      expect(r.totals.wakeups, variant).toBeGreaterThanOrEqual(r.totals.sleepingLockWaits);
      expect(r.totals.voluntarySwitches, variant).toBeGreaterThan(0);
    }
  });

  it('the kernel threads make cpus lazy, and flushes make lazy cpus leave the mm', async () => {
    const r = await run({ variant: 'rework', workload: 'mix', cpus: 4 });
    expect(r.violations).toEqual([]);
    expect(r.totals.kworkerRuns).toBeGreaterThan(0);
    expect(r.totals.lazyLeaves).toBeGreaterThan(0);
    const quiet = await run({ variant: 'rework', workload: 'munmap', cpus: 4, kworker: false });
    expect(quiet.totals.kworkerRuns).toBe(0);
  });
});

describe('soft lockup', () => {
  it('a spin past --lockup-ms on the watchdog clock throws SoftLockup (the spin costs no model time), and the state dump names the holder', () => {
    const config = makeConfig({ variant: 'rework', workload: 'munmap', pages: 64, cpus: 2, lockupMs: 10 });
    const { m } = bootMachine(config);
    const oracle = new Oracle('rework', 1, 100, () => 0, () => {});
    let clock = 0;
    const holder = { ...bootCtx(m, config, oracle), cpu: 0 };
    const waiter = { ...bootCtx(m, config, oracle), cpu: 1, watchNow: () => (clock += 10) };
    const table = runToEnd(allocPage(holder, 'GFP_KERNEL', PageState.PAGETABLE));
    const lock = m.page(table, PAGE_FIELD.PTL);
    runToEnd(spinLock(holder, lock, LockClass.PTE_LOCK, 'test'));
    expect(() => runToEnd(spinLock(waiter, lock, LockClass.PTE_LOCK, 'test'))).toThrow(SoftLockup);
    expect(waiter.clockNs).toBe(0);
    const dump = cpuStateDump(m, config);
    expect(dump[0]).toContain(`holds pte lock of frame ${table}`);
    expect(dump[0]).toContain('preempt_count 1');
    expect(m.mem[m.cpu(1, CPU_FIELD.PREEMPT_COUNT)]).toBe(1); // the waiter spins with preemption off
  });
});
