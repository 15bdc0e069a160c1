// The deterministic engine: one thread steps every cpu; a seeded scheduler
// picks which cpu takes the next step among those with a task to run or an
// interrupt pending. Time is virtual (a step is a microsecond), so the same
// seed gives the same run, byte for byte.

import { HDR } from '../machine/layout.ts';
import type { RunConfig } from '../machine/config.ts';
import { Rng } from '../machine/rng.ts';
import { SoftLockup } from '../machine/errors.ts';
import { Oracle } from '../oracle/rules.ts';
import { checkQuiescent } from '../mm/syscall.ts';
import type { Workload } from '../workloads/workload.ts';
import { bootMachine } from './boot.ts';
import { CpuRunner } from './runner.ts';
import { assemble, errorOf, type CpuReport, type RunResult } from './result.ts';

export const VIOLATION_RECORD_LIMIT = 100;

export function runDeterministic(config: RunConfig, workload: Workload): RunResult {
  const t0 = performance.now();
  const { m, tasks } = bootMachine(config, workload);
  let steps = 0;
  const oracle = new Oracle(config.variant, config.seed, VIOLATION_RECORD_LIMIT, () => steps, () => Atomics.add(m.mem, HDR.VIOLATIONS, 1));
  const runners = Array.from({ length: config.cpus }, (_, cpu) => new CpuRunner(m, cpu, config, tasks, oracle, () => steps));
  const sched = new Rng(config.seed);
  let error: RunResult['error'] = null;
  try {
    for (;;) {
      const ready = runners.filter((r) => r.busy || r.hasPendingIpi());
      if (ready.length === 0) break;
      if (steps >= config.maxSteps) throw new SoftLockup(-1, 'deterministic scheduler', `no end after ${steps} steps (--max-steps)`);
      ready[ready.length === 1 ? 0 : sched.below(ready.length)]!.step();
      steps++;
    }
    checkQuiescent(m.mem, m, oracle, 0);
  } catch (e) {
    error = errorOf(e);
  }
  const reports: CpuReport[] = runners.map((r) => ({
    cpu: r.cpu,
    threadId: 0,
    steps: r.steps,
    records: r.records,
    cpuStats: r.ctx.cpuStats,
    idleStats: r.idleStats,
    violations: [],
    violationsDropped: 0,
    error: null,
  }));
  reports[0]!.violations = oracle.violations;
  reports[0]!.violationsDropped = oracle.dropped;
  return assemble(config, reports, [], { steps, elapsedMs: performance.now() - t0, maxConcurrentCpus: 1, error });
}
