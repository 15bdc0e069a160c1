// The result of a run, as written to JSON (schema 1) and summarised on the
// terminal. Counters of the measured operation are exact; totals cover every
// task and every cpu's interrupt work.

import type { RunConfig } from '../machine/config.ts';
import { newCounters, addCounters, type Counters } from '../stats/counters.ts';
import type { Violation } from '../oracle/rules.ts';
import { mergeLatency, type EncodedLatency, type LatencyReport } from '../stats/latency.ts';
import { mergeLockStat, type LockClassStat } from '../stats/lockstat.ts';
import { mergeTrace, type TraceEvent, type TraceFile } from '../stats/trace.ts';
import type { TaskRecord } from '../workloads/workload.ts';

export const RESULT_SCHEMA = 2;

/** How a run ended when it did not end well: the error, and for a lockup every cpu's state. */
export interface RunError {
  name: string;
  message: string;
  cpuStates?: string[];
}

export interface MeasuredCounters extends Counters {
  rssBefore: number;
  rssAfter: number;
}

export interface CpuReport {
  cpu: number;
  threadId: number;
  steps: number;
  records: TaskRecord[];
  cpuStats: Counters;
  idleStats: Counters;
  violations: Violation[];
  violationsDropped: number;
  latency: EncodedLatency;
  lockStat: LockClassStat[];
  trace: { events: TraceEvent[]; dropped: number } | null;
  error: RunError | null;
}

export interface RunResult {
  schema: typeof RESULT_SCHEMA;
  variant: string;
  workload: string;
  mode: RunConfig['mode'];
  seed: number;
  config: RunConfig;
  violations: Violation[];
  violationsDropped: number;
  counters: MeasuredCounters;
  totals: Counters;
  /** Measured operations per second of the run's clock (virtual in deterministic mode). */
  opsPerSec: number;
  /** The run's clock: real in parallel mode; virtual in deterministic mode (each busy cpu takes a step per microsecond). */
  clock: 'real' | 'virtual';
  /** Run length on that clock, in microseconds. */
  clockUs: number;
  latency: LatencyReport;
  /** lock_stat per lock class, merged over cpus. */
  lockStat: LockClassStat[];
  /** The Perfetto trace when one was recorded; written to its own file, never into the result JSON. */
  trace?: TraceFile;
  /** Deterministic: scheduler steps; parallel: steps summed over cpus. */
  steps: number;
  elapsedMs: number;
  /** Parallel: distinct worker threads that ran cpus, and the most cpus seen running at once. */
  threads: number;
  maxConcurrentCpus: number;
  error: RunError | null;
  /** Deterministic mode: the preemption points passed (`function:KIND`), and how often each was preempted. */
  preemptionPoints?: { point: string; passed: number; preempted: number }[];
}

export function assemble(config: RunConfig, reports: CpuReport[], finalViolations: Violation[], extra: { steps: number; elapsedMs: number; clockUs: number; maxConcurrentCpus: number; error: RunResult['error'] }): RunResult {
  const measured = newCounters();
  const totals = newCounters();
  let rssBefore = 0;
  let rssAfter = 0;
  let measuredAny = false;
  for (const r of reports) {
    addCounters(totals, r.cpuStats);
    addCounters(totals, r.idleStats);
    for (const rec of r.records) {
      addCounters(totals, rec.stats);
      if (rec.measured) {
        addCounters(measured, rec.measured);
        if (!measuredAny) rssBefore = rec.rssBefore;
        rssAfter = rec.rssAfter;
        measuredAny = true;
      }
    }
  }
  const violations = [...reports.flatMap((r) => r.violations), ...finalViolations];
  violations.sort((a, b) => a.step - b.step || a.cpu - b.cpu);
  const firstError = extra.error ?? reports.find((r) => r.error && r.error.name !== 'Poisoned')?.error ?? reports.find((r) => r.error)?.error ?? null;
  return {
    schema: RESULT_SCHEMA,
    variant: config.variant,
    workload: config.workload,
    mode: config.mode,
    seed: config.seed,
    config,
    violations,
    violationsDropped: reports.reduce((n, r) => n + r.violationsDropped, 0),
    counters: { ...measured, rssBefore, rssAfter },
    totals,
    opsPerSec: extra.clockUs > 0 ? Math.round((measured.ops / extra.clockUs) * 1e6 * 100) / 100 : 0,
    clock: config.mode === 'parallel' ? 'real' : 'virtual',
    clockUs: Math.round(extra.clockUs),
    latency: mergeLatency(reports.map((r) => r.latency)),
    lockStat: mergeLockStat(reports.map((r) => r.lockStat)),
    ...(config.traceLimit > 0
      ? { trace: mergeTrace(config.cpus, reports.flatMap((r) => (r.trace ? [r.trace] : [])), { variant: config.variant, workload: config.workload, seed: config.seed, mode: config.mode, clock: config.mode === 'parallel' ? 'real' : 'virtual (a step per busy cpu per µs)' }) }
      : {}),
    steps: extra.steps,
    elapsedMs: Math.round(extra.elapsedMs * 1000) / 1000,
    threads: new Set(reports.map((r) => r.threadId)).size,
    maxConcurrentCpus: extra.maxConcurrentCpus,
    error: firstError,
  };
}

export function errorOf(e: unknown, cpuStates?: () => string[]): RunError {
  if (e instanceof Error) return e.name === 'SoftLockup' && cpuStates ? { name: e.name, message: e.message, cpuStates: cpuStates() } : { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}
