// Worker entry point: one simulated cpu, or a group of them when they outnumber the host's cores. Thin on purpose; the loops live in src/engine.
import { runCpu, type CpuJob } from '../src/engine/cpu-loop.ts';
import { runCpuGroup } from '../src/engine/cpu-group.ts';
import type { CpuReport } from '../src/engine/result.ts';

export default async function runCpus(job: CpuJob): Promise<CpuReport[]> {
  return job.grouped ? runCpuGroup(job) : [await runCpu(job)];
}
