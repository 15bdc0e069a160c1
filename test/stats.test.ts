// lock_stat counted exactly on a known contention pattern, and the Perfetto
// trace checked against the rules a viewer relies on.
import { describe, expect, it } from 'vitest';
import { PAGE_FIELD, PageState } from '../src/machine/layout.ts';
import { PATH_DONE, PathStack, Step } from '../src/machine/step.ts';
import { Oracle } from '../src/oracle/rules.ts';
import { makeConfig } from '../src/engine/configure.ts';
import { bootCtx, bootMachine, runToEnd } from '../src/engine/boot.ts';
import { newKctx } from '../src/sync/context.ts';
import { spinLock, spinUnlock, LockClass } from '../src/sync/spinlock.ts';
import { allocPage } from '../src/page/alloc.ts';
import { mergeLockStat } from '../src/stats/lockstat.ts';
import type { TraceEvent, TraceFile } from '../src/stats/trace.ts';
import { run } from './helpers.ts';

describe('lock_stat', () => {
  it('counts acquisitions, contentions and bounces of two cpus on one pte lock exactly, timed on their model clocks', () => {
    const config = makeConfig({ variant: 'rework', workload: 'munmap', pages: 64, cpus: 2 });
    const { m } = bootMachine(config);
    const oracle = new Oracle('rework', 1, 100, () => 0, () => {});
    const boot = bootCtx(m, config, oracle);
    const cpu = (n: number) => newKctx({ m, cpu: n, config, traits: boot.traits, oracle, rng: boot.rng, watchNow: () => 0, latencyStats: true });
    const [c0, c1] = [cpu(0), cpu(1)];
    const transferNs = config.costs.cacheLineTransferNs;
    expect(transferNs).toBeGreaterThan(0);
    const lock = m.page(runToEnd(allocPage(boot, 'GFP_KERNEL', PageState.PAGETABLE)), PAGE_FIELD.PTL);
    const take = (c: typeof c0, site: string) => runToEnd(spinLock(c, lock, LockClass.PTE_LOCK, site));
    const drop = (c: typeof c0) => runToEnd(spinUnlock(c, lock, LockClass.PTE_LOCK));
    // cpu 0 three times: the first has no previous holder, the next two follow cpu 0 itself
    for (let i = 0; i < 3; i++) {
      take(c0, 'a');
      c0.clockNs += 5000;
      drop(c0);
    }
    expect(c0.clockNs).toBe(15_000);
    take(c1, 'b'); // after cpu 0: a bounce; cpu 1's clock (0) moves to the release, plus the line's transfer
    expect(c1.clockNs).toBe(15_000 + transferNs);
    const waiter = new PathStack(spinLock(c0, lock, LockClass.PTE_LOCK, 'contended-site'));
    expect(waiter.next()).toBe(Step.SPIN); // cpu 0 spins: a contention
    expect(waiter.next()).toBe(Step.SPIN); // spinning costs no model time: the wait is measured from the release
    c1.clockNs += 7000;
    drop(c1);
    for (let i = 0; waiter.next() !== PATH_DONE; i++) expect(i).toBeLessThan(10); // cpu 0 gets it after cpu 1: a bounce, and a contention bounce
    expect(c0.clockNs).toBe(15_000 + 7000 + 2 * transferNs);
    c0.clockNs += 3000;
    drop(c0);
    const [s] = mergeLockStat([c0.lockStat.snapshot(), c1.lockStat.snapshot()]);
    expect(s!.class).toBe(LockClass.PTE_LOCK);
    expect(s!.acquisitions).toBe(5);
    expect(s!.contentions).toBe(1);
    expect(s!.acqBounces).toBe(2);
    expect(s!.conBounces).toBe(1);
    expect(s!.contentionPoints).toEqual([{ site: 'contended-site', count: 1 }]);
    expect(s!.waittimeMaxNs).toBe(7000 + 2 * transferNs);
    expect(s!.holdtimeMaxNs).toBe(7000);
    expect(s!.holdtimeTotalNs).toBe((5 + 5 + 5 + 7 + 3) * 1000);
  });

  it('compare on the default workload: rework holds the pte lock for less than legacy (--preempt none, 4096 pages)', async () => {
    const o = { workload: 'munmap', pages: 4096, preempt: 'none', cpus: 4 };
    const hold = async (variant: string) => (await run({ ...o, variant })).lockStat.find((c) => c.class === LockClass.PTE_LOCK)!.holdtimeMaxNs;
    const legacy = await hold('legacy');
    const rework = await hold('rework');
    expect(rework).toBeGreaterThan(0);
    expect(rework).toBeLessThan(legacy); // legacy flushes and frees 506 pages inside one hold
  });
});

/** Checks a trace against what Perfetto's importer needs; returns the problems found. */
function traceProblems(t: TraceFile): string[] {
  const problems: string[] = [];
  const named = new Set(t.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => `${e.pid}/${e.tid}`));
  const flows = new Map<string, string[]>();
  const asyncOpen = new Map<string, number>();
  const slices = new Map<number, TraceEvent[]>();
  for (const e of t.traceEvents) {
    if (typeof e.name !== 'string' || typeof e.ph !== 'string' || typeof e.ts !== 'number' || !(e.ts >= 0) || typeof e.pid !== 'number' || typeof e.tid !== 'number') problems.push(`malformed event ${JSON.stringify(e)}`);
    if (e.ph !== 'M' && e.ph !== 'C' && !named.has(`${e.pid}/${e.tid}`)) problems.push(`event on an unnamed track ${e.pid}/${e.tid}`);
    if (e.ph === 's' || e.ph === 't' || e.ph === 'f') flows.set(e.id!, [...(flows.get(e.id!) ?? []), e.ph]);
    if (e.ph === 'b') asyncOpen.set(e.id!, (asyncOpen.get(e.id!) ?? 0) + 1);
    if (e.ph === 'e') asyncOpen.set(e.id!, (asyncOpen.get(e.id!) ?? 0) - 1);
    if (e.ph === 'X') {
      if (!(e.dur! >= 0)) problems.push(`slice with no duration ${e.name}`);
      slices.set(e.tid, [...(slices.get(e.tid) ?? []), e]);
    }
  }
  for (const [id, phases] of flows) if (phases.filter((p) => p === 's').length !== 1 || phases.filter((p) => p === 'f').length !== 1) problems.push(`flow ${id} has phases ${phases.join('')}`);
  for (const [id, open] of asyncOpen) if (open !== 0) problems.push(`async slice ${id} not closed`);
  for (const [tid, list] of slices) {
    // slices on one track must nest: sort by start, longest first, and keep a stack of ends
    const sorted = [...list].sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);
    const ends: number[] = [];
    for (const e of sorted) {
      while (ends.length && ends[ends.length - 1]! <= e.ts) ends.pop();
      if (ends.length && e.ts + e.dur! > ends[ends.length - 1]!) problems.push(`track ${tid}: ${e.name} at ${e.ts} overlaps its parent without nesting`);
      ends.push(e.ts + e.dur!);
    }
  }
  return problems;
}

describe('trace', () => {
  it('is well formed: named tracks, whole flows from each IPI send through its handler to the ack, nested slices', async () => {
    for (const mode of ['deterministic', 'parallel']) {
      const r = await run({ variant: 'legacy', workload: 'munmap', pages: 1200, cpus: 3, tasksPerCpu: 2, preempt: 'none', mode, trace: true });
      const t = r.trace!;
      expect(traceProblems(t), mode).toEqual([]);
      const count = (pred: (e: TraceEvent) => boolean) => t.traceEvents.filter(pred).length;
      expect(count((e) => e.ph === 'M' && e.name === 'thread_name'), mode).toBe(3);
      expect(count((e) => e.ph === 's'), mode).toBeGreaterThan(0);
      expect(count((e) => e.ph === 't'), mode).toBe(count((e) => e.ph === 's'));
      expect(count((e) => e.ph === 'X' && e.name === 'smp_invalidate_interrupt'), mode).toBeGreaterThan(0);
      expect(count((e) => e.ph === 'X' && e.name === LockClass.PTE_LOCK), mode).toBeGreaterThan(0);
      expect(count((e) => e.ph === 'b' && e.cat === 'gather'), mode).toBeGreaterThan(0);
      expect(count((e) => e.ph === 'i' && e.cat === 'sched'), mode).toBeGreaterThan(0);
      expect(count((e) => e.ph === 'C' && e.name === 'free pages'), mode).toBeGreaterThan(0);
      expect(JSON.parse(JSON.stringify(t))).toEqual(t);
    }
  });

  it('marks violations, and a small --trace-limit bounds every cpu and stays well formed', async () => {
    const bad = await run({ variant: 'free-before-flush', workload: 'munmap', pages: 100, cpus: 2, trace: true });
    expect(bad.trace!.traceEvents.some((e) => e.ph === 'i' && e.cat === 'violation' && e.name === bad.violations[0]!.rule)).toBe(true);
    const small = await run({ variant: 'rework', workload: 'munmap', pages: 1000, cpus: 2, trace: true, traceLimit: 100 });
    const t = small.trace!;
    expect(t.otherData.eventsDropped).toBeGreaterThan(0);
    for (const tid of [0, 1]) expect(t.traceEvents.filter((e) => e.tid === tid && e.ph !== 'M' && e.ph !== 'e').length).toBeLessThanOrEqual(100);
    expect(traceProblems(t)).toEqual([]);
  });
});
