// The parallel engine: one worker thread per simulated cpu (a piscina pool
// with exactly that many threads), all on the same SharedArrayBuffer; when
// the cpus outnumber the host's cores, one thread per core, each running a
// group of the cpus (cpu-group.ts). When
// any cpu fails the machine is poisoned and every cpu stops; the run ends with
// the error and whatever was measured, and the pool is always destroyed, so
// no thread outlives the run. A watchdog in the main thread poisons the
// machine and ends the run if a cpu's heartbeat stops (a worker stuck
// outside every bounded wait), so even a model bug cannot hang the run.

import { availableParallelism } from 'node:os';
import { kickAll } from '../sync/pv.ts';
import { Piscina } from 'piscina';
import { WORKER_EXEC_ARGV, destroyPool, workerFile } from './worker-env.ts';
import { CPU_FIELD, HDR } from '../machine/layout.ts';
import type { RunConfig } from '../machine/config.ts';
import { SoftLockup } from '../machine/errors.ts';
import { Oracle } from '../oracle/rules.ts';
import { checkQuiescent } from '../mm/syscall.ts';
import { bootMachine } from './boot.ts';
import { cpuStateDump } from './dump.ts';
import { assemble, errorOf, readTlbFlushEvents, type CpuReport, type RunResult } from './result.ts';
import { START_BARRIER_MS, type CpuJob } from './cpu-loop.ts';

const WATCHDOG_PERIOD_MS = 200;
/** A heartbeat may stop this much longer than the lockup limit before the watchdog acts (worker start-up included). */
const WATCHDOG_GRACE_MS = 3000;
const STUCK_REPORT_WAIT_MS = 1000;

export async function runParallel(config: RunConfig, signal?: AbortSignal): Promise<RunResult> {
  const t0 = performance.now();
  const startEpochMs = performance.timeOrigin + t0;
  const { m, tasks } = bootMachine(config);
  const mem = m.mem;
  const threads = Math.min(config.cpus, availableParallelism());
  const grouped = threads < config.cpus;
  const pool = new Piscina({ filename: workerFile('cpu'), minThreads: threads, maxThreads: threads, concurrentTasksPerWorker: 1, execArgv: WORKER_EXEC_ARGV, idleTimeout: 60_000 });
  const onAbort = (): void => {
    Atomics.store(mem, HDR.STOP, 1);
    kickAll(m); // blocked cpu threads look at the stop word now
  };
  signal?.addEventListener('abort', onAbort);
  let error: RunResult['error'] = null;
  const reports: CpuReport[] = [];
  let watchdog: ReturnType<typeof setInterval> | undefined;
  /** When every cpu had handed in its report (or the run failed): the run's host time ends here, not after the teardown. */
  let endedMs = 0;
  try {
    // cpu c runs on thread c mod threads
    const groups = Array.from({ length: threads }, (_, t) => Array.from({ length: Math.ceil((config.cpus - t) / threads) }, (_, k) => t + k * threads));
    const jobs = groups.map((cpus) => pool.run({ sab: m.sab, size: m.size, config, tasks, cpus, grouped, startEpochMs } satisfies CpuJob) as Promise<CpuReport[]>);
    const stuck = new Promise<never>((_, reject) => {
      const beats = new Array<number>(config.cpus).fill(-1);
      const since = new Array<number>(config.cpus).fill(performance.now());
      watchdog = setInterval(() => {
        const nowMs = performance.now();
        if (Atomics.load(mem, HDR.CPUS_STARTED) < config.cpus) {
          // worker threads still loading (slow on a loaded host): their heartbeats count from the start barrier on
          since.fill(nowMs);
          if (nowMs - t0 > START_BARRIER_MS + WATCHDOG_GRACE_MS) {
            Atomics.store(mem, HDR.POISON, -1);
            reject(new SoftLockup(-1, 'the worker threads', `only ${Atomics.load(mem, HDR.CPUS_STARTED)} of ${config.cpus} started within ${Math.round(nowMs - t0)} ms`));
          }
          return;
        }
        for (let cpu = 0; cpu < config.cpus; cpu++) {
          const beat = Atomics.load(mem, m.cpu(cpu, CPU_FIELD.HEARTBEAT));
          if (beat !== beats[cpu] || Atomics.load(mem, m.cpu(cpu, CPU_FIELD.LOOP_DONE)) !== 0) {
            beats[cpu] = beat;
            since[cpu] = nowMs;
          } else if (nowMs - since[cpu]! > config.lockupMs + WATCHDOG_GRACE_MS) {
            Atomics.store(mem, HDR.POISON, -1);
            reject(new SoftLockup(cpu, 'its worker thread', `no heartbeat for ${Math.round(nowMs - since[cpu]!)} ms`));
            return;
          }
        }
      }, WATCHDOG_PERIOD_MS);
    });
    stuck.catch(() => {});
    // a worker that fails outside any task (it could not start: EMFILE, out of memory) ends the run like a lockup
    const poolFailed = new Promise<never>((_, reject) => pool.on('error', (e: unknown) => {
      Atomics.store(mem, HDR.POISON, -1);
      reject(e);
    }));
    poolFailed.catch(() => {});
    const settled = Promise.allSettled(
      jobs.map((j) =>
        j.then(
          (r) => void reports.push(...r),
          (e: unknown) => {
            Atomics.store(mem, HDR.POISON, -1); // a worker died outright: stop the others
            error ??= errorOf(e);
          },
        ),
      ),
    );
    const lockup = await Promise.race([settled.then(() => null), stuck.then(() => null, (e: unknown) => e), poolFailed.then(() => null, (e: unknown) => e)]);
    if (lockup !== null) {
      error = errorOf(lockup, () => cpuStateDump(m, config));
      // the other cpus saw the poison word: give them a moment to hand in what they measured
      await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, STUCK_REPORT_WAIT_MS))]);
    }
  } finally {
    clearInterval(watchdog);
    signal?.removeEventListener('abort', onAbort);
    endedMs = performance.now();
    await destroyPool(pool);
  }
  reports.sort((a, b) => a.cpu - b.cpu);
  if (signal?.aborted && error === null) error = { name: 'Interrupted', message: 'stopped by a signal; every cpu handed in what it had measured' };
  const final = new Oracle(config.variant, config.seed, 100, () => -1, () => {});
  if (error?.name === 'SoftLockup') final.report('SOFT_LOCKUP', { cpu: -1, task: -1, mm: -1 }, error.message);
  const failed = error !== null || reports.some((r) => r.error !== null) || Atomics.load(mem, HDR.STOP) !== 0;
  if (!failed) checkQuiescent(mem, m, final, 0);
  const elapsedMs = endedMs - t0;
  return assemble(config, reports, final.violations, {
    steps: reports.reduce((n, r) => n + r.steps, 0),
    elapsedMs,
    // host run time counts from the start barrier: worker start-up is not part of it
    runMs: Atomics.load(mem, HDR.RUN_START_US) > 0 ? elapsedMs - Atomics.load(mem, HDR.RUN_START_US) / 1000 : elapsedMs,
    maxConcurrentCpus: Atomics.load(mem, HDR.CPUS_CONCURRENT_MAX),
    error,
    tlbFlush: readTlbFlushEvents(m),
  });
}
