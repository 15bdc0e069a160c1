// Preemption as a choice the hunter makes: same-cpu races the tick alone
// almost never reaches, bounded exploration that counts every same-cpu
// preemption point, coverage of the points a campaign passed, schedules that
// replay and shrink, and the race the seed really had on one cpu.
import { afterAll, describe, expect, it } from 'vitest';
import { makeConfig, type RunOptions } from '../src/engine/configure.ts';
import { runDeterministic } from '../src/engine/deterministic.ts';
import { estimateBoundedSpace, exploreBounded } from '../src/engine/bounded.ts';
import { campaignPool, makeArtifact, runCampaign } from '../src/engine/campaign.ts';
import { dropPreemptions } from '../src/engine/shrink.ts';
import { IRQ_DEFER_STEPS_MAX, type Chooser } from '../src/engine/strategy.ts';
import { explainText } from '../src/report/explain.ts';

const pool = campaignPool(2);
afterAll(async () => {
  await pool.destroy();
});

async function campaign(o: RunOptions, seeds: number, stopOnFirst: boolean) {
  return runCampaign({ base: makeConfig(o), firstSeed: 1, seeds, timeMs: Infinity, jobs: 2, stopOnFirst, shard: null }, undefined, pool);
}

/** The schedule that never preempts: one cpu at a time, interrupts at once. */
const neverPreempt: Chooser = { choose: () => 0, preempt: () => -1, resched: () => false, takeInterrupt: () => true };

describe('same-cpu preemption', () => {
  const shared = { workload: 'munmap', cpus: 1, tasksPerCpu: 2, mms: 2, pages: 64 } as const;

  for (const strategy of ['random', 'pct']) {
    it(`${strategy} catches legacy-preemptible on one cpu within 1,000 seeds: a task takes over the gather of the task it preempted`, async () => {
      const r = await campaign({ ...shared, variant: 'legacy-preemptible', strategy, ...(strategy === 'pct' ? { pctSteps: 2813 } : {}) }, 1000, true);
      expect(r.firstFailingSeed).not.toBeNull();
      expect(r.firstFailingSeed!).toBeLessThanOrEqual(1000);
      expect(r.groups.map((g) => g.rule)).toContain('FREE_LIVE_PAGE_TABLE');
      console.log(`legacy-preemptible, ${strategy}: first caught at seed ${r.firstFailingSeed}`);
    }, 120_000);
  }

  it('2.6.38 itself is clean there: its gather keeps preemption off', async () => {
    const r = await campaign({ ...shared, variant: 'legacy' }, 200, false);
    expect(r.groups).toEqual([]);
    expect(r.errors).toEqual([]);
    // and it was preempted right where its gather ends: put_cpu_var's preempt_enable in tlb_finish_mmu
    expect(r.coverage.find((p) => p.point === 'tlb_finish_mmu:PREEMPT')?.seeds).toBeGreaterThan(0);
  }, 120_000);

  it('the rework on one cpu frees pages in fast mode before the flush and can be preempted in between: the race 29eb77825cc7 removed fast mode for', async () => {
    const sameMm = { workload: 'munmap', cpus: 1, tasksPerCpu: 2, pages: 64 } as const;
    const rework = await campaign({ ...sameMm, variant: 'rework' }, 50, false);
    expect(rework.groups.map((g) => g.rule)).toContain('STALE_TLB_ACCESS');
    // its story: the page freed inside the gather, the task preempted there, the other thread's read
    const stale = rework.groups.find((g) => g.rule === 'STALE_TLB_ACCESS')!;
    const { artifact } = makeArtifact(makeConfig({ ...sameMm, variant: 'rework', seed: stale.seed }), 'STALE_TLB_ACCESS');
    const story = explainText(runDeterministic({ ...artifact.config, traceLimit: 1_000_000 }, { replay: artifact }), 'STALE_TLB_ACCESS');
    expect(story).toMatch(/free page frame=(\d+)[\s\S]*preempt prev=\d+ next=\d+ inGather=1 at=\w+:\w+[\s\S]*>>> STALE_TLB_ACCESS/);
    // on two cpus the gather batches, and the same tasks run clean
    const twoCpus = await campaign({ ...sameMm, cpus: 2, tasksPerCpu: 1, variant: 'rework' }, 50, false);
    expect(twoCpus.groups).toEqual([]);
  }, 120_000);
});

/** Never preempts by choice, but a task whose last step only polled gives way at its next preemption point, as fairness asks (bounded.ts). */
function fairNeverPreempt(): Chooser {
  let poller = -1;
  return {
    choose: () => 0,
    polled: (_cpu, task) => void (poller = task),
    preempt: (_cpu, current, others) => (current === poller ? ((poller = -1), 0) : -1),
    resched: () => false,
    takeInterrupt: () => true,
  };
}

describe('bounded exploration of same-cpu preemptions', () => {
  for (const readerAccesses of [20, undefined]) {
    it(`--preemptions 1 on one cpu with two tasks runs one schedule per preemption point of the fair unpreempted run, plus that run, and is exhausted (reader accesses ${readerAccesses ?? 'unbounded'})`, () => {
      const config = makeConfig({ variant: 'rework', workload: 'munmap', cpus: 1, tasksPerCpu: 2, pages: 16, readerAccesses, kworker: false });
      const points = runDeterministic(config, { chooser: fairNeverPreempt() }).preemptionPoints!;
      // a point the tick preempted, or a poller gave way at, is not a choice
      const choices = points.reduce((n, p) => n + p.passed - p.preempted, 0);
      expect(choices).toBeGreaterThan(20);
      const r = exploreBounded(config, { preemptions: 1, maxSchedules: 100_000, reduce: false });
      expect(r.exhausted).toBe(true);
      expect(r.pastLimit).toBe(0);
      expect(r.schedules).toBe(choices + 1);
      expect(estimateBoundedSpace(config, 1).schedules).toBe(r.schedules);
      expect(exploreBounded(config, { preemptions: 0, maxSchedules: 100 })).toMatchObject({ schedules: 1, exhausted: true });
    }, 120_000);
  }

  it('without fairness the reader that polls for the unmapper would run for ever: the same scenario, never preempted, is cut short, and that is no lockup', () => {
    const config = makeConfig({ variant: 'rework', workload: 'munmap', cpus: 1, tasksPerCpu: 2, pages: 16, kworker: false, maxSteps: 50_000 });
    const r = runDeterministic(config, { chooser: neverPreempt });
    expect(r.error?.name).toBe('StepLimit');
    expect(r.violations).toEqual([]);
  });
});

describe('coverage', () => {
  it('1,000 random seeds of a 64-page rework munmap on one cpu preempt at every preemption point of zap_pte_range and free_pgtables', async () => {
    const r = await campaign({ variant: 'rework', workload: 'munmap', cpus: 1, tasksPerCpu: 2, pages: 64 }, 1000, false);
    const of = (fn: string) => r.coverage.filter((p) => p.point.startsWith(`${fn}:`));
    for (const fn of ['zap_pte_range', 'free_pgtables']) {
      expect(of(fn).length, fn).toBeGreaterThan(0);
      for (const p of of(fn)) expect(p.seeds, p.point).toBeGreaterThan(0);
    }
    expect(r.neverPreempted).toEqual(r.coverage.filter((p) => p.seeds === 0).map((p) => p.point));
  }, 120_000);

  it("unmap_vmas's cond_resched is a point only past ZAP_BLOCK_SIZE without CONFIG_PREEMPT, and preempted there", async () => {
    const r = await campaign({ variant: 'rework', workload: 'munmap', cpus: 1, tasksPerCpu: 2, pages: 2048, preempt: 'none' }, 10, false);
    expect(r.coverage.find((p) => p.point === 'unmap_vmas:RESCHED')?.seeds).toBeGreaterThan(0);
  }, 120_000);
});

describe('schedules replay and shrink', () => {
  it('an artifact records preemptions, wake-ups and late interrupts; replay follows them to the same result; shrink drops the preemptions the race does not need', () => {
    const config = makeConfig({ variant: 'no-ack-wait', workload: 'munmap', cpus: 3, tasksPerCpu: 2, pages: 64, seed: 1 });
    let seed = 1;
    let found = makeArtifact(config, 'FREE_WHILE_REMOTE_TLB');
    while (found.result.violations.length === 0 || found.artifact.preemptions.length === 0 || found.artifact.irqDeferrals.length === 0) {
      expect(seed, 'a seed with preemptions, deferred interrupts and a violation').toBeLessThan(40);
      found = makeArtifact({ ...config, seed: ++seed }, 'FREE_WHILE_REMOTE_TLB');
    }
    const { artifact, result } = found;
    const again = runDeterministic(artifact.config, { replay: artifact });
    expect({ ...again, host: null }).toEqual({ ...result, host: null });
    // no interrupt was put off longer than the bound
    let run = 1;
    for (let i = 1; i < artifact.irqDeferrals.length; i++) run = artifact.irqDeferrals[i] === artifact.irqDeferrals[i - 1]! + 1 ? run + 1 : 1;
    expect(run).toBeLessThanOrEqual(IRQ_DEFER_STEPS_MAX * config.cpus);

    const { artifact: small, dropped } = dropPreemptions(artifact);
    expect(dropped).toBeGreaterThan(0);
    expect(small.preemptions.length).toBeLessThan(artifact.preemptions.length);
    const replayed = runDeterministic(small.config, { replay: small });
    expect(replayed.violations.find((v) => v.rule === small.rule)?.step).toBe(small.step);
  }, 120_000);
});
