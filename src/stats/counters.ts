// Event counters. Each task counts what its own kernel paths did, so the
// counters of its measured operations are exact even while other cpus run:
// inside one it counts into its measured counters (workload.ts measure).
// Counters only grow.


export const COUNTER_NAMES = [
  'gatherFlushes', // tlb_flush_mmu calls that flushed (need_flush was set)
  'forcedFlushes', // rework: flushes after a full batch broke out of the pte lock
  'flushesUnderPteLock', // flushes issued while a pte lock was held
  'pagesFreedUnderPteLock',
  'maxPagesFreedInOnePteLockHold',
  'ipisSent',
  'ipisHandled',
  'lazyLeaves', // leave_mm because a flush reached a lazy cpu
  'tlbFlushesLocal',
  'pagesFreed', // data pages returned to the allocator
  'pageTablesFreed',
  'pteLockAcquisitions', // by the zap path
  'batchAllocFailures', // GFP_NOWAIT batch-page allocations that failed
  'batchAllocs',
  'gatherLocalStarts', // rework: gathers whose first batch-page allocation failed, so they began on the 8 local slots (counted by workloads that run one gather per op: pressure)
  'gatherUpgrades', // rework: of those, gathers that got the batch page after a flush and went on with 512 slots (pressure)
  'pageFaults',
  'pageCacheAdds', // pages put into the file's page cache (add_to_page_cache)
  'pageCacheRemovals', // pages taken out of it (truncate_inode_pages)
  'segfaults',
  'userAccesses',
  'tlbHits',
  'tlbMisses',
  'tlbDirtyWalks', // writes through a TLB entry without the dirty bit, which walk the page table to set it (x86 caches D)
  'condResched',
  'iMmapLockBreaks', // unmap_mapping_range_vma dropped the i_mmap lock (need_resched or a waiter) and restarted its walk
  'pteUnmapWrongPage', // rework-seed: pte_unmap_unlock(pte - 1) named another page-table page
  'ops', // measured operations completed (munmap, madvise, exit_mmap, a round of faults)
  'opTimeUs', // time spent in measured operations, on the run's clock
  'voluntarySwitches', // schedule() called by the task itself (nvcsw)
  'involuntarySwitches', // preempted (nivcsw)
  'preemptionsInGather', // preempted between tlb_gather_mmu and tlb_finish_mmu
  'wakeups', // wake_up_process calls that woke a sleeping task
  'sleepingLockWaits', // sleeps on a mutex or rw-semaphore
  'kworkerRuns',
  'probeWakeups',
  'wpFaults', // do_wp_page on a shared file page: the write-protected pte made writable and dirty again
  'mkcleanPtes', // ptes page_mkclean write-protected and cleaned
  'pagesWrittenBack', // writepage calls: a page's data version written to the disk
  'fsyncs', // msync(MS_SYNC) and fsync calls
  'pagesReclaimed', // clean, unmapped page-cache pages reclaim dropped
  'flusherRuns', // wake-ups of the bdi flusher thread
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];
export type Counters = Record<CounterName, number>;

export function newCounters(): Counters {
  const c = {} as Counters;
  for (const n of COUNTER_NAMES) c[n] = 0;
  return c;
}

/** Maxima (`max...`) are not summed: an interval's is the later snapshot's, a sum's the larger. */
const IS_MAX: readonly boolean[] = COUNTER_NAMES.map((n) => n.startsWith('max'));

export function addCounters(into: Counters, from: Counters): void {
  for (let i = 0; i < COUNTER_NAMES.length; i++) {
    const n = COUNTER_NAMES[i]!;
    into[n] = IS_MAX[i] ? Math.max(into[n], from[n]) : into[n] + from[n];
  }
}
