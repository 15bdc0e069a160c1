// The catalogue of gather designs. A real variant is a kernel's design; a
// mutant is a real design with one trait flipped, declared with the one-line
// bug it plants. Every mutant must be caught by an oracle; every real variant
// must run clean.

import type { VariantTraits } from '../machine/config.ts';
import type { Path } from '../machine/step.ts';
import type { Kctx } from '../sync/context.ts';
import type { MmuGather } from './gather.ts';
import { legacyGatherMmu } from './legacy.ts';
import { reworkGatherMmu } from './rework.ts';
import { genericGatherMmu } from './generic.ts';
import type { GenericTraits } from '../machine/config.ts';

/** 3.11's mechanisms; each later kernel turns on what it brought. */
const genericV311: GenericTraits = {
  gatherRange: 'vma',
  forcedFlushSkipsLast: true,
  flushCeiling: 'flushallShift',
  dirtyFlushUnderPtl: false,
  delayedRmap: false,
  nestedFlush: false,
  tlbGen: false,
  lazySkip: false,
  concurrentLocalFlush: false,
  batchReserveSlot: false,
  rmapBeforeFlush: false,
  lazySkipFreedTables: false,
  switchIgnoresTlbGen: false,
};
const genericV415: GenericTraits = { ...genericV311, gatherRange: 'tracked', forcedFlushSkipsLast: false, flushCeiling: 'pages', dirtyFlushUnderPtl: true, nestedFlush: true, tlbGen: true };
const genericV618: GenericTraits = { ...genericV415, flushCeiling: 'strides', delayedRmap: true, lazySkip: true, concurrentLocalFlush: true, batchReserveSlot: true };

const base = {
  generic: genericV311,
  mutant: false,
  huntWith: {},
  boundedWith: {},
  rssInitBeforeAgain: false,
  freeBeforeFlush: false,
  noAckWait: false,
  noIpi: false,
  skipLazyLeave: false,
  gatherPreemptible: false,
  lostForceFlush: false,
  unlockBeforeClear: false,
  staleCpumask: false,
  fullmmNoFlush: false,
  mkcleanNoFlush: false,
  mprotectNoFlush: false,
  wpFaultNoDirty: false,
  flushPreemptible: false,
};

const legacy: VariantTraits = {
  ...base,
  name: 'legacy',
  design: 'legacy',
  about: '2.6.38: per-cpu gather of 506 pages, preemption off from gather to finish, a full batch flushed under the pte lock',
};
const rework: VariantTraits = {
  ...base,
  name: 'rework',
  design: 'rework',
  about: 'mm: mmu_gather rework, rss accounting corrected: on-stack gather, 8 local slots or a 512-slot GFP_NOWAIT page, flush outside the pte lock',
};

const v311: VariantTraits = {
  ...base,
  name: 'v3.11',
  design: 'generic',
  generic: genericV311,
  about: '3.11: fast mode removed (29eb77825cc7), chained batches of 510, the range tlb_gather_mmu was given, x86 flush_tlb_mm_range with the tlb_flushall_shift balance point',
};
const v415: VariantTraits = {
  ...base,
  name: 'v4.15',
  design: 'generic',
  generic: genericV415,
  about: '4.15: ranges tracked per entry, dirty shared ptes flushed under the pte lock (1cf35d47712d), nested-flush fix (99baac21e458), tlb_gen, the 33-page ceiling',
};
const v618: VariantTraits = {
  ...base,
  name: 'v6.18',
  design: 'generic',
  generic: genericV618,
  about: "6.18: today's gather (a slot kept per batch, a table batch), delayed rmap (5df397dec7c4), stride-aware ceiling, local and remote flushes at once, lazy cpus skipped unless tables were freed",
};

function mutant(from: VariantTraits, name: string, about: string, flip: Partial<VariantTraits>, huntWith: VariantTraits['huntWith'] = {}, boundedWith: VariantTraits['boundedWith'] = {}): VariantTraits {
  return { ...from, ...flip, name, about, mutant: true, huntWith, boundedWith };
}

function genericMutant(from: VariantTraits, name: string, about: string, flip: Partial<GenericTraits>, huntWith: VariantTraits['huntWith'], boundedWith: VariantTraits['boundedWith'] = {}): VariantTraits {
  return mutant(from, name, about, { generic: { ...from.generic, ...flip } }, huntWith, boundedWith);
}

// The second scenario of a mutant is what bounded exploration (npm run mutants)
// changes in the first to enumerate it. flush-preemptible's takes its lockup
// at 10 ms: the schedule that catches it ends in a deadlock (the preempting
// task spins on the per-cpu sender slot its owner still holds), which the
// default 2 s lockup would only report past the explorer's step budget.
// rmap-before-flush's is a scenario file: the madvise workload's own tasks
// cannot be the zapper, the cleaner and the writer at once (that file says
// why), and bounded finds nothing in the workload's small sizes (1 page on
// 2 cpus up to k = 2, on 3 cpus up to k = 1).
export const VARIANTS: readonly VariantTraits[] = [
  legacy,
  rework,
  v311,
  v415,
  v618,
  mutant(rework, 'rework-seed', 'the seed as committed: init_rss_vec() before again:, so a forced restart applies rss deltas twice', { rssInitBeforeAgain: true }, { pages: 1000, preempt: 'none' }),
  mutant(rework, 'free-before-flush', 'tlb_flush_mmu frees the batch before flushing the TLBs', { freeBeforeFlush: true }, { pages: 200 }),
  mutant(rework, 'no-ack-wait', 'flush_tlb_others sends the IPIs and does not wait for the acknowledgements', { noAckWait: true }, { pages: 200 }),
  mutant(rework, 'no-ipi', 'flush_tlb_others tells no remote cpu: only the local TLB is flushed', { noIpi: true }, { pages: 200 }),
  mutant(rework, 'skip-lazy-leave', 'a lazy cpu acks the flush IPI without leave_mm: it keeps its TLB and stays in mm_cpumask', { skipLazyLeave: true }, { workload: 'exit', pages: 200 }),
  mutant(legacy, 'legacy-preemptible', 'the 2.6.38 per-cpu gather without disabling preemption: another task on the cpu can take it over', { gatherPreemptible: true }, { workload: 'munmap', cpus: 1, tasksPerCpu: 2, mms: 2, pages: 64 }, { pages: 16, rounds: 1 }),
  mutant(rework, 'lost-force-flush', 'zap_pte_range ignores a full batch: the pages that do not fit are dropped, never freed', { lostForceFlush: true }, { pages: 1000 }),
  mutant(rework, 'unlock-before-clear', 'zap_pte_range drops the pte lock between reading a pte and clearing it', { unlockBeforeClear: true }, { workload: 'madvise', overlap: true, pages: 64 }),
  mutant(rework, 'stale-cpumask', 'the flush targets mm_cpumask as it was at tlb_gather_mmu, missing cpus that loaded the mm since', { staleCpumask: true }, { workload: 'munmap', cpus: 2, tasksPerCpu: 2, mms: 2, pages: 4096 }, { pages: 16, rounds: 1 }),
  mutant(rework, 'mkclean-no-flush', 'page_mkclean_one write-protects and cleans the pte without flushing it from the TLBs', { mkcleanNoFlush: true }, { workload: 'writeback' }),
  mutant(rework, 'mprotect-no-flush', 'change_protection makes the ptes read-only without flush_tlb_range', { mprotectNoFlush: true }, { workload: 'writeback' }),
  mutant(rework, 'wp-fault-no-dirty', 'do_wp_page makes a shared pte writable again without set_page_dirty', { wpFaultNoDirty: true }, { workload: 'writeback' }),
  mutant(rework, 'flush-preemptible', 'flush_tlb_mm leaves preemption on while it waits for the acks, so another task of the cpu can take over its per-cpu IPI sender slot', { flushPreemptible: true }, { workload: 'munmap', cpus: 3, tasksPerCpu: 2, mms: 2, pages: 64 }, { cpus: 2, pages: 8, setupOnce: false }), // one preemption reaches it only while the other unmapper's setup runs beside it: with the setups at boot none of 23,510 schedules within two does
  mutant(rework, 'fullmm-no-flush', 'a fullmm gather (exit_mmap) frees without flushing, as if no other cpu could still hold the mm', { fullmmNoFlush: true }, { workload: 'exit', pages: 200 }),
  genericMutant(v618, 'rmap-before-flush', 'tlb_flush_rmaps runs before the TLB flush, so writeback can clean a page a stale entry still writes', { rmapBeforeFlush: true }, { workload: 'madvise', writeback: true, pages: 8, cpus: 3 }, { scenario: 'examples/bounded/rmap-window.yaml' }),
  genericMutant(v618, 'lazy-skip-freed-tables', 'should_flush_tlb skips lazy cpus even when page tables were freed', { lazySkipFreedTables: true }, { workload: 'exit', pages: 200 }),
  genericMutant(v618, 'switch-ignores-tlb-gen', 'switch_mm back to a lazily kept mm does not compare tlb_gen, so flushes it was not sent are lost', { switchIgnoresTlbGen: true }, { workload: 'mix', cpus: 2, tasksPerCpu: 2 }, { pages: 4, rounds: 1 }),
  genericMutant(v618, 'no-nested-flush', 'tlb_finish_mmu does not look at mm_tlb_flush_nested: a zap that found nothing returns before the other one flushed', { nestedFlush: false }, { workload: 'madvise', overlap: true, pages: 64 }, { pages: 4, cpus: 2 }),
];

export function findVariant(name: string): VariantTraits | undefined {
  return VARIANTS.find((v) => v.name === name);
}

/** tlb_gather_mmu for the run's design; [start, end) in vpns is the range 3.11 on are told. */
export function* tlbGatherMmu(ctx: Kctx, mm: number, fullmm: boolean, start = 0, end = 0): Path<MmuGather> {
  const design = ctx.traits.design;
  const tlb =
    design === 'legacy' ? legacyGatherMmu(ctx, mm, fullmm) : design === 'rework' ? yield* reworkGatherMmu(ctx, mm, fullmm) : genericGatherMmu(ctx, mm, fullmm, start, end);
  ctx.gatherDepth++;
  tlb.traceId = ctx.trace?.gatherBegin(ctx.now(), ctx.task, ctx.traits.design) ?? null;
  return tlb;
}
