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

const base = {
  mutant: false,
  huntWith: {},
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

function mutant(from: VariantTraits, name: string, about: string, flip: Partial<VariantTraits>, huntWith: VariantTraits['huntWith'] = {}): VariantTraits {
  return { ...from, ...flip, name, about, mutant: true, huntWith };
}

export const VARIANTS: readonly VariantTraits[] = [
  legacy,
  rework,
  mutant(rework, 'rework-seed', 'the seed as committed: init_rss_vec() before again:, so a forced restart applies rss deltas twice', { rssInitBeforeAgain: true }, { pages: 1000, preempt: 'none' }),
  mutant(rework, 'free-before-flush', 'tlb_flush_mmu frees the batch before flushing the TLBs', { freeBeforeFlush: true }, { pages: 200 }),
  mutant(rework, 'no-ack-wait', 'flush_tlb_others sends the IPIs and does not wait for the acknowledgements', { noAckWait: true }, { pages: 200 }),
  mutant(rework, 'no-ipi', 'flush_tlb_others tells no remote cpu: only the local TLB is flushed', { noIpi: true }, { pages: 200 }),
  mutant(rework, 'skip-lazy-leave', 'a lazy cpu acks the flush IPI without leave_mm: it keeps its TLB and stays in mm_cpumask', { skipLazyLeave: true }, { workload: 'exit', pages: 200 }),
  mutant(legacy, 'legacy-preemptible', 'the 2.6.38 per-cpu gather without disabling preemption: another task on the cpu can take it over', { gatherPreemptible: true }, { workload: 'munmap', cpus: 1, tasksPerCpu: 2, mms: 2, pages: 64 }),
  mutant(rework, 'lost-force-flush', 'zap_pte_range ignores a full batch: the pages that do not fit are dropped, never freed', { lostForceFlush: true }, { pages: 1000 }),
  mutant(rework, 'unlock-before-clear', 'zap_pte_range drops the pte lock between reading a pte and clearing it', { unlockBeforeClear: true }, { workload: 'madvise', overlap: true, pages: 64 }),
  mutant(rework, 'stale-cpumask', 'the flush targets mm_cpumask as it was at tlb_gather_mmu, missing cpus that loaded the mm since', { staleCpumask: true }, { workload: 'munmap', cpus: 2, tasksPerCpu: 2, mms: 2, pages: 4096 }),
  mutant(rework, 'mkclean-no-flush', 'page_mkclean_one write-protects and cleans the pte without flushing it from the TLBs', { mkcleanNoFlush: true }, { workload: 'writeback' }),
  mutant(rework, 'mprotect-no-flush', 'change_protection makes the ptes read-only without flush_tlb_range', { mprotectNoFlush: true }, { workload: 'writeback' }),
  mutant(rework, 'wp-fault-no-dirty', 'do_wp_page makes a shared pte writable again without set_page_dirty', { wpFaultNoDirty: true }, { workload: 'writeback' }),
  mutant(rework, 'flush-preemptible', 'flush_tlb_mm leaves preemption on while it waits for the acks, so another task of the cpu can take over its per-cpu IPI sender slot', { flushPreemptible: true }, { workload: 'munmap', cpus: 3, tasksPerCpu: 2, mms: 2, pages: 64 }),
  mutant(rework, 'fullmm-no-flush', 'a fullmm gather (exit_mmap) frees without flushing, as if no other cpu could still hold the mm', { fullmmNoFlush: true }, { workload: 'exit', pages: 200 }),
];

export function findVariant(name: string): VariantTraits | undefined {
  return VARIANTS.find((v) => v.name === name);
}

/** tlb_gather_mmu for the run's design. */
export function* tlbGatherMmu(ctx: Kctx, mm: number, fullmm: boolean): Path<MmuGather> {
  const tlb = ctx.traits.design === 'legacy' ? legacyGatherMmu(ctx, mm, fullmm) : yield* reworkGatherMmu(ctx, mm, fullmm);
  ctx.gatherDepth++;
  tlb.traceId = ctx.trace?.gatherBegin(ctx.now(), ctx.task, ctx.traits.design) ?? null;
  return tlb;
}
