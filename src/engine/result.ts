// The result of a run, as written to JSON (schema 3) and summarised on the
// terminal. Counters of the measured operation are exact; totals cover every
// task and every cpu's interrupt work. Every time is model time (the cpus'
// clocks, in both modes), except the `host` figures, which say how the host
// ran the model.

import { availableParallelism } from 'node:os';
import type { RunConfig } from '../machine/config.ts';
import { HDR, TLB_FLUSH_EVENTS_MAX, TLB_FLUSH_EVENT_WORDS, TLB_FLUSH_REASON_NAMES, type Machine } from '../machine/layout.ts';
import { newCounters, addCounters, type Counters } from '../stats/counters.ts';
import type { Violation } from '../oracle/rules.ts';
import { mergeHostIpiAckWait, mergeLatency, type EncodedLatency, type LatencyReport } from '../stats/latency.ts';
import type { HistSummary } from '../stats/histogram.ts';
import { mergeLockStat, type LockClassStat } from '../stats/lockstat.ts';
import { mergeTrace, type TraceEvent, type TraceFile } from '../stats/trace.ts';
import type { TaskRecord } from '../workloads/workload.ts';

export const RESULT_SCHEMA = 3;

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
  /** The model time of the cpu's last step of a user task, ns. */
  activeUntilNs: number;
  /** Parallel mode: host time this cpu's worker lost to the host's scheduler, ms. */
  hostStealMs?: number;
  /** Parallel mode: times this cpu's thread blocked in pv_wait (src/sync/pv.ts). */
  hostBlocks?: number;
}

/** How the host ran the model: wall-clock figures, never model ones. */
export interface HostFigures {
  /** The whole run, worker start-up included. */
  elapsedMs: number;
  /** Parallel: from the start barrier to the end; deterministic: as elapsedMs. */
  runMs: number;
  /** Measured operations per host second of runMs. */
  opsPerSec: number;
  /** Parallel: time the worker threads lost to host descheduling (gaps between a worker's steps over STEAL_GAP_MS that no wait of its own explains), summed over cpus. */
  stealMs: number;
  /** The host's cores (os.availableParallelism). */
  cores: number;
  /** Parallel: IPI send to last ack in host time (ns), what the worker threads make of a shootdown. */
  ipiAckWait: HistSummary | null;
  /** Parallel: host time the tasks spent inside measured operations, summed over tasks, ms (null in deterministic mode). */
  opTimeMs: number | null;
  /** Parallel: times a cpu's thread blocked waiting (pv_wait), summed over cpus. */
  blocks: number;
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
  /** Measured operations per model second. */
  opsPerSec: number;
  /** Every time in the result is model time: the cpus' clocks, advanced by the cost table (config.costs). */
  clock: 'model';
  /** Run length in model time, µs: to the last step of a user task on any cpu. */
  clockUs: number;
  host: HostFigures;
  latency: LatencyReport;
  /** lock_stat per lock class, merged over cpus. */
  lockStat: LockClassStat[];
  /** The Perfetto trace when one was recorded; written to its own file, never into the result JSON. */
  trace?: TraceFile;
  /** Deterministic: scheduler steps; parallel: steps summed over cpus. */
  steps: number;
  /** Parallel: distinct worker threads that ran cpus, and the most cpus seen running at once. */
  threads: number;
  maxConcurrentCpus: number;
  error: RunError | null;
  /** Every tlb:tlb_flush event of the run in the order emitted (the first TLB_FLUSH_EVENTS_MAX), with the kernel's reason numbers; pages -1 is TLB_FLUSH_ALL. */
  tlbFlushEvents: TlbFlushEvent[];
  tlbFlushEventsDropped: number;
  /** The events [from, to) emitted from the start of the first measured operation to the end of the last, or null when none was measured. */
  tlbFlushEventsMeasured: { from: number; to: number } | null;
  /** Deterministic mode: the preemption points passed (`function:KIND`), and how often each was preempted. */
  preemptionPoints?: { point: string; passed: number; preempted: number }[];
}

export interface TlbFlushEvent {
  reason: number;
  pages: number;
}

/** The tlbFlushEvents region as the run left it. */
export function readTlbFlushEvents(m: Machine): { events: TlbFlushEvent[]; dropped: number } {
  const emitted = Atomics.load(m.mem, HDR.TLB_FLUSH_EVENTS);
  const kept = Math.min(emitted, TLB_FLUSH_EVENTS_MAX);
  const events: TlbFlushEvent[] = [];
  for (let i = 0; i < kept; i++) {
    const at = m.tlbFlushEventsBase + i * TLB_FLUSH_EVENT_WORDS;
    events.push({ reason: m.mem[at]!, pages: m.mem[at + 1]! });
  }
  return { events, dropped: emitted - kept };
}

/** Events per reason, by reason number. */
export function tlbFlushReasonCounts(events: readonly TlbFlushEvent[]): number[] {
  const counts = TLB_FLUSH_REASON_NAMES.map(() => 0);
  for (const e of events) counts[e.reason] = (counts[e.reason] ?? 0) + 1;
  return counts;
}

function measuredWindow(reports: CpuReport[]): RunResult['tlbFlushEventsMeasured'] {
  const recs = reports.flatMap((r) => r.records).filter((rec) => rec.tlbFlushEventsFrom >= 0);
  if (recs.length === 0) return null;
  return { from: Math.min(...recs.map((r) => r.tlbFlushEventsFrom)), to: Math.max(...recs.map((r) => r.tlbFlushEventsTo)) };
}

export function assemble(
  config: RunConfig,
  reports: CpuReport[],
  finalViolations: Violation[],
  extra: { steps: number; elapsedMs: number; runMs: number; maxConcurrentCpus: number; error: RunResult['error']; tlbFlush: { events: TlbFlushEvent[]; dropped: number } },
): RunResult {
  const clockUs = Math.max(0, ...reports.map((r) => r.activeUntilNs)) / 1000;
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
        addCounters(totals, rec.measured);
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
    opsPerSec: perSecond(measured.ops, clockUs / 1000),
    clock: 'model',
    clockUs: Math.round(clockUs * 1000) / 1000,
    host: {
      elapsedMs: Math.round(extra.elapsedMs * 1000) / 1000,
      runMs: Math.round(extra.runMs * 1000) / 1000,
      opsPerSec: perSecond(measured.ops, extra.runMs),
      stealMs: Math.round(reports.reduce((n, r) => n + (r.hostStealMs ?? 0), 0) * 1000) / 1000,
      cores: availableParallelism(),
      ipiAckWait: config.mode === 'parallel' ? mergeHostIpiAckWait(reports.map((r) => r.latency)) : null,
      blocks: reports.reduce((n, r) => n + (r.hostBlocks ?? 0), 0),
      opTimeMs: config.mode === 'parallel' ? Math.round(reports.reduce((n, r) => n + r.latency.hostOpTimeUs, 0)) / 1000 : null,
    },
    latency: mergeLatency(reports.map((r) => r.latency)),
    lockStat: mergeLockStat(reports.map((r) => r.lockStat)),
    ...(config.traceLimit > 0
      ? { trace: mergeTrace(config.cpus, reports.flatMap((r) => (r.trace ? [r.trace] : [])), { variant: config.variant, workload: config.workload, seed: config.seed, mode: config.mode, clock: 'model' }) }
      : {}),
    steps: extra.steps,
    threads: new Set(reports.map((r) => r.threadId)).size,
    maxConcurrentCpus: extra.maxConcurrentCpus,
    error: firstError,
    tlbFlushEvents: extra.tlbFlush.events,
    tlbFlushEventsDropped: extra.tlbFlush.dropped,
    tlbFlushEventsMeasured: measuredWindow(reports),
  };
}

/** The run with its host figures zeroed: what a replay writes, so two replays are byte-identical. */
export function withoutHostFigures(r: RunResult): RunResult {
  return { ...r, host: { elapsedMs: 0, runMs: 0, opsPerSec: 0, stealMs: 0, cores: 0, ipiAckWait: null, opTimeMs: null, blocks: 0 } };
}

function perSecond(n: number, ms: number): number {
  return ms > 0 ? Math.round((n / ms) * 1000 * 100) / 100 : 0;
}

export function errorOf(e: unknown, cpuStates?: () => string[]): RunError {
  if (e instanceof Error) return e.name === 'SoftLockup' && cpuStates ? { name: e.name, message: e.message, cpuStates: cpuStates() } : { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}
