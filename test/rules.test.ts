// Each oracle rule fires on a planted fault and stays quiet on the same
// operation done right. These drive the model's own functions directly on a
// booted machine, for the rules no mutant in the catalogue reaches yet.
import { describe, expect, it } from 'vitest';
import { MM_FIELD, PAGE_FIELD, PageState, VMA_FLAGS } from '../src/machine/layout.ts';
import { Oracle } from '../src/oracle/rules.ts';
import { makeConfig } from '../src/engine/configure.ts';
import { bootCtx, bootMachine, runToEnd } from '../src/engine/boot.ts';
import { allocPage, freePage } from '../src/page/alloc.ts';
import { spinLock, spinUnlock, LockClass } from '../src/sync/spinlock.ts';
import { preemptDisable, preemptEnableNoResched, checkMightSleep } from '../src/sync/preempt.ts';
import { downRead, upRead, upWrite } from '../src/sync/rwsem.ts';
import { switchMm } from '../src/cpu/tlbflush.ts';
import { userAccess } from '../src/mm/fault.ts';
import { insertVma } from '../src/mm/vma.ts';
import { checkQuiescent } from '../src/mm/syscall.ts';

function machine(cpus = 2) {
  const config = makeConfig({ variant: 'rework', workload: 'munmap', pages: 64, cpus });
  const { m } = bootMachine(config);
  const oracle = new Oracle('rework', 1, 100, () => 0, () => {});
  const ctx = bootCtx(m, config, oracle);
  return { m, ctx, oracle, rules: () => oracle.violations.map((v) => v.rule) };
}

describe('oracle rules fire on a planted fault', () => {
  it('DOUBLE_FREE', () => {
    const { ctx, rules } = machine();
    const f = runToEnd(allocPage(ctx, 'GFP_KERNEL', PageState.ANON));
    runToEnd(freePage(ctx, f));
    expect(rules()).toEqual([]);
    runToEnd(freePage(ctx, f));
    expect(rules()).toEqual(['DOUBLE_FREE']);
  });

  it('LOCK_NOT_OWNER for a spinlock and an rwsem', () => {
    const { m, ctx, rules } = machine();
    const lock = m.page(2, PAGE_FIELD.PTL);
    runToEnd(spinLock(ctx, lock, LockClass.PTE_LOCK, 'test'));
    runToEnd(spinUnlock(ctx, lock, LockClass.PTE_LOCK));
    expect(rules()).toEqual([]);
    preemptDisable(ctx, 'test'); // keep preempt_count balanced for the unlock below
    runToEnd(spinUnlock(ctx, lock, LockClass.PTE_LOCK)); // nobody holds it
    expect(rules()).toEqual(['LOCK_NOT_OWNER']);
    const sem = m.mm(0, MM_FIELD.MMAP_SEM);
    runToEnd(downRead(ctx, sem, 'test'));
    runToEnd(upRead(ctx, sem));
    runToEnd(upWrite(ctx, sem)); // never taken for write
    expect(rules()).toEqual(['LOCK_NOT_OWNER', 'LOCK_NOT_OWNER']);
  });

  it('SLEEP_IN_ATOMIC: a sleeping call with preemption disabled, and down_read under a spinlock', () => {
    const { m, ctx, rules } = machine();
    checkMightSleep(ctx, 'test');
    expect(rules()).toEqual([]);
    preemptDisable(ctx, 'test');
    checkMightSleep(ctx, 'test');
    preemptEnableNoResched(ctx, 'test');
    expect(rules()).toEqual(['SLEEP_IN_ATOMIC']);
    const lock = m.page(2, PAGE_FIELD.PTL);
    runToEnd(spinLock(ctx, lock, LockClass.PTE_LOCK, 'test'));
    runToEnd(downRead(ctx, m.mm(0, MM_FIELD.MMAP_SEM), 'test'));
    expect(rules()).toEqual(['SLEEP_IN_ATOMIC', 'SLEEP_IN_ATOMIC']);
  });

  it('PAGE_LEAK: a frame that is neither free nor reachable', () => {
    const { m, ctx, oracle, rules } = machine();
    checkQuiescent(m.mem, m, oracle, 0);
    expect(rules()).toEqual([]);
    runToEnd(allocPage(ctx, 'GFP_KERNEL', PageState.ANON)); // allocated, never mapped, never freed
    checkQuiescent(m.mem, m, oracle, 0);
    expect(rules()).toEqual(['PAGE_LEAK']);
  });

  it('RSS_MISMATCH and STALE_TLB_ACCESS', () => {
    const { m, ctx, oracle, rules } = machine();
    ctx.task = 0;
    ctx.mm = 0;
    switchMm(ctx, 0);
    insertVma(ctx, 0, 1 << 18, (1 << 18) + 4, VMA_FLAGS.READ | VMA_FLAGS.WRITE | VMA_FLAGS.ANON);
    for (let i = 0; i < 4; i++) expect(runToEnd(userAccess(ctx, (1 << 18) + i, true))).toBe('ok');
    expect(runToEnd(userAccess(ctx, 1 << 18, false))).toBe('ok'); // a TLB hit on a live page
    checkQuiescent(m.mem, m, oracle, 0);
    expect(rules()).toEqual([]);
    Atomics.sub(m.mem, m.mm(0, MM_FIELD.RSS_ANON), 1);
    checkQuiescent(m.mem, m, oracle, 0);
    expect(rules()).toEqual(['RSS_MISMATCH']);
    // reuse the frame behind a cached translation without any flush: the next hit is stale
    const hitFrame = findMappedFrame(m.mem, m);
    Atomics.add(m.mem, m.page(hitFrame, PAGE_FIELD.GEN), 1);
    runToEnd(userAccess(ctx, 1 << 18, false));
    expect(rules()).toEqual(['RSS_MISMATCH', 'STALE_TLB_ACCESS']);
  });
});

/** The frame of the first anonymous page in the machine (the one mapped at the vma's start). */
function findMappedFrame(mem: Int32Array, m: ReturnType<typeof machine>['m']): number {
  for (let f = 0; f < m.size.pages; f++) {
    if (mem[m.page(f, PAGE_FIELD.STATE)] === PageState.ANON && mem[m.page(f, PAGE_FIELD.INDEX)] === 1 << 18) return f;
  }
  throw new Error('no mapped frame');
}
