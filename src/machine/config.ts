// The run configuration: everything a run is sized and steered by. It is
// plain data, so it crosses into workers and into result files unchanged.

import type { CostTable } from './costs.ts';

/**
 * The kernel's preemption models. In all three a task can lose the cpu when it
 * returns to user space, blocks, or calls cond_resched(); voluntary adds
 * might_sleep(); full (CONFIG_PREEMPT) adds every point where preempt_count
 * is 0 with interrupts on (preempt_enable, return from an interrupt).
 */
export type PreemptModel = 'none' | 'voluntary' | 'full';
/** mapping->i_mmap_lock: a spinlock in 2.6.38, a mutex after "mm: convert i_mmap_lock to a mutex". */
export type ImmapLock = 'spinlock' | 'mutex';
export type Mode = 'deterministic' | 'parallel';
export type AllocFail =
  | { kind: 'never' }
  | { kind: 'always' }
  /** Only the first GFP_NOWAIT allocation on each cpu fails. */
  | { kind: 'once' }
  | { kind: 'probability'; p: number };

/** How one design of the gather path behaves; mutants flip one trait each. */
export interface VariantTraits {
  name: string;
  /** legacy (2.6.38), rework (the seed), generic (asm-generic's gather of chained batches with range tracking, 3.11 on; `generic` below says which era). */
  design: 'legacy' | 'rework' | 'generic';
  /** For the generic design: which kernel's mechanisms it has. Ignored by legacy and rework. */
  generic: GenericTraits;
  /** One line: what the variant is, or for a mutant the bug it plants. */
  about: string;
  mutant: boolean;
  /** For a mutant: the scenario (run flags, as option names) where its bug can show; `npm run mutants` hunts with it. */
  huntWith: Record<string, string | number | boolean>;
  /**
   * For a mutant: what bounded exploration changes in `huntWith` to make the
   * scenario small enough to enumerate (fewer pages, cpus or tasks; readers
   * bounded), or `scenario`: a scenario file, from the project's root, where
   * the race needs parts a workload's tasks cannot play; empty where
   * `huntWith` is already small.
   */
  boundedWith: Record<string, string | number | boolean>;
  /** rework-seed: init_rss_vec() before `again:`, so a forced restart applies the rss deltas twice. */
  rssInitBeforeAgain: boolean;
  /** free-before-flush: tlb_flush_mmu frees the batch before the TLB flush. */
  freeBeforeFlush: boolean;
  /** no-ack-wait: flush_tlb_others sends the IPIs and does not wait for acknowledgements. */
  noAckWait: boolean;
  /** no-ipi: flush_tlb_others tells no remote cpu at all. */
  noIpi: boolean;
  /** skip-lazy-leave: a lazy cpu acks a flush without leave_mm, keeping its TLB and its bit in mm_cpumask. */
  skipLazyLeave: boolean;
  /** legacy-preemptible: the per-cpu gather is taken without disabling preemption. */
  gatherPreemptible: boolean;
  /** lost-force-flush: zap_pte_range ignores a full batch; pages that do not fit are dropped. */
  lostForceFlush: boolean;
  /** unlock-before-clear: zap_pte_range drops the pte lock between reading a pte and clearing it. */
  unlockBeforeClear: boolean;
  /** stale-cpumask: the flush targets mm_cpumask as it was when the gather began. */
  staleCpumask: boolean;
  /** fullmm-no-flush: a fullmm gather (exit_mmap) frees without flushing, as if no other cpu could hold the mm. */
  fullmmNoFlush: boolean;
  /** mkclean-no-flush: page_mkclean_one write-protects and cleans the pte but flushes no TLB. */
  mkcleanNoFlush: boolean;
  /** mprotect-no-flush: change_protection rewrites the ptes and skips flush_tlb_range. */
  mprotectNoFlush: boolean;
  /** wp-fault-no-dirty: do_wp_page makes a shared pte writable again without set_page_dirty. */
  wpFaultNoDirty: boolean;
  /** flush-preemptible: flush_tlb_mm runs with preemption on, so another task of the cpu can reuse its per-cpu IPI sender slot mid-flush. */
  flushPreemptible: boolean;
}

/** The mechanisms that came into the generic mmu_gather and x86's flush after 3.11, each with the commit that brought it. */
export interface GenericTraits {
  /** 'vma': tlb->start/end are the range tlb_gather_mmu was given (3.11); 'tracked': each cleared entry and freed table widens them (fb7332a9fedf, 3.19). */
  gatherRange: 'vma' | 'tracked';
  /** 3.11: the forced flush's range ends at the pte just queued instead of past it, so that page is freed unflushed (fixed by ce9ec37bddb6, 3.18). */
  forcedFlushSkipsLast: boolean;
  /** x86's choice between invlpg per page and a full flush: 3.11's tlb_flushall_shift heuristic, 4.2's 33-page ceiling, 4.19's 33 strides. */
  flushCeiling: 'flushallShift' | 'pages' | 'strides';
  /** 1cf35d47712d (3.15): a dirty shared pte forces the TLB flush before the pte lock is dropped; pages are freed after. */
  dirtyFlushUnderPtl: boolean;
  /** 5df397dec7c4 (6.2): the rmap of a dirty file page is removed only after the TLB flush. */
  delayedRmap: boolean;
  /** 99baac21e458 (4.13): tlb_finish_mmu flushes the whole range when another gather of the mm is in flight (mm_tlb_flush_nested). */
  nestedFlush: boolean;
  /** b0579ade7cd8 (4.13): mm->context.tlb_gen and each cpu's caught-up generation. */
  tlbGen: boolean;
  /** 4.19 on (should_flush_tlb): a lazy cpu gets no IPI unless page tables were freed; it catches up at its next switch_mm. */
  lazySkip: boolean;
  /** 4ce94eabac16 (5.10): the local flush runs with the remote ones, inside flush_tlb_multi. */
  concurrentLocalFlush: boolean;
  /** 6.9 on: a batch is full one slot before its end (a slot is kept for an nr_pages encoding). */
  batchReserveSlot: boolean;
  /** mutant: tlb_flush_rmaps runs before the TLB flush it is meant to follow. */
  rmapBeforeFlush: boolean;
  /** mutant: should_flush_tlb skips a lazy cpu even when page tables were freed. */
  lazySkipFreedTables: boolean;
  /** mutant: switch_mm back to a lazily kept mm does not look at tlb_gen. */
  switchIgnoresTlbGen: boolean;
}

/**
 * One operation of a scenario program. Ranges are in pages from the start of
 * the region workloads map into (the second 1 GiB of the address space).
 * `measure` makes the operation one of the run's counted ops; by default the
 * system calls under study (munmap, madvise, mprotect, truncate, exec-shift,
 * exit) are measured and the accesses are not.
 */
export type ScenarioOp =
  /** `file`: a MAP_PRIVATE mapping of the file; `shared`: a MAP_SHARED one (either maps the file from page 0). */
  | { op: 'mmap'; start: number; pages: number; file: boolean; shared?: boolean; measure: boolean }
  | { op: 'write' | 'read' | 'munmap' | 'madvise'; start: number; pages: number; measure: boolean }
  | { op: 'mprotect'; start: number; pages: number; writable: boolean; measure: boolean }
  | { op: 'exec-shift'; start: number; pages: number; shift: number; measure: boolean }
  | { op: 'truncate'; pages: number; measure: boolean }
  /** msync(MS_SYNC) over a range (it syncs the whole file, as 2.6.38's vfs_fsync does), or fsync of the file. */
  | { op: 'msync'; start: number; pages: number; measure: boolean }
  | { op: 'fsync'; measure: boolean }
  /** Memory pressure: reclaim scans up to `pages` pages of the file's page cache, writing dirty ones and dropping those no pte maps. */
  | { op: 'reclaim'; pages: number; measure: boolean }
  | { op: 'sleep'; ms: number }
  | { op: 'barrier' }
  | { op: 'exit'; measure: boolean }
  | { op: 'repeat'; times: number; ops: ScenarioOp[] };

/**
 * A scenario's own tasks: each pinned to a cpu, in an mm, with a program,
 * and optionally a setup that runs before it (mappings and accesses only):
 * once, at boot, in a hunt (config.setupOnce); first in the program otherwise.
 */
export interface ScenarioProgram {
  name: string;
  tasks: { cpu: number; mm: number; setup?: ScenarioOp[]; program: ScenarioOp[] }[];
}

export interface RunConfig {
  variant: string;
  workload: string;
  mode: Mode;
  seed: number;
  cpus: number;
  /** Pages the workload maps (munmap: the unmapped range; madvise: per task). */
  pages: number;
  preempt: PreemptModel;
  allocFail: AllocFail;
  /** Physical memory, in 4 KiB frames. */
  memoryPages: number;
  tlbEntries: number;
  /** madvise: subranges of neighbouring tasks overlap. */
  overlap: boolean;
  /** Reader accesses per reader task in munmap and madvise (bounds the run). */
  readerAccesses: number;
  /** Deterministic mode: the step budget before the run is called stuck. */
  maxSteps: number;
  /** A cpu in one spin or wait longer than this is a soft lockup (on the watchdog's clock: host ms in parallel mode, a step per busy cpu per µs in deterministic mode). */
  lockupMs: number;
  /** User tasks per cpu; tasks of one mm are spread over the cpus. */
  tasksPerCpu: number;
  /** Address spaces the user tasks are spread over. */
  mms: number;
  immapLock: ImmapLock;
  /** A cyclictest-like latency probe task per cpu. */
  probe: boolean;
  /** A per-cpu kernel thread that wakes every few ticks (it runs lazily on the last user mm). */
  kworker: boolean;
  /** Latency histograms and lock statistics; off only to measure what they cost. */
  latencyStats: boolean;
  /** Workloads that loop (mix) stop starting new rounds after this long; 0 = run every round. */
  durationMs: number;
  /** Rounds per task of looping workloads (mix). */
  rounds: number;
  /** Deterministic mode: how the next cpu is chosen (see src/engine/strategy.ts). */
  strategy: { kind: 'random' } | { kind: 'pct'; depth: number; steps: number };
  /** Trace events each cpu may record (--trace-limit); 0 when not tracing. */
  traceLimit: number;
  /** Workload `scenario`: the tasks and programs of a scenario file; null for the built-in workloads. */
  scenario: ScenarioProgram | null;
  /** The file lives on a disk with dirty accounting: writeback, write-notify on shared writable mappings, data versions checked against the disk. */
  diskFile: boolean;
  /** A bdi flusher kernel thread (on cpu 0) writes the file's dirty pages back every few ms (implies diskFile). */
  writeback: boolean;
  /** What each modelled event costs, in ns of model time (costs/default.yaml, or --costs FILE over it). */
  costs: CostTable;
  /** Keep the model clocks (event costs, times carried between cpus, the skew bound); off only to measure what they cost. */
  modelClocks: boolean;
  /**
   * The workload's setup (workload.ts `setup`: mapping and writing what the
   * measured operation works on) runs at boot, each task's on its cpu with
   * nothing else running, and runs of the same config but the seed start
   * from a copy of the machine it left (boot.ts); off, the tasks' programs
   * run it, and its interleavings are explored like the rest. Hunts set it
   * unless --explore-setup.
   */
  setupOnce: boolean;
  /**
   * The most a running cpu's model clock may run ahead of the others' (µs;
   * src/engine/clocks.ts), 0 for no bound. Measurements keep the bound so
   * times stay consistent between cpus; hunts drop it, so a strategy may
   * hold a cpu back as long as a descheduled vCPU could be.
   */
  clockSkewUs: number;
  /** Test hook: this cpu throws after `step` steps of its own. */
  crash: { cpu: number; step: number } | null;
}

export function allocFailText(a: AllocFail): string {
  return a.kind === 'probability' ? String(a.p) : a.kind;
}
