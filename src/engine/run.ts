// One run in the mode its config names.

import type { RunConfig } from '../machine/config.ts';
import { findWorkload } from '../workloads/index.ts';
import { BadInput } from '../machine/errors.ts';
import { runDeterministicAsync } from './deterministic.ts';
import { runParallel } from './parallel.ts';
import type { RunResult } from './result.ts';

export async function runOnce(config: RunConfig, signal?: AbortSignal): Promise<RunResult> {
  const workload = findWorkload(config.workload);
  if (!workload) throw new BadInput(`--workload ${config.workload}: unknown`);
  return config.mode === 'parallel' ? runParallel(config, signal) : runDeterministicAsync(config, signal);
}
