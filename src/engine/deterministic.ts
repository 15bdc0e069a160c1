// The deterministic engine: one thread steps every cpu; a seeded scheduler
// picks which cpu takes the next step among those with something to do (a
// runnable task, a pending interrupt, an expired timer) and within the
// clocks' skew bound (clocks.ts). Each cpu keeps its own model clock, as in
// parallel mode; an idle cpu's clock moves to its next timer once no other
// cpu may act before it. The watchdog's clock is the old step clock: each cpu with work
// takes one step per µs on average. The strategy also decides preemptions
// of tasks and the timing of interrupts inside each cpu's step
// (strategy.ts). The same seed gives the same run, byte for byte.

import { HDR } from '../machine/layout.ts';
import { Step } from '../machine/step.ts';
import { mark } from '../machine/marks.ts';
import type { RunConfig } from '../machine/config.ts';
import type { Machine } from '../machine/layout.ts';
import type { TaskSpec } from '../workloads/workload.ts';
import { DecisionLog, makeChooser, recording, type Chooser, type RecordedSchedule, type SchedView } from './strategy.ts';
import { SoftLockup, StepLimit, modelAssert } from '../machine/errors.ts';
import { Oracle } from '../oracle/rules.ts';
import { checkQuiescent } from '../mm/syscall.ts';
import { bootMachine } from './boot.ts';
import { CpuRunner, type PointCount } from './runner.ts';
import { cpuStateDump } from './dump.ts';
import { assemble, errorOf, readTlbFlushEvents, type CpuReport, type RunResult } from './result.ts';
import { MinOfOthers, effectiveHoldNs, mayStep, skewBoundNs } from './clocks.ts';
import { FootprintRecorder, NO_FOOTPRINT, type Footprint } from './footprint.ts';

export const VIOLATION_RECORD_LIMIT = 100;

export interface DeterministicOptions {
  /** Decisions to follow first (from an artifact). */
  replay?: RecordedSchedule;
  /** Record every choice here. */
  record?: DecisionLog;
  /** Choose with this instead of the config's strategy (bounded exploration). */
  chooser?: Chooser;
  /** Checked between chunks of steps: true ends the run early with what it measured. */
  aborted?: () => boolean;
  /** Observe every cpu at every step and check the views kept for the cpus nobody changed are the same (tests). */
  checkViews?: boolean;
  /** Shown the machine once the run ended (tests compare what runs left). */
  inspect?: (m: Machine) => void;
}

/** Steps between two looks at the outside world (the event loop, a stop request). */
const CHUNK_STEPS = 65_536;

export function runDeterministic(config: RunConfig, opts: DeterministicOptions = {}): RunResult {
  const run = deterministicRun(config, opts);
  for (;;) {
    const r = run.next();
    if (r.done) return r.value;
  }
}

/** The same run, giving the event loop a turn every chunk, so Ctrl-C is heard and ends it with its results. */
export async function runDeterministicAsync(config: RunConfig, signal?: AbortSignal): Promise<RunResult> {
  const run = deterministicRun(config, { aborted: () => signal?.aborted === true });
  for (;;) {
    const r = run.next();
    if (r.done) return r.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

function* deterministicRun(config: RunConfig, opts: DeterministicOptions): Generator<void, RunResult, void> {
  const { m, tasks } = bootMachine(config);
  // a chooser that reads footprints gets one per step; the recorder is installed before any cpu's context takes the machine's memory
  const base = opts.chooser ?? makeChooser(config, tasks.length, opts.replay);
  const recorder = base.stepped ? new FootprintRecorder(m) : null;
  recorder?.install(m);
  try {
    return yield* runOn(config, opts, m, tasks, base, recorder);
  } finally {
    recorder?.uninstall(m);
  }
}

function* runOn(config: RunConfig, opts: DeterministicOptions, m: Machine, tasks: TaskSpec[], base: Chooser, recorder: FootprintRecorder | null): Generator<void, RunResult, void> {
  const t0 = performance.now();
  let steps = 0;
  /** The watchdog's clock, µs: a µs per step of each busy cpu. */
  let watchUs = 0;
  const runners: CpuRunner[] = [];
  const oracle = new Oracle(config.variant, config.seed, VIOLATION_RECORD_LIMIT, () => steps, () => Atomics.add(m.mem, HDR.VIOLATIONS, 1), (v) => runners[v.cpu]?.traceViolation(v));
  for (let cpu = 0; cpu < config.cpus; cpu++) runners.push(new CpuRunner(m, cpu, config, tasks, oracle, () => watchUs));
  // the cpus' horizons, each step (clocks.ts); one thread, so plain arrays rather than the shared region
  const actNs = new Float64Array(config.cpus);
  const holdNs = new Float64Array(config.cpus);
  const actMin = new MinOfOthers();
  const holdMin = new MinOfOthers();
  const boundNs = skewBoundNs(config);
  const bounded = boundNs !== Infinity;
  const chooser = opts.record ? recording(base, opts.record) : base;
  const view: SchedView = { nextTask: (cpu) => runners[cpu]!.nextTask(), preemptors: (cpu) => runners[cpu]!.preemptors() };
  chooser.attach?.(view);
  for (const r of runners) r.decideWith(chooser);
  /** The scheduler's part of the step being recorded, once its task's own part starts. */
  let schedPart: Footprint | null = null;
  if (recorder) {
    for (const r of runners) {
      r.taskStepStarts = () => {
        schedPart = recorder.end();
        recorder.begin();
      };
    }
  }
  /** The ready cpus, in an array of their number reused each step: resizing an array each step is a measurable cost. */
  const readyByLength = Array.from({ length: config.cpus + 1 }, (_, n) => new Array<number>(n).fill(0));
  let error: RunResult['error'] = null;
  /** The chooser ended the run: the rest is covered elsewhere, so the end-of-run checks do not apply. */
  let cutShort = false;
  /** The cpus to observe again: the one stepped and those another cpu changed (pv.ts); a view nobody changed stays as it was. */
  let changed = -1;
  /**
   * The cpus whose last step only waited and that nobody has kicked since
   * (runner.ts waitsForKick): another step of theirs would fail again, so
   * they are chosen only when no other cpu can step, as a spinning vCPU
   * whose lock holder runs elsewhere makes no progress either.
   */
  let parked = 0;
  let stepped = -1;
  /** From each cpu's last observe(): it has something to do now; it is idle or waits in user space, so its clock may follow the others' (followOthers). */
  let workMask = 0;
  let followMask = 0;
  const see = (r: CpuRunner): void => {
    r.observe();
    const v = r.seen;
    const bit = 1 << r.cpu;
    actNs[r.cpu] = v.actNs;
    workMask = v.work ? workMask | bit : workMask & ~bit;
    followMask = !v.busy || v.userWait ? followMask | bit : followMask & ~bit;
  };
  const allCpus = (1 << config.cpus) - 1;
  /** The ready cpus as a list, worked out again only when the set changes: most steps leave it as it was. */
  let readyCpus: number[] = [];
  let readyCpusMask = 0;
  try {
    for (;;) {
      const kicked = m.changedCpus;
      changed = (changed | kicked) & allCpus;
      parked &= ~kicked;
      m.changedCpus = 0;
      if (opts.checkViews) for (const r of runners) if ((changed & (1 << r.cpu)) === 0) checkView(r);
      for (let bits = changed; bits !== 0; bits &= bits - 1) see(runners[31 - Math.clz32(bits & -bits)]!);
      if (stepped >= 0 && (kicked & (1 << stepped)) === 0 && runners[stepped]!.waitsForKick()) parked |= 1 << stepped;
      changed = 0;
      const follows = followMask !== 0;
      if (follows) {
        actMin.take(actNs, config.cpus);
        for (let bits = followMask; bits !== 0; bits &= bits - 1) {
          const r = runners[31 - Math.clz32(bits & -bits)]!;
          if (r.followOthers(actMin.others(r.cpu))) see(r);
        }
      }
      let readyMask = workMask;
      if (bounded) {
        // the others' act horizons as they were before any clock above followed them
        if (!follows) actMin.take(actNs, config.cpus);
        for (const r of runners) holdNs[r.cpu] = effectiveHoldNs(r.seen.holdNs, r.seen.actNs, actMin.others(r.cpu));
        holdMin.take(holdNs, config.cpus); // a hunt has no bound: nobody is held
        for (let bits = workMask; bits !== 0; bits &= bits - 1) {
          const c = 31 - Math.clz32(bits & -bits);
          if (!mayStep(boundNs, runners[c]!.clockNs, runners[c]!.seen.waits, holdMin.others(c))) readyMask &= ~(1 << c);
        }
      }
      if ((readyMask & parked) !== 0 && (readyMask & ~parked) !== 0) {
        mark('parkedSpinnerPassedOver');
        readyMask &= ~parked;
      }
      if (readyMask === 0) {
        if (runners.every((r) => r.done)) break;
        throw new SoftLockup(-1, 'deterministic scheduler', 'every task is asleep and no timer is set: a deadlock');
      }
      if (steps >= config.maxSteps) throw new StepLimit(`cut short after ${steps} steps (--max-steps) with tasks still making progress: not a lockup`);
      if (steps % CHUNK_STEPS === 0 && steps > 0) {
        for (const r of runners) r.checkHungTasks(); // cpus with nothing to do are never stepped
        yield;
        if (opts.aborted?.()) {
          error = { name: 'Interrupted', message: `stopped by a signal after ${steps} steps; the results so far are kept` };
          break;
        }
      }
      if (readyMask !== readyCpusMask) {
        readyCpus = cpusIn(readyMask, readyByLength);
        readyCpusMask = readyMask;
      }
      const chosen = runners[readyCpus[chooser.choose(readyCpus, steps)]!]!;
      let cut = false;
      if (recorder) {
        schedPart = null;
        recorder.begin();
      }
      const kind = chosen.step();
      if (recorder) {
        const last = recorder.end();
        cut = schedPart === null ? base.stepped!(chosen.cpu, -1, last, NO_FOOTPRINT, chosen.timed) : base.stepped!(chosen.cpu, chosen.steppedTask, schedPart, last, chosen.timed);
      }
      changed |= 1 << chosen.cpu;
      parked &= ~(1 << chosen.cpu);
      stepped = chosen.cpu;
      if (kind === Step.SPIN || kind === Step.YIELD || kind === -1) chooser.waited?.(chosen.cpu, chosen.ctx.task);
      else if (chosen.polled) chooser.polled?.(chosen.cpu, chosen.ctx.task);
      steps++;
      watchUs += 1 / readyCpus.length;
      if (cut) {
        cutShort = true;
        break;
      }
    }
    if (!error && !cutShort) checkQuiescent(m.mem, m, oracle, 0);
    if (!cutShort) opts.inspect?.(m);
  } catch (e) {
    error = errorOf(e, () => cpuStateDump(m, config));
    if (e instanceof SoftLockup) oracle.report('SOFT_LOCKUP', { cpu: e.cpu, task: -1, mm: -1 }, e.message);
  }
  const reports: CpuReport[] = runners.map((r, i) => (i === 0 ? r.report(0, oracle.violations, oracle.dropped, null) : r.report(0, [], 0, null)));
  const elapsedMs = performance.now() - t0;
  const result = assemble(config, reports, [], { steps, elapsedMs, runMs: elapsedMs, maxConcurrentCpus: 1, error, tlbFlush: readTlbFlushEvents(m) });
  result.preemptionPoints = mergePoints(runners.flatMap((r) => r.preemptionPoints()));
  return result;
}

/** The cpus in `mask`, in order, in the array of their number from `byLength`. */
function cpusIn(mask: number, byLength: number[][]): number[] {
  let n = 0;
  for (let bits = mask; bits !== 0; bits &= bits - 1) n++;
  const list = byLength[n]!;
  let i = 0;
  for (let c = 0, bits = mask; bits !== 0; c++, bits >>>= 1) if ((bits & 1) !== 0) list[i++] = c;
  return list;
}

/** The view kept for a cpu nobody changed is the one it would observe now. */
function checkView(r: CpuRunner): void {
  const kept = JSON.stringify(r.seen);
  r.observe();
  modelAssert(JSON.stringify(r.seen) === kept, 'a cpu changed by another without a kick', () => `cpu ${r.cpu}: kept ${kept}, now ${JSON.stringify(r.seen)}`);
}

/** Every cpu's preemption points summed by point, in name order. */
function mergePoints(points: PointCount[]): PointCount[] {
  const by = new Map<string, PointCount>();
  for (const p of points) {
    const q = by.get(p.point);
    if (q) {
      q.passed += p.passed;
      q.preempted += p.preempted;
    } else {
      by.set(p.point, { ...p });
    }
  }
  return [...by.values()].sort((a, b) => a.point.localeCompare(b.point));
}
