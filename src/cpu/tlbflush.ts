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

import { CPU_FIELD, MM_FIELD, TASK_FIELD, TlbState, TlbFlushReason, HDR, NS_WORDS, TLB_FLUSH_EVENTS_MAX, TLB_FLUSH_EVENT_WORDS, MAX_VMAS, VMA_FIELD, loadNs, storeNs } from '../machine/layout.ts';
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

/**
 * trace_tlb_flush(reason, pages): kept in order of emission in the
 * tlbFlushEvents region; past TLB_FLUSH_EVENTS_MAX only counted. Every design
 * emits where today's kernel has the trace point: the sender's IPI (4), the
 * local flush of the current mm (3), the handler on each target (1), the
 * CR3 reload of a switch (0), a target that no longer runs the mm (5).
 */
export function traceTlbFlush(ctx: Kctx, reason: number, pages: number): void {
  const i = Atomics.add(ctx.mem, HDR.TLB_FLUSH_EVENTS, 1);
  if (i >= TLB_FLUSH_EVENTS_MAX) return;
  const at = ctx.m.tlbFlushEventsBase + i * TLB_FLUSH_EVENT_WORDS;
  ctx.mem[at] = reason;
  ctx.mem[at + 1] = pages;
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
  tlbFlushAll(m, ctx.cpu); // load_cr3(swapper_pg_dir)
  traceTlbFlush(ctx, TlbFlushReason.TASK_SWITCH, -1);
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
    mem[m.cpu(ctx.cpu, CPU_FIELD.TLB_GEN)] = Atomics.load(mem, m.mm(next, MM_FIELD.TLB_GEN)); // read after the bit is set
    tlbFlushAll(m, ctx.cpu); // load_cr3
    traceTlbFlush(ctx, TlbFlushReason.TASK_SWITCH, -1);
    return;
  }
  const stateAt = m.cpu(ctx.cpu, CPU_FIELD.TLBSTATE);
  Atomics.store(mem, stateAt, TlbState.SWITCHING);
  const was = Atomics.or(mem, m.mm(next, MM_FIELD.CPUMASK), bit(ctx.cpu));
  // leave_mm ran meanwhile: reload CR3 so no freed page table is used
  if ((was & bit(ctx.cpu)) === 0) {
    tlbFlushAll(m, ctx.cpu);
    traceTlbFlush(ctx, TlbFlushReason.TASK_SWITCH, -1);
  } else {
    switchMmCatchUp(ctx, next);
  }
  Atomics.store(mem, stateAt, TlbState.OK);
}

/** Skipped while lazy (should_flush_tlb): catch up with the flushes it was not sent (the smp_mb, then tlb_gen). */
function switchMmCatchUp(ctx: Kctx, next: number): void {
  const { m, mem } = ctx;
  const g = ctx.traits.generic;
  if (ctx.traits.design !== 'generic' || !g.tlbGen || g.switchIgnoresTlbGen) return;
  const nextGen = Atomics.load(mem, m.mm(next, MM_FIELD.TLB_GEN));
  if (mem[m.cpu(ctx.cpu, CPU_FIELD.TLB_GEN)] === nextGen) return;
  mark('lazyTlbGenCatchUp');
  tlbFlushAll(m, ctx.cpu);
  mem[m.cpu(ctx.cpu, CPU_FIELD.TLB_GEN)] = nextGen;
  traceTlbFlush(ctx, TlbFlushReason.TASK_SWITCH, -1);
}

/** enter_lazy_tlb: a kernel thread (or idle) keeps the old mm loaded. */
export function enterLazyTlb(ctx: Kctx): void {
  const at = ctx.m.cpu(ctx.cpu, CPU_FIELD.TLBSTATE);
  if (ctx.mem[at] === TlbState.OK) ctx.mem[at] = TlbState.LAZY;
}

/** smp_invalidate_interrupt's work, 2.6.38: flush the one page or the whole mm, or leave a lazy mm. */
function smpInvalidate(ctx: Kctx, sender: number): void {
  const { m, mem } = ctx;
  const flushMm = Atomics.load(mem, m.cpu(sender, CPU_FIELD.FLUSH_MM)) - 1;
  const flushVa = Atomics.load(mem, m.cpu(sender, CPU_FIELD.FLUSH_VA)) - 1;
  if (flushMm < 0 || flushMm !== activeMm(ctx)) return;
  if (mem[m.cpu(ctx.cpu, CPU_FIELD.TLBSTATE)] !== TlbState.LAZY) {
    if (flushVa < 0) tlbFlushAll(m, ctx.cpu);
    else tlbFlushOne(m, ctx.cpu, flushMm, flushVa);
    charge(ctx, flushVa < 0 ? ctx.costs.tlbFlushAllNs : ctx.costs.tlbFlushOneNs);
    ctx.cpuStats.tlbFlushesLocal++;
    traceTlbFlush(ctx, TlbFlushReason.REMOTE_SHOOTDOWN, flushVa < 0 ? -1 : 1);
  } else if (!ctx.traits.skipLazyLeave) {
    leaveAsTold(ctx);
  }
}

function leaveAsTold(ctx: Kctx): void {
  leaveMm(ctx);
  charge(ctx, ctx.costs.tlbFlushAllNs);
  mark('lazyLeave');
  ctx.cpuStats.lazyLeaves++;
}

/** flush_tlb_info as the sender's slot holds it; `endVpn` -1 is TLB_FLUSH_ALL, `stride` is stride_shift - PAGE_SHIFT. */
interface FlushInfo {
  mm: number;
  startVpn: number;
  endVpn: number;
  stride: number;
  freedTables: boolean;
  newGen: number;
}

function readFlushInfo(ctx: Kctx, sender: number): FlushInfo {
  const { m, mem } = ctx;
  const end = Atomics.load(mem, m.cpu(sender, CPU_FIELD.FLUSH_END)) - 1;
  return {
    mm: Atomics.load(mem, m.cpu(sender, CPU_FIELD.FLUSH_MM)) - 1,
    startVpn: end < 0 ? 0 : Atomics.load(mem, m.cpu(sender, CPU_FIELD.FLUSH_VA)) - 1,
    endVpn: end,
    stride: mem[m.cpu(sender, CPU_FIELD.FLUSH_STRIDE)]!,
    freedTables: mem[m.cpu(sender, CPU_FIELD.FLUSH_FREED_TABLES)] !== 0,
    newGen: mem[m.cpu(sender, CPU_FIELD.FLUSH_NEW_GEN)]!,
  };
}

function writeFlushInfo(ctx: Kctx, f: FlushInfo): void {
  const { m, mem } = ctx;
  Atomics.store(mem, m.cpu(ctx.cpu, CPU_FIELD.FLUSH_MM), f.mm + 1);
  Atomics.store(mem, m.cpu(ctx.cpu, CPU_FIELD.FLUSH_VA), f.endVpn < 0 ? 0 : f.startVpn + 1);
  Atomics.store(mem, m.cpu(ctx.cpu, CPU_FIELD.FLUSH_END), f.endVpn < 0 ? 0 : f.endVpn + 1);
  Atomics.store(mem, m.cpu(ctx.cpu, CPU_FIELD.FLUSH_STRIDE), f.stride);
  Atomics.store(mem, m.cpu(ctx.cpu, CPU_FIELD.FLUSH_FREED_TABLES), f.freedTables ? 1 : 0);
  Atomics.store(mem, m.cpu(ctx.cpu, CPU_FIELD.FLUSH_NEW_GEN), f.newGen);
}

/** The pages a flush_tlb_info covers, as native_flush_tlb_multi traces them: (end - start) >> PAGE_SHIFT, -1 for all. */
function infoPages(f: FlushInfo): number {
  return f.endVpn < 0 ? -1 : f.endVpn - f.startVpn;
}

/**
 * flush_tlb_func on this cpu for `sender`'s flush_tlb_info (3.11 on). With
 * tlb_gen (4.13 on) a cpu already caught up does nothing, and a partial flush
 * is done only when it brings the TLB exactly to the mm's generation.
 */
function flushTlbFunc(ctx: Kctx, sender: number, local: boolean): void {
  const { m, mem } = ctx;
  const g = ctx.traits.generic;
  const f = readFlushInfo(ctx, sender);
  const reason = local ? TlbFlushReason.LOCAL_MM_SHOOTDOWN : TlbFlushReason.REMOTE_SHOOTDOWN;
  if (f.mm < 0 || f.mm !== activeMm(ctx)) {
    if (g.concurrentLocalFlush && f.mm >= 0) traceTlbFlush(ctx, TlbFlushReason.REMOTE_WRONG_CPU, 0);
    return;
  }
  if (mem[m.cpu(ctx.cpu, CPU_FIELD.TLBSTATE)] === TlbState.LAZY) {
    // switch_mm_irqs_off(NULL, &init_mm): a lazy cpu told to flush leaves the mm
    if (!ctx.traits.skipLazyLeave) leaveAsTold(ctx);
    return;
  }
  const genAt = m.cpu(ctx.cpu, CPU_FIELD.TLB_GEN);
  let partial = f.endVpn >= 0;
  let mmGen = 0;
  if (g.tlbGen) {
    const localGen = mem[genAt]!;
    if (g.concurrentLocalFlush && f.newGen <= localGen) return; // already up to date with this request
    mmGen = Atomics.load(mem, m.mm(f.mm, MM_FIELD.TLB_GEN));
    if (localGen === mmGen) {
      traceTlbFlush(ctx, reason, 0); // a concurrent flush caught this cpu up
      return;
    }
    partial = partial && f.newGen === localGen + 1 && f.newGen === mmGen;
  }
  let pages = -1;
  if (partial) {
    const step = 2 ** f.stride;
    for (let vpn = f.startVpn; vpn < f.endVpn; vpn += step) tlbFlushOne(m, ctx.cpu, f.mm, vpn);
    pages = Math.floor((f.endVpn - f.startVpn) / step);
    charge(ctx, ctx.costs.tlbFlushOneNs * pages);
  } else {
    tlbFlushAll(m, ctx.cpu);
    charge(ctx, ctx.costs.tlbFlushAllNs);
  }
  if (g.tlbGen) mem[genAt] = mmGen;
  if (local) ctx.stats.tlbFlushesLocal++;
  else ctx.cpuStats.tlbFlushesLocal++;
  traceTlbFlush(ctx, reason, pages);
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
    if (ctx.traits.design === 'generic') flushTlbFunc(ctx, sender, false);
    else smpInvalidate(ctx, sender);
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

/**
 * flush_tlb_others: fill this cpu's slot with `f`, raise the vector on `mask`,
 * run `alongside` (the local flush that 5.10 on does while the IPIs are out),
 * and wait until each target acks. The trace point fires before the targets
 * are chosen, as native_flush_tlb_multi's does.
 */
function* flushTlbOthers(ctx: Kctx, mask: number, f: FlushInfo, alongside?: () => void): Path {
  const m = ctx.m;
  const mem = ctx.mem;
  modelAssert(!irqsDisabled(ctx), 'flush_tlb_others with interrupts disabled', () => `cpu ${ctx.cpu} would deadlock against a flush aimed at it`);
  const maskAt = m.cpu(ctx.cpu, CPU_FIELD.FLUSH_CPUMASK);
  writeFlushInfo(ctx, f);
  traceTlbFlush(ctx, TlbFlushReason.REMOTE_SEND_IPI, infoPages(f));
  if (ctx.traits.design === 'generic' && ctx.traits.generic.lazySkip && (!f.freedTables || ctx.traits.generic.lazySkipFreedTables)) mask &= ~lazyCpus(ctx, mask); // should_flush_tlb
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
  alongside?.();
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
  Atomics.store(mem, m.cpu(ctx.cpu, CPU_FIELD.FLUSH_END), 0);
}

/** The cpus of `mask` in lazy TLB mode (cpu_tlbstate_shared.is_lazy). */
function lazyCpus(ctx: Kctx, mask: number): number {
  let lazy = 0;
  for (let cpu = 0; cpu < ctx.m.size.cpus; cpu++) if ((mask & bit(cpu)) !== 0 && ctx.mem[ctx.m.cpu(cpu, CPU_FIELD.TLBSTATE)] === TlbState.LAZY) lazy |= bit(cpu);
  return lazy;
}

/** flush_tlb_mm (vpn -1) and flush_tlb_page: local flush or leave_mm, then the other cpus in mm_cpumask (or `staleMask`, a mutant's). */
/**
 * The running task flushes: TLB entries filled from now on are not its call's
 * to answer for when it returns (returnToUser), they came after its flush.
 */
function noteFlush(ctx: Kctx): void {
  if (ctx.task >= 0) ctx.mem[ctx.m.task(ctx.task, TASK_FIELD.CALL_FILL_SEQ)] = Atomics.load(ctx.mem, HDR.TLB_FILL_SEQ);
}

function* flushTlb(ctx: Kctx, mm: number, vpn: number, staleMask?: number): Path {
  noteFlush(ctx);
  const startUs = ctx.trace ? ctx.now() : 0;
  const caller = fnEnter(ctx, vpn < 0 ? 'flush_tlb_mm' : 'flush_tlb_page');
  if (!ctx.traits.flushPreemptible) preemptDisable(ctx, vpn < 0 ? 'flush_tlb_mm' : 'flush_tlb_page');
  if (activeMm(ctx) === mm) {
    if (ctx.mm !== mm) {
      leaveMm(ctx); // current->mm is gone: exit_mmap runs lazily on this mm
      charge(ctx, ctx.costs.tlbFlushAllNs);
    } else if (vpn < 0) {
      localFlush(ctx);
      traceTlbFlush(ctx, TlbFlushReason.LOCAL_MM_SHOOTDOWN, -1);
    } else {
      tlbFlushOne(ctx.m, ctx.cpu, mm, vpn);
      charge(ctx, ctx.costs.tlbFlushOneNs);
      traceTlbFlush(ctx, TlbFlushReason.LOCAL_MM_SHOOTDOWN, 1);
    }
  }
  const mask = (staleMask ?? Atomics.load(ctx.mem, ctx.m.mm(mm, MM_FIELD.CPUMASK))) & ~bit(ctx.cpu);
  const info: FlushInfo = { mm, startVpn: vpn < 0 ? 0 : vpn, endVpn: vpn < 0 ? -1 : vpn + 1, stride: 0, freedTables: false, newGen: 0 };
  if (mask !== 0 && !ctx.traits.noIpi) yield flushTlbOthers(ctx, mask, info);
  yield Step.TLB;
  ctx.trace?.slice(vpn < 0 ? 'flush_tlb_mm' : 'flush_tlb_page', 'tlb', startUs, ctx.now(), { mm, targets: mask });
  if (!ctx.traits.flushPreemptible) yield preemptEnable(ctx, vpn < 0 ? 'flush_tlb_mm' : 'flush_tlb_page');
  ctx.fn = caller;
}

/** flush_tlb_mm(mm); from 3.11 on flush_tlb_mm_range(mm, 0, TLB_FLUSH_ALL, 0, true). */
export function flushTlbMm(ctx: Kctx, mm: number, staleMask?: number): Path {
  if (ctx.traits.design === 'generic') return flushTlbMmRange(ctx, mm, 0, -1, 0, true);
  return flushTlb(ctx, mm, -1, staleMask);
}

/** tlb_single_page_flush_ceiling (4.2 on), in pages or strides. */
export const TLB_SINGLE_PAGE_FLUSH_CEILING = 33;

/**
 * Whether a range flush of `pages` pages at `stride` goes to a full flush:
 * 3.11's tlb_flushall_shift balance point (the last-level 4K TLB's entries
 * shifted right, bounded by the mm's size), 4.2's ceiling of 33 pages, or
 * 4.19's 33 strides.
 */
function flushesAll(ctx: Kctx, mm: number, pages: number, stride: number): boolean {
  switch (ctx.traits.generic.flushCeiling) {
    case 'flushallShift': {
      const actEntries = Math.min(TLB_LLD_4K_ENTRIES >> TLB_FLUSHALL_SHIFT, mmTotalVm(ctx, mm));
      return pages > actEntries;
    }
    case 'pages':
      return pages > TLB_SINGLE_PAGE_FLUSH_CEILING;
    case 'strides':
      return Math.floor(pages / 2 ** stride) > TLB_SINGLE_PAGE_FLUSH_CEILING;
  }
}

/**
 * 3.11's balance point on the cpu it is modelled on: a SandyBridge, whose
 * tlb_flushall_shift intel_tlb_flushall_shift_set makes 5, with a 512-entry
 * last-level 4K data TLB: ranges of more than 16 pages flush everything.
 */
const TLB_LLD_4K_ENTRIES = 512;
const TLB_FLUSHALL_SHIFT = 5;

/** mm->total_vm: the pages of the mm's vmas, with those a munmap detached until remove_vma_list takes them off, after unmap_region's flush. */
function mmTotalVm(ctx: Kctx, mm: number): number {
  let pages = Atomics.load(ctx.mem, ctx.m.mm(mm, MM_FIELD.DETACHED_PAGES));
  for (let i = 0; i < MAX_VMAS; i++) {
    const at = ctx.m.mm(mm, MM_FIELD.VMAS) + i * VMA_FIELD.WORDS;
    if (ctx.mem[at + VMA_FIELD.FLAGS] !== 0) pages += ctx.mem[at + VMA_FIELD.END]! - ctx.mem[at + VMA_FIELD.START]!;
  }
  return pages;
}

/**
 * flush_tlb_mm_range(mm, start, end, stride_shift, freed_tables), x86 from
 * 3.11 on, in vpns (`endVpn` -1 is TLB_FLUSH_ALL) and `stride` in pages'
 * shift. Before 5.10 the local flush comes first, then the IPIs; from 5.10
 * the local flush runs while the IPIs are out (flush_tlb_multi).
 */
export function* flushTlbMmRange(ctx: Kctx, mm: number, startVpn: number, endVpn: number, stride: number, freedTables: boolean): Path {
  noteFlush(ctx);
  const { m, mem } = ctx;
  const g = ctx.traits.generic;
  const startUs = ctx.trace ? ctx.now() : 0;
  const caller = fnEnter(ctx, 'flush_tlb_mm_range');
  if (!ctx.traits.flushPreemptible) preemptDisable(ctx, 'flush_tlb_mm_range'); // get_cpu
  const newGen = g.tlbGen ? Atomics.add(mem, m.mm(mm, MM_FIELD.TLB_GEN), 1) + 1 : 0; // inc_mm_tlb_gen: also orders against switch_mm
  const all = endVpn < 0 || flushesAll(ctx, mm, endVpn - startVpn, stride);
  const info: FlushInfo = { mm, startVpn: all ? 0 : startVpn, endVpn: all ? -1 : endVpn, stride: all ? 0 : stride, freedTables, newGen };
  writeFlushInfo(ctx, info);
  const loadedHere = activeMm(ctx) === mm;
  const local = (): void => {
    if (loadedHere) flushTlbFunc(ctx, ctx.cpu, true);
  };
  const mask = Atomics.load(mem, m.mm(mm, MM_FIELD.CPUMASK)) & ~bit(ctx.cpu);
  if (!g.concurrentLocalFlush || mask === 0) local();
  if (mask !== 0 && !ctx.traits.noIpi) yield flushTlbOthers(ctx, mask, info, g.concurrentLocalFlush ? local : undefined);
  else if (mask !== 0 && g.concurrentLocalFlush) local();
  yield Step.TLB;
  ctx.trace?.slice('flush_tlb_mm_range', 'tlb', startUs, ctx.now(), { mm, targets: mask, pages: infoPages(info) });
  if (!ctx.traits.flushPreemptible) yield preemptEnable(ctx, 'flush_tlb_mm_range');
  ctx.fn = caller;
}

export function mmCpumask(ctx: Kctx, mm: number): number {
  return Atomics.load(ctx.mem, ctx.m.mm(mm, MM_FIELD.CPUMASK));
}

/** flush_tlb_page(vma, va): invlpg here, and the address to every other cpu in mm_cpumask. */
export function flushTlbPage(ctx: Kctx, mm: number, vpn: number): Path {
  if (ctx.traits.design === 'generic') return flushTlbMmRange(ctx, mm, vpn, vpn + 1, 0, false);
  return flushTlb(ctx, mm, vpn);
}

export function cpusOnline(ctx: Kctx): number {
  return ctx.mem[HDR.ONLINE_CPUS]!;
}
