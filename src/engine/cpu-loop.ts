// A cpu's loop in parallel mode when the simulated cpus fit on the host's
// cores: one cpu per worker thread (when they do not, a thread runs a group
// of them: cpu-group.ts). A waiting cpu (a spin, a user-space wait, idle)
// keeps looking for SPIN_BEFORE_WAIT_MS of host time, then gives the core
// away in short timed waits on its own interrupt word, which an IPI, a
// wake-up or a release ends (pv.ts kicks). Why look that long: a thread
// that waited is woken by the host's futex, which on a VM whose vcpu went
// idle takes tens of µs; looking for 1 ms cut an IPI's host send-to-ack p50
// (2 cpus, mix) from 34-38 to 7-20 µs with the host ops/s unchanged. Why
// not block until kicked, as a group does: with 2 cpus on 2 cores, which cpu
// takes a lock first inside the skew bound depends more on the host then
// (legacy's longest section under full preemption came out between 9.3 and
// 21.0 µs over twenty runs, against 16.2 to 17.0 with these waits); and
// spinning without ever waiting ran mix at half the host ops/s (the main
// thread, the JIT and the collector need the cores too). Every wait is
// timed: an idle cpu with a timer, or a user-space
// waiter, looks every IDLE_WAIT_MS (the others' clocks move without telling
// it). The loop yields to the worker's event loop between slices, and every
// slice checks the poison and stop words. A failure here poisons the
// machine so every other cpu stops. A heartbeat word lets the main thread's
// watchdog see a cpu that stopped making steps.
// Model time: the cpu publishes its horizons after every step, an idle cpu
// (or a task in a user-space wait) moves its clock to its next timer once no
// other cpu may act before it, and a running cpu more than the clock skew
// bound ahead of the others waits for them (clocks.ts); the host's time is
// used only for the watchdog and for the host figures: elapsed time and
// steal, the gaps between two looks at the clock longer than STEAL_GAP_MS
// that no wait of ours explains.

import { threadId } from 'node:worker_threads';
import { CPU_FIELD, HDR, Machine, type LayoutSize } from '../machine/layout.ts';
import type { RunConfig } from '../machine/config.ts';
import { Step } from '../machine/step.ts';
import { Poisoned, SoftLockup } from '../machine/errors.ts';
import { Oracle } from '../oracle/rules.ts';
import type { TaskSpec } from '../workloads/workload.ts';
import { CpuRunner } from './runner.ts';
import { cpuStateDump } from './dump.ts';
import { errorOf, type CpuReport } from './result.ts';
import { VIOLATION_RECORD_LIMIT } from './deterministic.ts';
import { ClockBoard, skewBoundNs } from './clocks.ts';
import { kickAll, kickCount, kickedSince } from '../sync/pv.ts';

export interface CpuJob {
  sab: SharedArrayBuffer;
  size: LayoutSize;
  config: RunConfig;
  tasks: TaskSpec[];
  /** The cpus this thread runs: one, or a group when the cpus outnumber the host's cores (`grouped`). */
  cpus: number[];
  grouped: boolean;
  /** performance.timeOrigin + now() of the main thread when the run began, so every cpu shares one clock. */
  startEpochMs: number;
}

export const SLICE_STEPS = 4096;
/** Cpus that fit the host's cores: a waiting cpu looks again at every step for this long (host time), */
const SPIN_BEFORE_WAIT_MS = 1;
/** then waits on its interrupt word this long at a time; an IPI or a wake-up on this cpu's word ends the wait. */
const SPIN_WAIT_MS = 0.1;
/** A cpu ahead of the others spins this many looks before it waits. */
const SKEW_SPINS = 64;
/** An idle cpu (with a timer, when blocked), or a user-space waiter, looks at the others' clocks this often: they move without telling it. */
export const IDLE_WAIT_MS = 0.05;
/** A cpu ahead of the others looks at their clocks this often once it waits: nobody tells it when they move. */
export const SKEW_WAIT_MS = 0.02;
/** How long the first worker thread waits for the last to start: loading TypeScript on a busy host takes seconds. */
export const START_BARRIER_MS = 30_000;
/** Steps between two looks at the other cpus' clocks (the skew bound) and at the host's (steal). */
export const SKEW_CHECK_STEPS = 16;
/** A gap in a worker's steps longer than this, not spent in a wait of ours, is the host's (steal). */
export const STEAL_GAP_MS = 1;

/**
 * The start barrier: every cpu waits for the last worker thread to load.
 * The last to arrive records the moment in RUN_START_US, and every cpu's
 * clock counts from it, so worker start-up (seconds on a busy host) is not
 * run time. Returns that moment, in µs of the main thread's clock.
 */
export function waitForAllCpus(mem: Int32Array, cpus: number, hostNowUs: () => number, started = 1): number {
  if (Atomics.add(mem, HDR.CPUS_STARTED, started) + started === cpus) {
    Atomics.store(mem, HDR.RUN_START_US, Math.max(1, Math.round(hostNowUs())));
    Atomics.notify(mem, HDR.RUN_START_US);
  }
  Atomics.notify(mem, HDR.CPUS_STARTED);
  const deadline = performance.now() + START_BARRIER_MS;
  for (;;) {
    const startUs = Atomics.load(mem, HDR.RUN_START_US);
    if (startUs !== 0) return startUs;
    if (Atomics.load(mem, HDR.POISON) !== 0) throw new Poisoned('another cpu failed before the start');
    if (performance.now() > deadline) throw new Error(`only ${Atomics.load(mem, HDR.CPUS_STARTED)} of ${cpus} cpus started within ${START_BARRIER_MS} ms`);
    Atomics.wait(mem, HDR.RUN_START_US, 0, 50);
  }
}

export function noteRunning(mem: Int32Array, cpus = 1): void {
  const now = Atomics.add(mem, HDR.CPUS_RUNNING, cpus) + cpus;
  for (;;) {
    const max = Atomics.load(mem, HDR.CPUS_CONCURRENT_MAX);
    if (now <= max || Atomics.compareExchange(mem, HDR.CPUS_CONCURRENT_MAX, max, now) === max) return;
  }
}

/** The cpu's horizons after a look (clocks.ts). `kicksBefore`: the kick count before its step; a waiter kicked since holds at its act horizon (pv.ts kickedSince). */
export function publishHorizons(m: Machine, board: ClockBoard, r: CpuRunner, kicksBefore?: number): void {
  r.observe();
  const v = r.seen;
  const holdNs = kicksBefore !== undefined && !Number.isFinite(v.holdNs) && kickedSince(m, r.cpu, kicksBefore) ? v.actNs : v.holdNs;
  board.publish(r.cpu, v.actNs, holdNs, v.userWait ? r.clockNs : NaN);
}

/** A cpu held by the skew bound for the whole lockup limit. */
export function skewLockup(r: CpuRunner, board: ClockBoard, lockupMs: number): SoftLockup {
  return new SoftLockup(r.cpu, 'clock skew wait', `the other cpus' clocks stayed more than the skew bound behind for ${lockupMs} ms (this cpu at ${Math.round(r.clockNs)} ns, the others' horizons ${board.horizonsText()})`);
}

/** A worker thread's one cpu (a group's loop is cpu-group.ts). */
export async function runCpu(job: CpuJob): Promise<CpuReport> {
  const cpu = job.cpus[0]!;
  const m = Machine.attach(job.sab, job.size);
  const mem = m.mem;
  const offsetMs = performance.timeOrigin - job.startEpochMs;
  const hostNowUs = (): number => (performance.now() + offsetMs) * 1000;
  let runStartUs = 0;
  const watchNow = (): number => hostNowUs() - runStartUs;
  let runner: CpuRunner | undefined;
  const oracle = new Oracle(job.config.variant, job.config.seed, VIOLATION_RECORD_LIMIT, () => -1, () => Atomics.add(mem, HDR.VIOLATIONS, 1), (v) => runner?.traceViolation(v));
  runner = new CpuRunner(m, cpu, job.config, job.tasks, oracle, watchNow);
  const r = runner;
  const boundNs = skewBoundNs(job.config);
  const bounded = boundNs !== Infinity;
  const board = new ClockBoard(m, boundNs);
  const heartbeatAt = m.cpu(cpu, CPU_FIELD.HEARTBEAT);
  const pendingAt = m.cpu(cpu, CPU_FIELD.IPI_PENDING);
  let error: CpuReport['error'] = null;
  let stealMs = 0;
  let lookedMs = 0;
  /** Our own waits are not steal: the next look at the host clock starts after them. */
  const waitOnOwnWord = (ms: number): void => {
    Atomics.wait(mem, pendingAt, 0, ms);
    lookedMs = performance.now();
  };
  /** `kicksBefore`: the kick count before the step; a waiter kicked since holds at its act horizon (pv.ts kickedSince). */
  const publish = (kicksBefore?: number): void => publishHorizons(m, board, r, kicksBefore);
  /**
   * The skew bound: wait while this cpu is too far ahead, unless an interrupt
   * waits for it. Reading every other cpu's line costs cache misses, so the
   * limit is kept (`skewLimitNs`) and read again when the clock passes it,
   * or every SKEW_CHECK_STEPS steps, since a limit can also come down (an
   * idle cpu whose timer becomes the lowest).
   */
  let skewLimitNs = -Infinity;
  const skewCheckDue = (i: number): boolean => bounded && (r.clockNs > skewLimitNs || (i & (SKEW_CHECK_STEPS - 1)) === 0);
  const waitForSlowerCpus = (): void => {
    const limitMs = performance.now() + job.config.lockupMs;
    for (let n = 0; ; n++) {
      const othersHoldNs = board.othersHoldNs(cpu);
      skewLimitNs = othersHoldNs + boundNs;
      if (board.mayStep(r.clockNs, r.seen.waits, othersHoldNs) || m.stopped || r.hasPendingIpi()) return;
      if (n < SKEW_SPINS) continue;
      if (performance.now() > limitMs) throw skewLockup(r, board, job.config.lockupMs);
      waitOnOwnWord(SKEW_WAIT_MS);
    }
  };
  try {
    publish();
    runStartUs = waitForAllCpus(mem, job.config.cpus, hostNowUs);
    noteRunning(mem);
    lookedMs = performance.now();
    /** When the cpu's current wait began (host ms), or -1 while it makes progress. */
    let waitingSinceMs = -1;
    /** Look again at once while the wait is young; later give the core away for `ms`. */
    const waitAfterSpinning = (ms: number): void => {
      const now = performance.now();
      if (waitingSinceMs < 0) waitingSinceMs = now;
      else if (now - waitingSinceMs > SPIN_BEFORE_WAIT_MS) waitOnOwnWord(ms);
    };
    outer: for (;;) {
      for (let i = 0; i < SLICE_STEPS; i++) {
        const kicks = kickCount(m, cpu);
        const kind = r.step();
        publish(kicks);
        if ((i & (SKEW_CHECK_STEPS - 1)) === 0) {
          const t = performance.now();
          if (t - lookedMs > STEAL_GAP_MS) stealMs += t - lookedMs;
          lookedMs = t;
        }
        if (kind === Step.SPIN || kind === Step.YIELD || kind === Step.SLEEP) {
          if (kind === Step.YIELD && r.followOthers(board.othersActNs(cpu))) publish();
          // a yield that switched to another task of this cpu cost a context switch: its clock moved, so the bound applies
          if (kind === Step.YIELD && skewCheckDue(i)) waitForSlowerCpus();
          waitAfterSpinning(SPIN_WAIT_MS);
          continue;
        }
        if (kind === -1 && !r.busy) {
          if (r.done && Atomics.load(mem, HDR.LIVE_TASKS) === 0) {
            r.step(); // a last look at the mailbox
            break outer;
          }
          if (r.followOthers(board.othersActNs(cpu))) publish();
          if (r.seen.work) continue; // an interrupt, or a timer that came due as the clock followed the others
          waitAfterSpinning(IDLE_WAIT_MS);
          Atomics.add(mem, heartbeatAt, 1);
          if (m.stopped) break; // an idle slice can last seconds: look at the poison and stop words now
          continue;
        }
        waitingSinceMs = -1;
        if (skewCheckDue(i)) waitForSlowerCpus();
      }
      Atomics.add(mem, heartbeatAt, 1);
      if (m.poisoned) throw new Poisoned(`cpu ${cpu} stopped: another cpu failed`);
      if (m.stopped) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } catch (e) {
    error = errorOf(e, () => cpuStateDump(m, job.config));
    if (e instanceof SoftLockup) oracle.report('SOFT_LOCKUP', { cpu, task: runner.ctx.task, mm: runner.ctx.mm }, e.message);
    if (!(e instanceof Poisoned)) {
      Atomics.store(mem, HDR.POISON, cpu + 1);
      kickAll(m);
    }
  } finally {
    board.publish(cpu, Infinity, Infinity); // gone: it holds nobody back and makes no event
    Atomics.sub(mem, HDR.CPUS_RUNNING, 1);
    Atomics.store(mem, m.cpu(cpu, CPU_FIELD.LOOP_DONE), 1);
  }
  return { ...r.report(threadId, oracle.violations, oracle.dropped, error), hostStealMs: stealMs, hostBlocks: 0 };
}
