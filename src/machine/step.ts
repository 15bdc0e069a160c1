// What a kernel path yields: the kind of point it stopped at. The engine, not
// the kernel path, decides what happens there (another cpu runs, the task is
// preempted, a spinner backs off). A kernel path yields only where the kernel
// could sleep or be preempted, and at the deterministic-mode step points
// listed here, so races between those events are reachable.

import { modelAssert } from './errors.ts';

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

/**
 * A kernel or user path: a generator that yields step points and returns T.
 * It calls another path with `yield* callee()`, as C calls a function, or on
 * hot paths with `yield callee()`: the PathStack that runs it then resumes
 * the callee directly and sends back its return value as the value of that
 * `yield`. A generator resumed through yield* resumes every caller's frame
 * at each step (here, about 20 ns per frame: a 10-deep zap paid 200 ns a
 * step), a called one only its own.
 * A callee that only does some work and then has one step point, or none,
 * need not be a frame: it is a plain function that does the work and returns
 * the step's kind, or `NO_STEP` (its caller goes on in the same step), or
 * the path it ends by calling. Its caller still writes `yield callee()`. A
 * call as a frame costs a generator and two more resumes, and these callees
 * (spin_lock, preempt_enable, might_sleep) are a third of all calls.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- a recursive alias is not allowed; the interface names it
export interface Path<T = void> extends Generator<StepKind | Path<unknown> | typeof NO_STEP, T, any> {}

/** What a plain-function callee returns when it has no step point this time: `yield` of it goes on at once. */
export const NO_STEP = null;

/** What `yield` takes from a callee: a frame to run, a step point, or none. */
export type Call<T = void> = Path<T> | StepKind | typeof NO_STEP;

/** `yield* call(callee())`: a callee whose value the caller needs, run as its own frame all the same, its value typed. */
export function* call<T>(callee: Path<T>): Path<T> {
  return (yield callee) as T;
}

/** Frames a PathStack may hold: calls nest no deeper in any kernel path. */
export const PATH_DEPTH_MAX = 64;

/** Runs a path and the paths it calls with `yield callee()`, one frame resumed per step. */
export class PathStack<T = void> {
  private readonly frames: Path<unknown>[];
  private sent: unknown = undefined;
  /** The root path's return value, once next() has said DONE. */
  result: T | undefined = undefined;
  constructor(root: Call<T>) {
    this.frames = [typeof root === 'object' && root !== null ? root : (only(root) as Path<T>)];
  }
  /** The next step point, or PATH_DONE when the root path returned. */
  next(): StepKind | typeof PATH_DONE {
    const frames = this.frames;
    for (;;) {
      const r = frames[frames.length - 1]!.next(this.sent);
      this.sent = undefined;
      if (r.done) {
        frames.pop();
        if (frames.length === 0) {
          this.result = r.value as T;
          return PATH_DONE;
        }
        this.sent = r.value;
      } else if (typeof r.value === 'number') {
        return r.value;
      } else if (r.value !== NO_STEP) {
        modelAssert(frames.length < PATH_DEPTH_MAX, 'kernel path calls nest too deep', () => `${frames.length} frames`);
        frames.push(r.value);
      }
    }
  }
}
/** A plain callee's step run as a path of its own (a test's root). */
function* only(step: StepKind | typeof NO_STEP): Path {
  if (step !== NO_STEP) yield step;
}

/** PathStack.next(): the root path returned. */
export const PATH_DONE = -1;
