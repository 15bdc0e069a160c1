// Coverage marks, after TigerBeetle's testing/marks: a tricky branch names
// itself with mark(), and the test that means to drive the model through it
// checks that it did, so a test cannot silently stop covering the branch it
// was written for. Marks are counted only while a test records them; outside
// that, a mark costs one boolean test.

export const MARKS = {
  forcedFlush: "the rework's zap_pte_range found the batch full, left the pte lock and flushed",
  batchPageFallback: 'the GFP_NOWAIT batch page could not be had: the gather runs on its 8 local slots',
  flushUnderPteLock: "2.6.38's gather filled its 506 slots and flushed under the pte lock",
  preemptedInGather: 'a task was preempted between tlb_gather_mmu and tlb_finish_mmu',
  interruptPutOff: 'a pending interrupt was put off at a step point by the strategy',
  wakeupSetNeedResched: "a strategy's wake-up set need_resched where no switch was allowed",
  lazyLeave: 'a lazy cpu answered a flush IPI with leave_mm',
  dirtyBitWalk: 'a write through a writable TLB entry without the dirty bit walked the page table to set it',
  wpFaultReuse: "do_wp_page's reuse path made a write-protected shared pte writable and dirty again",
  mkcleanRedirty: 'page_mkclean found a dirty pte, so clear_page_dirty_for_io dirtied the page again before clearing it',
  pageLockSlept: 'lock_page found the page locked by another task and slept',
  reclaimLeftMapped: 'reclaim left a page-cache page that a pte still maps',
  parkedSpinnerPassedOver: 'the deterministic scheduler passed over a cpu whose spin could only fail again until kicked',
  lazyTlbGenCatchUp: 'a cpu skipped while lazy came back to the mm behind its tlb_gen and flushed at switch_mm',
  nestedFlush: 'tlb_finish_mmu saw another gather of the mm in flight (mm_tlb_flush_nested) and flushed the whole range',
  pollerGaveWay: 'bounded exploration switched away from a task whose last step only polled a word another task must set (a fair schedule)',
  mprotectNested: "6.x mprotect's tlb_finish_mmu saw a zap of the mm in flight (tlb_flush_pending) and flushed the whole mm",
  sleepingStepTaken: "bounded exploration's sleep set saw a sleeping task take the step it slept on: the schedule reorders one already run",
  timedStepStoppedReduction: "a step acted on its cpu's model clock (an IPI not yet arrived, the tick, a timer), so bounded exploration trusted no reordering in that run",
  delayedRmap: "a dirty file pte's rmap was kept until after the TLB flush (tlb_flush_rmaps)",
} as const;
export type MarkName = keyof typeof MARKS;

let recording: Map<MarkName, number> | null = null;

export function mark(name: MarkName): void {
  if (recording !== null) recording.set(name, (recording.get(name) ?? 0) + 1);
}

/** Run `fn` (in this thread) and return how often each mark was hit in it. */
export function recordMarks(fn: () => void): ReadonlyMap<MarkName, number> {
  const outer = recording;
  const hits = new Map<MarkName, number>();
  recording = hits;
  try {
    fn();
  } finally {
    recording = outer;
  }
  return hits;
}
