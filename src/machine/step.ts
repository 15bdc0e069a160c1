// What a kernel path yields: the kind of point it stopped at. The engine, not
// the kernel path, decides what happens there (another cpu runs, the task is
// preempted, a spinner backs off). A kernel path yields only where the kernel
// could sleep or be preempted, and at the deterministic-mode step points
// listed here, so races between those events are reachable.

export const Step = {
  LOCK: 0, // a lock was taken or released
  SPIN: 1, // a spin iteration failed (lock busy, ack not yet in)
  PTE: 2, // a pte or page-table entry changed
  FREE: 3, // a page went back to the allocator
  TLB: 4, // a TLB fill or flush
  IPI: 5, // an IPI was sent
  PREEMPT: 6, // preempt_enable dropped preempt_count to 0 (a preemption point under CONFIG_PREEMPT)
  SLEEP: 7, // schedule() after setting the task's state to sleep: blocked until woken
  USER: 8, // a user-space instruction, or the return to user space (preemptible in every model)
  RESCHED: 9, // cond_resched(): an explicit preemption point, live in every model
  MIGHT_RESCHED: 10, // might_sleep(): a preemption point under CONFIG_PREEMPT_VOLUNTARY and CONFIG_PREEMPT
  YIELD: 11, // sched_yield() from user space: give the cpu to another runnable task
} as const;
export type StepKind = (typeof Step)[keyof typeof Step];

/** Each step kind's name, by its number. */
export const STEP_NAMES: readonly string[] = (() => {
  const names: string[] = [];
  for (const [name, kind] of Object.entries(Step)) names[kind] = name;
  return names;
})();

/** A kernel or user path: a generator that yields step points and returns T. */
export type Path<T = void> = Generator<StepKind, T, void>;
