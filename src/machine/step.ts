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
  PREEMPT: 6, // a preemption point: cond_resched, preempt_enable, return to user
  SLEEP: 7, // blocked on a sleeping lock, waiting to be woken
  USER: 8, // a user-space instruction
} as const;
export type StepKind = (typeof Step)[keyof typeof Step];

/** A kernel or user path: a generator that yields step points and returns T. */
export type Path<T = void> = Generator<StepKind, T, void>;
