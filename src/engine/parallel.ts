// The parallel engine: one worker thread per simulated cpu (a piscina pool
// with exactly that many threads), all on the same SharedArrayBuffer. When
// any cpu fails the machine is poisoned and every cpu stops; the run ends with
// the error and whatever was measured, and the pool is always destroyed, so
// no thread outlives the run.

import { Piscina } from 'piscina';
import { HDR } from '../machine/layout.ts';
import type { RunConfig } from '../machine/config.ts';
import { Oracle } from '../oracle/rules.ts';
import { checkQuiescent } from '../mm/syscall.ts';
import type { Workload } from '../workloads/workload.ts';
import { bootMachine } from './boot.ts';
import { assemble, errorOf, type CpuReport, type RunResult } from './result.ts';
import type { CpuJob } from './cpu-loop.ts';

const WORKER_URL = new URL('../../workers/cpu.ts', import.meta.url).href;

export async function runParallel(config: RunConfig, workload: Workload, signal?: AbortSignal): Promise<RunResult> {
  const t0 = performance.now();
  const { m, tasks } = bootMachine(config, workload);
  const pool = new Piscina({ filename: WORKER_URL, minThreads: config.cpus, maxThreads: config.cpus, concurrentTasksPerWorker: 1, execArgv: ['--import', 'tsx'], idleTimeout: 60_000 });
  const onAbort = (): void => {
    Atomics.store(m.mem, HDR.STOP, 1);
  };
  signal?.addEventListener('abort', onAbort);
  let error: RunResult['error'] = null;
  const reports: CpuReport[] = [];
  try {
    const jobs = Array.from({ length: config.cpus }, (_, cpu) => pool.run({ sab: m.sab, size: m.size, config, tasks, cpu } satisfies CpuJob) as Promise<CpuReport>);
    const settled = await Promise.allSettled(
      jobs.map((j) =>
        j.catch((e: unknown) => {
          Atomics.store(m.mem, HDR.POISON, -1); // a worker died outright: stop the others
          throw e;
        }),
      ),
    );
    for (const s of settled) {
      if (s.status === 'fulfilled') reports.push(s.value);
      else error ??= errorOf(s.reason);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await pool.destroy();
  }
  const final = new Oracle(config.variant, config.seed, 100, () => -1, () => {});
  const failed = error !== null || reports.some((r) => r.error !== null) || Atomics.load(m.mem, HDR.STOP) !== 0;
  if (!failed) checkQuiescent(m.mem, m, final, 0);
  return assemble(config, reports, final.violations, {
    steps: reports.reduce((n, r) => n + r.steps, 0),
    elapsedMs: performance.now() - t0,
    maxConcurrentCpus: Atomics.load(m.mem, HDR.CPUS_CONCURRENT_MAX),
    error,
  });
}
