// Shared by the tests: one deterministic run from flag-style options.
import { makeConfig, type RunOptions } from '../src/engine/configure.ts';
import { runOnce } from '../src/engine/run.ts';
import type { RunResult } from '../src/engine/result.ts';

export function run(o: RunOptions): Promise<RunResult> {
  return runOnce(makeConfig(o));
}

/** Every violation rule a result reported, deduplicated. */
export function rules(r: RunResult): string[] {
  return [...new Set(r.violations.map((v) => v.rule))].sort();
}
