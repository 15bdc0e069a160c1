// Named failures. A violated assumption inside the model stops the run with
// one of these instead of drifting into a wrong number; bad input is refused
// with BadInput before anything runs.

/** Something the user gave us is wrong: one line naming it, exit code 2. */
export class BadInput extends Error {
  override name = 'BadInput';
}

/** An internal invariant of the model failed: a bug in shootdown, not in the simulated kernel. */
export class ModelAssert extends Error {
  override name = 'ModelAssert';
  constructor(readonly what: string, detail: string) {
    super(`${what}: ${detail}`);
  }
}

/** A cpu stayed in one spin or one wait past the lockup limit. */
export class SoftLockup extends Error {
  override name = 'SoftLockup';
  constructor(readonly cpu: number, readonly where: string, detail: string) {
    super(`soft lockup on cpu ${cpu} in ${where}: ${detail}`);
  }
}

/**
 * A deterministic run took its whole step budget (--max-steps) and had not
 * ended. Nothing says a task was stuck (a spin or a sleep past the watchdog's
 * limit is a SoftLockup, every task asleep without a timer a deadlock): the
 * run was cut short, which is no finding about the kernel.
 */
export class StepLimit extends Error {
  override name = 'StepLimit';
}

/** Another cpu failed and set the poison word; this one stops where it is. */
export class Poisoned extends Error {
  override name = 'Poisoned';
}

/** The simulated machine ran out of something it was sized for. */
export class OutOfMemory extends Error {
  override name = 'OutOfMemory';
}

export function modelAssert(cond: boolean, what: string, detail: () => string): asserts cond {
  if (!cond) throw new ModelAssert(what, detail());
}
