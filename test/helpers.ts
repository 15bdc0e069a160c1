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

/** Runs a workload at hunt's default flags (plus `extra`) over `seeds` seeds and lists each run that was not clean. */
export async function uncleanRuns(variant: string, workload: string, seeds: number, extra: RunOptions = {}): Promise<string[]> {
  const bad: string[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const r = await run({ clockSkew: 'none', ...extra, variant, workload, seed });
    if (r.violations.length > 0 || r.error) bad.push(`seed ${seed}: ${r.violations[0]?.rule ?? r.error?.name} ${r.violations[0]?.detail ?? r.error?.message}`);
  }
  return bad;
}
