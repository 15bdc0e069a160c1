// TLB shootdown the x86 way of 2.6.38 (arch/x86/mm/tlb.c): flush_tlb_mm
// flushes locally, raises the invalidate vector on exactly the other cpus in
// mm_cpumask through this cpu's sender slot, then spins until every target
// has cleared its bit in flush_cpumask, servicing its own interrupts while it
// spins. A lazy target leaves the mm instead of flushing, so it gets at most
// one IPI per mm. mm_cpumask is kept by switch_mm, enter_lazy_tlb and
// leave_mm exactly as the comments in that file describe.
// In model time: the sender stamps its slot with the send time before it
// raises the vectors; a target takes the interrupt no earlier than that plus
// the delivery cost (a running target goes on with its task until its clock
// gets there, as the interrupt is still on its way; one that only waits or
// idles takes it at once, its clock moving up to that time; one whose clock
// is already past it acks as of the arrival, not of its own clock), and stamps its ack time in the sender's slot before it
// clears its bit; the sender's wait ends at the last target's ack time plus
// the cache-line transfer that brings the mask back.

import { CPU_FIELD, MM_FIELD, TlbState, HDR, NS_WORDS, loadNs, storeNs } from '../machine/layout.ts';
import { Step, type Path } from '../machine/step.ts';
import { modelAssert } from '../machine/errors.ts';
import { mark } from '../machine/marks.ts';
import { charge, clockAtLeast, fnEnter, type Kctx } from '../sync/context.ts';
import { preemptDisable, preemptEnable, irqsDisabled } from '../sync/preempt.ts';
import { SpinWatch } from '../sync/spin.ts';
import { kickCpu } from '../sync/pv.ts';
import { tlbFlushAll, tlbFlushOne } from './tlb.ts';
import { ipiFlowId } from '../stats/trace.ts';

function bit(cpu: number): number {
  return 1 << cpu;
}

function popcount(mask: number): number {
  let n = 0;
  for (let x = mask >>> 0; x !== 0; x &= x - 1) n++;
  return n;
}

export function activeMm(ctx: Kctx, cpu = ctx.cpu): number {
  return Atomics.load(ctx.mem, ctx.m.cpu(cpu, CPU_FIELD.ACTIVE_MM)) - 1;
}

function localFlush(ctx: Kctx): void {
  tlbFlushAll(ctx.m, ctx.cpu);
  charge(ctx, ctx.costs.tlbFlushAllNs);
  ctx.stats.tlbFlushesLocal++;
}

/** Where target `cpu` stamps its ack time in `sender`'s slot. */
function ackNsAt(ctx: Kctx, sender: number, cpu: number): number {
  return ctx.m.cpu(sender, CPU_FIELD.FLUSH_ACK_NS) + cpu * NS_WORDS;
}

/** leave_mm(cpu): drop out of the lazy mm's cpumask and load swapper_pg_dir. */
export function leaveMm(ctx: Kctx): void {
  const m = ctx.m;
  modelAssert(ctx.mem[m.cpu(ctx.cpu, CPU_FIELD.TLBSTATE)] === TlbState.LAZY, 'leave_mm in TLBSTATE_OK', () => `cpu ${ctx.cpu}`);
  const mm = activeMm(ctx);
  if (mm >= 0) Atomics.and(ctx.mem, m.mm(mm, MM_FIELD.CPUMASK), ~bit(ctx.cpu));
  tlbFlushAll(m, ctx.cpu);
}

/** switch_mm(prev, next): the older order (clear old bit, state OK, active_mm, set new bit, load CR3). */
export function switchMm(ctx: Kctx, next: number): void {
  const m = ctx.m;
  const mem = ctx.mem;
  const prev = activeMm(ctx);
  if (prev !== next) {
    if (prev >= 0) Atomics.and(mem, m.mm(prev, MM_FIELD.CPUMASK), ~bit(ctx.cpu));
    mem[m.cpu(ctx.cpu, CPU_FIELD.TLBSTATE)] = TlbState.OK;
    Atomics.store(mem, m.cpu(ctx.cpu, CPU_FIELD.ACTIVE_MM), next + 1);
    Atomics.or(mem, m.mm(next, MM_FIELD.CPUMASK), bit(ctx.cpu));
    tlbFlushAll(m, ctx.cpu); // load_cr3
    return;
  }
  mem[m.cpu(ctx.cpu, CPU_FIELD.TLBSTATE)] = TlbState.OK;
  const was = Atomics.or(mem, m.mm(next, MM_FIELD.CPUMASK), bit(ctx.cpu));
  // leave_mm ran meanwhile: reload CR3 so no freed page table is used
  if ((was & bit(ctx.cpu)) === 0) tlbFlushAll(m, ctx.cpu);
}

/** enter_lazy_tlb: a kernel thread (or idle) keeps the old mm loaded. */
export function enterLazyTlb(ctx: Kctx): void {
  const at = ctx.m.cpu(ctx.cpu, CPU_FIELD.TLBSTATE);
  if (ctx.mem[at] === TlbState.OK) ctx.mem[at] = TlbState.LAZY;
}

/**
 * smp_invalidate_interrupt for every raised vector that has arrived by
 * `arrivedByNs` (model time; Infinity for a cpu that only waits or idles,
 * which takes every raised vector at once). Runs in interrupt context on
 * this cpu, between two steps of whatever it was running. A vector still on
 * its way stays raised. Returns the number of IPIs handled.
 */
export function serviceIpis(ctx: Kctx, arrivedByNs = Infinity): number {
  const m = ctx.m;
  const mem = ctx.mem;
  const pendingAt = m.cpu(ctx.cpu, CPU_FIELD.IPI_PENDING);
  if (Atomics.load(mem, pendingAt) === 0) return 0;
  let pending = Atomics.load(mem, pendingAt);
  if (ctx.modelClocks && arrivedByNs !== Infinity) {
    for (let sender = 0; sender < m.size.cpus; sender++) {
      if ((pending & bit(sender)) !== 0 && loadNs(mem, m.cpu(sender, CPU_FIELD.FLUSH_SENT_NS)) + ctx.costs.ipiDeliveryNs > arrivedByNs) pending &= ~bit(sender);
    }
    if (pending === 0) return 0;
  }
  pending = Atomics.and(mem, pendingAt, ~pending) & pending; // take the arrived vectors, leave the others raised
  ctx.trace?.counter(`CPU ${ctx.cpu} pending IPIs`, ctx.now(), 0);
  let handled = 0;
  for (let sender = 0; sender < m.size.cpus; sender++) {
    if ((pending & bit(sender)) === 0) continue;
    handled++;
    const maskAt = m.cpu(sender, CPU_FIELD.FLUSH_CPUMASK);
    if ((Atomics.load(mem, maskAt) & bit(ctx.cpu)) === 0) continue;
    const arrivalNs = loadNs(mem, m.cpu(sender, CPU_FIELD.FLUSH_SENT_NS)) + ctx.costs.ipiDeliveryNs;
    // a cpu whose clock already ran past the arrival (the clocks' lax synchronisation) is not rewound, but its ack
    // carries the time the handler ends when taken at the arrival, as the hardware would take it
    const lateNs = ctx.modelClocks ? Math.max(0, ctx.clockNs - arrivalNs) : 0;
    clockAtLeast(ctx, arrivalNs);
    charge(ctx, ctx.costs.ipiHandlerNs);
    const startUs = ctx.trace ? ctx.now() : 0;
    const flushMm = Atomics.load(mem, m.cpu(sender, CPU_FIELD.FLUSH_MM)) - 1;
    const flushVa = Atomics.load(mem, m.cpu(sender, CPU_FIELD.FLUSH_VA)) - 1;
    if (flushMm >= 0 && flushMm === activeMm(ctx)) {
      if (mem[m.cpu(ctx.cpu, CPU_FIELD.TLBSTATE)] === TlbState.OK) {
        if (flushVa < 0) tlbFlushAll(m, ctx.cpu);
        else tlbFlushOne(m, ctx.cpu, flushMm, flushVa);
        charge(ctx, flushVa < 0 ? ctx.costs.tlbFlushAllNs : ctx.costs.tlbFlushOneNs);
        ctx.cpuStats.tlbFlushesLocal++;
      } else if (!ctx.traits.skipLazyLeave) {
        leaveMm(ctx);
        charge(ctx, ctx.costs.tlbFlushAllNs);
        mark('lazyLeave');
        ctx.cpuStats.lazyLeaves++;
      }
    }
    if (ctx.trace) {
      const endUs = ctx.now();
      ctx.trace.slice('smp_invalidate_interrupt', 'ipi', startUs, endUs, { sender });
      ctx.trace.flow('t', ipiFlowId(sender, Atomics.load(mem, m.cpu(sender, CPU_FIELD.FLUSH_SEQ)), ctx.cpu), startUs);
    }
    storeNs(mem, ackNsAt(ctx, sender, ctx.cpu), ctx.clockNs - lateNs); // read by the sender once it sees the ack
    Atomics.and(mem, maskAt, ~bit(ctx.cpu)); // ack
    kickCpu(m, sender); // a sender whose host thread blocked waiting for the acks
  }
  ctx.cpuStats.ipisHandled += handled;
  return handled;
}

/** flush_tlb_others_ipi: raise the vector on `mask` and wait until each target acks. `vpn` -1 is TLB_FLUSH_ALL. */
function* flushTlbOthers(ctx: Kctx, mask: number, mm: number, vpn: number): Path {
  const m = ctx.m;
  const mem = ctx.mem;
  modelAssert(!irqsDisabled(ctx), 'flush_tlb_others with interrupts disabled', () => `cpu ${ctx.cpu} would deadlock against a flush aimed at it`);
  const maskAt = m.cpu(ctx.cpu, CPU_FIELD.FLUSH_CPUMASK);
  Atomics.store(mem, m.cpu(ctx.cpu, CPU_FIELD.FLUSH_MM), mm + 1);
  Atomics.store(mem, m.cpu(ctx.cpu, CPU_FIELD.FLUSH_VA), vpn + 1);
  Atomics.store(mem, maskAt, mask);
  const seq = Atomics.add(mem, m.cpu(ctx.cpu, CPU_FIELD.FLUSH_SEQ), 1) + 1;
  storeNs(mem, m.cpu(ctx.cpu, CPU_FIELD.FLUSH_SENT_NS), ctx.clockNs); // read by each target once it sees its vector
  const trace = ctx.trace && ctx.trace.hasRoom(2 * m.size.cpus) ? ctx.trace : null;
  for (let target = 0; target < m.size.cpus; target++) {
    if ((mask & bit(target)) === 0) continue;
    trace?.flow('s', ipiFlowId(ctx.cpu, seq, target), ctx.now());
    const pendingAt = m.cpu(target, CPU_FIELD.IPI_PENDING);
    const pendingNow = Atomics.or(mem, pendingAt, bit(ctx.cpu)) | bit(ctx.cpu);
    trace?.counter(`CPU ${target} pending IPIs`, ctx.now(), popcount(pendingNow));
    kickCpu(m, target);
    ctx.stats.ipisSent++;
  }
  yield Step.IPI;
  if (ctx.traits.noAckWait) return; // the planted bug: nothing waits for the targets
  const sentUs = ctx.now();
  const sentHostUs = ctx.watchIsHost ? ctx.watchNow() : 0;
  if (Atomics.load(mem, maskAt) !== 0) {
    const watch = new SpinWatch(ctx, 'flush_tlb_others ack wait');
    do {
      watch.tick();
      yield Step.SPIN;
    } while (Atomics.load(mem, maskAt) !== 0);
  }
  let lastAckNs = 0;
  for (let target = 0; target < m.size.cpus; target++) if ((mask & bit(target)) !== 0) lastAckNs = Math.max(lastAckNs, loadNs(mem, ackNsAt(ctx, ctx.cpu, target)));
  clockAtLeast(ctx, lastAckNs + ctx.costs.cacheLineTransferNs);
  const ackedUs = ctx.now();
  ctx.lat.recordUs('ipiAckWait', ackedUs - sentUs);
  if (ctx.watchIsHost) ctx.lat.hostIpiAckWait.recordUs(ctx.watchNow() - sentHostUs);
  if (trace) for (let target = 0; target < m.size.cpus; target++) if ((mask & bit(target)) !== 0) trace.flow('f', ipiFlowId(ctx.cpu, seq, target), ackedUs);
  Atomics.store(mem, m.cpu(ctx.cpu, CPU_FIELD.FLUSH_MM), 0);
  Atomics.store(mem, m.cpu(ctx.cpu, CPU_FIELD.FLUSH_VA), 0);
}

/** flush_tlb_mm (vpn -1) and flush_tlb_page: local flush or leave_mm, then the other cpus in mm_cpumask (or `staleMask`, a mutant's). */
function* flushTlb(ctx: Kctx, mm: number, vpn: number, staleMask?: number): Path {
  const startUs = ctx.trace ? ctx.now() : 0;
  const caller = fnEnter(ctx, vpn < 0 ? 'flush_tlb_mm' : 'flush_tlb_page');
  if (!ctx.traits.flushPreemptible) preemptDisable(ctx, vpn < 0 ? 'flush_tlb_mm' : 'flush_tlb_page');
  if (activeMm(ctx) === mm) {
    if (ctx.mm !== mm) {
      leaveMm(ctx); // current->mm is gone: exit_mmap runs lazily on this mm
      charge(ctx, ctx.costs.tlbFlushAllNs);
    } else if (vpn < 0) {
      localFlush(ctx);
    } else {
      tlbFlushOne(ctx.m, ctx.cpu, mm, vpn);
      charge(ctx, ctx.costs.tlbFlushOneNs);
    }
  }
  const mask = (staleMask ?? Atomics.load(ctx.mem, ctx.m.mm(mm, MM_FIELD.CPUMASK))) & ~bit(ctx.cpu);
  if (mask !== 0 && !ctx.traits.noIpi) yield flushTlbOthers(ctx, mask, mm, vpn);
  yield Step.TLB;
  ctx.trace?.slice(vpn < 0 ? 'flush_tlb_mm' : 'flush_tlb_page', 'tlb', startUs, ctx.now(), { mm, targets: mask });
  if (!ctx.traits.flushPreemptible) yield preemptEnable(ctx, vpn < 0 ? 'flush_tlb_mm' : 'flush_tlb_page');
  ctx.fn = caller;
}

/** flush_tlb_mm(mm). */
export function flushTlbMm(ctx: Kctx, mm: number, staleMask?: number): Path {
  return flushTlb(ctx, mm, -1, staleMask);
}

export function mmCpumask(ctx: Kctx, mm: number): number {
  return Atomics.load(ctx.mem, ctx.m.mm(mm, MM_FIELD.CPUMASK));
}

/** flush_tlb_page(vma, va): invlpg here, and the address to every other cpu in mm_cpumask. */
export function flushTlbPage(ctx: Kctx, mm: number, vpn: number): Path {
  return flushTlb(ctx, mm, vpn);
}

export function cpusOnline(ctx: Kctx): number {
  return ctx.mem[HDR.ONLINE_CPUS]!;
}
