// A PathStack runs a kernel path and the paths it calls with `yield callee()`
// as frames of one stack: the same step points in the same order as yield*,
// the callee's value sent back to its caller, and a bound on the depth.
import { describe, expect, it } from 'vitest';
import { call, PATH_DEPTH_MAX, PATH_DONE, PathStack, Step, type Path, type StepKind } from '../src/machine/step.ts';

function* leaf(kind: StepKind, n: number): Path<number> {
  for (let i = 0; i < n; i++) yield kind;
  return n * 10;
}
function* byCall(): Path<number> {
  yield Step.LOCK;
  const a = yield* call(leaf(Step.PTE, 2));
  yield leaf(Step.FREE, 1); // a call whose value is not wanted
  const b = yield* leaf(Step.TLB, 1); // the old way still works beside it
  return a + b;
}
function* deep(n: number): Path {
  if (n > 0) yield deep(n - 1);
  else yield Step.USER;
}

function drain<T>(stack: PathStack<T>): StepKind[] {
  const kinds: StepKind[] = [];
  for (let k = stack.next(); k !== PATH_DONE; k = stack.next()) {
    kinds.push(k);
    expect(kinds.length).toBeLessThan(100);
  }
  return kinds;
}

describe('PathStack', () => {
  it('yields the callees\' step points in order and sends their values back', () => {
    const stack = new PathStack(byCall());
    expect(drain(stack)).toEqual([Step.LOCK, Step.PTE, Step.PTE, Step.FREE, Step.TLB]);
    expect(stack.result).toBe(20 + 10);
  });

  it('stops a path whose calls nest deeper than PATH_DEPTH_MAX with a named error', () => {
    expect(drain(new PathStack(deep(PATH_DEPTH_MAX - 1)))).toEqual([Step.USER]);
    expect(() => drain(new PathStack(deep(PATH_DEPTH_MAX)))).toThrow(/kernel path calls nest too deep/);
  });
});
