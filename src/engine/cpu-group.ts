// Parallel mode when the simulated cpus outnumber the host's cores: each
// host thread runs a group of cpus (cpu c on thread c mod cores), one step
// of each in turn, all on the same SharedArrayBuffer as the other threads.
// A thread per cpu left the host to interleave them: a cpu waiting for a
// lock whose holder the host had descheduled could only block until the
// holder's thread got a core again, and nearly every hand-over of a lock
// went through a futex wake-up (page_fault1 with 8 cpus on 2 cores made
// 24,000 blocks in 1.3 s and kept the cores mostly idle). In a group, a cpu
// that waits for a group-mate lets it step at once. The thread blocks only
// when every cpu it runs waits (pv_wait, pv.ts): it arms each cpu's
// PV_WAIT_ON, looks once more at each, then blocks on its home cpu's word
// until a kick of any of them, or the shortest of their waits' timeouts.
// Model time is the cpus' own, as with a thread per cpu: each publishes its
// horizons after every step, a cpu more than the skew bound ahead of the
// others is not stepped until they catch up, and an idle cpu's clock
// follows the others' to its next timer (clocks.ts). Every wait is timed,
// every block and slice looks at the poison and stop words, a failure
// poisons the machine, and every cpu's heartbeat beats while its thread
// does.

import { threadId } from 'node:worker_threads';
import { CPU_FIELD, HDR, Machine } from '../machine/layout.ts';
import { Step } from '../machine/step.ts';
import { Poisoned, SoftLockup, modelAssert } from '../machine/errors.ts';
import { Oracle } from '../oracle/rules.ts';
import { CpuRunner } from './runner.ts';
import { cpuStateDump } from './dump.ts';
import { errorOf, type CpuReport } from './result.ts';
import { VIOLATION_RECORD_LIMIT } from './deterministic.ts';
import { ClockBoard, skewBoundNs } from './clocks.ts';
import { kickAll, kickCount, kickedSince, pvArm, pvBlock, pvDisarm, pvShareThread, waitWordOf } from '../sync/pv.ts';
import { IDLE_WAIT_MS, PV_IDLE_BLOCK_MS, PV_SPIN_BLOCK_MS, PV_SPIN_THRESHOLD, SKEW_CHECK_STEPS, SKEW_WAIT_MS, SLICE_STEPS, STEAL_GAP_MS, noteRunning, waitForAllCpus, type CpuJob } from './cpu-loop.ts';

/** What a cpu's turn came to: it stepped on (RAN), it is done for the run (FINISHED), or it waits and its thread may block this long (ms). */
const RAN = 0;
const FINISHED = -1;

/** A cpu of the group and what its turns keep. */
interface Member {
  readonly cpu: number;
  readonly r: CpuRunner;
  finished: boolean;
  /** More than the skew bound ahead of the others when last looked: not stepped until they catch up. */
  ahead: boolean;
  /** performance.now() when it first found itself ahead, for the skew wait's lockup limit. */
  aheadSinceMs: number;
  /** The others' hold horizon plus the bound, when last read: a clock past it looks again. */
  skewLimitNs: number;
  /** Idle (no task to run): a thread whose cpus are all idle blocks at once. */
  idle: boolean;
}

export async function runCpuGroup(job: CpuJob): Promise<CpuReport[]> {
  const m = Machine.attach(job.sab, job.size);
  const mem = m.mem;
  const home = job.cpus[0]!;
  pvShareThread(m, job.cpus);
  const offsetMs = performance.timeOrigin - job.startEpochMs;
  const hostNowUs = (): number => (performance.now() + offsetMs) * 1000;
  let runStartUs = 0;
  const watchNow = (): number => hostNowUs() - runStartUs;
  const members: Member[] = [];
  const oracle = new Oracle(job.config.variant, job.config.seed, VIOLATION_RECORD_LIMIT, () => -1, () => Atomics.add(mem, HDR.VIOLATIONS, 1), (v) => members.find((mb) => mb.cpu === v.cpu)?.r.traceViolation(v));
  for (const cpu of job.cpus) members.push({ cpu, r: new CpuRunner(m, cpu, job.config, job.tasks, oracle, watchNow), finished: false, ahead: false, aheadSinceMs: 0, skewLimitNs: -Infinity, idle: false });
  const boundNs = skewBoundNs(job.config);
  const bounded = boundNs !== Infinity;
  const board = new ClockBoard(m, boundNs);
  let error: CpuReport['error'] = null;
  let stealMs = 0;
  let lookedMs = 0;
  let blocks = 0;
  let armed = false;
  let kickSeq = 0;

  const publish = (mb: Member, kicksBefore?: number): void => {
    const r = mb.r;
    r.observe();
    const v = r.seen;
    const holdNs = kicksBefore !== undefined && !Number.isFinite(v.holdNs) && kickedSince(m, mb.cpu, kicksBefore) ? v.actNs : v.holdNs;
    board.publish(mb.cpu, v.actNs, holdNs, v.userWait ? r.clockNs : NaN);
  };
  const beat = (): void => {
    for (const mb of members) Atomics.add(mem, m.cpu(mb.cpu, CPU_FIELD.HEARTBEAT), 1);
  };
  const leave = (mb: Member): void => {
    mb.finished = true;
    board.publish(mb.cpu, Infinity, Infinity); // gone: it holds nobody back and makes no event
    Atomics.sub(mem, HDR.CPUS_RUNNING, 1);
    Atomics.store(mem, m.cpu(mb.cpu, CPU_FIELD.LOOP_DONE), 1);
  };
  /** pv_wait's first half for the whole thread: the kick count to block on, then what each cpu waits for. */
  const arm = (): void => {
    kickSeq = pvArm(m, home, waitWordOf(m, home));
    for (const mb of members) if (mb.cpu !== home && !mb.finished) pvArm(m, mb.cpu, waitWordOf(m, mb.cpu));
    armed = true;
  };
  const disarm = (): void => {
    if (!armed) return;
    for (const mb of members) pvDisarm(m, mb.cpu);
    armed = false;
  };
  const block = (ms: number): void => {
    blocks++;
    pvBlock(m, home, kickSeq, ms);
    disarm();
    beat();
    lookedMs = performance.now(); // our own wait is not steal
  };

  /** The skew bound: whether the cpu must let the others catch up before its next step (an interrupt waiting for it never must). */
  const staysAhead = (mb: Member): boolean => {
    const r = mb.r;
    const othersHoldNs = board.othersHoldNs(mb.cpu);
    mb.skewLimitNs = othersHoldNs + boundNs;
    if (board.mayStep(r.clockNs, r.seen.waits, othersHoldNs) || m.stopped || r.hasPendingIpi()) {
      mb.ahead = false;
      return false;
    }
    if (!mb.ahead) {
      mb.ahead = true;
      mb.aheadSinceMs = performance.now();
    } else if (performance.now() - mb.aheadSinceMs > job.config.lockupMs) {
      throw new SoftLockup(mb.cpu, 'clock skew wait', `the other cpus' clocks stayed more than the skew bound behind for ${job.config.lockupMs} ms (this cpu at ${Math.round(r.clockNs)} ns, the others' horizons ${board.horizonsText()})`);
    }
    return true;
  };
  const skewCheckDue = (mb: Member, round: number): boolean => bounded && (mb.r.clockNs > mb.skewLimitNs || (round & (SKEW_CHECK_STEPS - 1)) === 0);

  /** One turn of a cpu: at most one step, and what it came to. */
  const turn = (mb: Member, round: number): number => {
    const r = mb.r;
    mb.idle = false;
    if (mb.ahead && staysAhead(mb)) return SKEW_WAIT_MS;
    const kicks = kickCount(m, mb.cpu);
    const kind = r.step();
    publish(mb, kicks);
    if (kind === Step.SPIN || kind === Step.YIELD) {
      if (kind === Step.YIELD && r.followOthers(board.othersActNs(mb.cpu))) publish(mb);
      // a yield that switched to another task of this cpu cost a context switch: its clock moved, so the bound applies
      if (kind === Step.YIELD && skewCheckDue(mb, round)) staysAhead(mb);
      return kind === Step.SPIN ? PV_SPIN_BLOCK_MS : IDLE_WAIT_MS;
    }
    if (kind === -1 && !r.busy) {
      if (r.done && Atomics.load(mem, HDR.LIVE_TASKS) === 0) {
        r.step(); // a last look at the mailbox
        leave(mb);
        return FINISHED;
      }
      if (r.followOthers(board.othersActNs(mb.cpu))) publish(mb);
      if (r.seen.work) return RAN; // an interrupt, or a timer that came due as the clock followed the others
      mb.idle = true;
      return Number.isFinite(r.seen.actNs) ? IDLE_WAIT_MS : PV_IDLE_BLOCK_MS;
    }
    if (skewCheckDue(mb, round)) staysAhead(mb);
    return RAN;
  };

  try {
    for (const mb of members) publish(mb);
    runStartUs = waitForAllCpus(mem, job.config.cpus, hostNowUs, members.length);
    noteRunning(mem, members.length);
    lookedMs = performance.now();
    /** Looks since any cpu of the group last stepped on: the thread arms after PV_SPIN_THRESHOLD of them, as a lone waiter does. */
    let waitedLooks = 0;
    outer: for (;;) {
      for (let round = 0; round < SLICE_STEPS; round++) {
        let ran = false;
        let live = 0;
        let allIdle = true;
        let timeoutMs = Infinity;
        for (const mb of members) {
          if (mb.finished) continue;
          const t = turn(mb, round);
          if (t === FINISHED) continue;
          live++;
          if (t === RAN) ran = true;
          else timeoutMs = Math.min(timeoutMs, t);
          if (!mb.idle) allIdle = false;
        }
        if (live === 0) break outer;
        if ((round & (SKEW_CHECK_STEPS - 1)) === 0) {
          const t = performance.now();
          if (t - lookedMs > STEAL_GAP_MS) stealMs += t - lookedMs;
          lookedMs = t;
        }
        if (ran) {
          disarm();
          waitedLooks = 0;
          continue;
        }
        if (m.stopped) break; // an idle slice can last seconds: look at the poison and stop words now
        if (armed) block(timeoutMs);
        else if (allIdle || (waitedLooks += live) >= PV_SPIN_THRESHOLD) arm(); // then one more look at each before blocking
      }
      beat();
      if (m.poisoned) throw new Poisoned(`cpus ${job.cpus.join(', ')} stopped: another cpu failed`);
      if (m.stopped) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } catch (e) {
    error = errorOf(e, () => cpuStateDump(m, job.config));
    if (e instanceof SoftLockup) oracle.report('SOFT_LOCKUP', { cpu: e.cpu, task: -1, mm: -1 }, e.message);
    if (!(e instanceof Poisoned)) {
      Atomics.store(mem, HDR.POISON, home + 1);
      kickAll(m);
    }
  } finally {
    disarm();
    for (const mb of members) if (!mb.finished) leave(mb);
  }
  modelAssert(members.length > 0, 'a thread with no cpu', () => `cpus ${job.cpus.join(', ')}`);
  return members.map((mb, i) => ({
    ...mb.r.report(threadId, i === 0 ? oracle.violations : [], i === 0 ? oracle.dropped : 0, error),
    hostStealMs: i === 0 ? stealMs : 0,
    hostBlocks: i === 0 ? blocks : 0,
  }));
}
