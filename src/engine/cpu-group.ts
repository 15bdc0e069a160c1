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
import { kickAll, kickCount, pvArm, pvBlock, pvDisarm, pvShareThread, waitWordOf } from '../sync/pv.ts';
import { IDLE_WAIT_MS, SKEW_CHECK_STEPS, SKEW_WAIT_MS, SLICE_STEPS, STEAL_GAP_MS, noteRunning, publishHorizons, skewLockup, waitForAllCpus, type CpuJob } from './cpu-loop.ts';

/** A thread whose cpus all wait looks this many times, then blocks until kicked (pv_wait). */
const PV_SPIN_THRESHOLD = 64;
/** A blocked spinner looks again after this long unkicked: a bound, not a poll. */
const PV_SPIN_BLOCK_MS = 1;
/** A blocked idle cpu with no timer is woken by a kick; it looks at the stop word this often. */
const PV_IDLE_BLOCK_MS = 10;

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
  return new CpuGroup(job).run();
}

class CpuGroup {
  private readonly m: Machine;
  private readonly mem: Int32Array;
  /** The cpu whose THREAD_KICK word the thread blocks on (pv.ts). */
  private readonly home: number;
  private readonly members: Member[] = [];
  private readonly oracle: Oracle;
  private readonly boundNs: number;
  private readonly bounded: boolean;
  private readonly board: ClockBoard;
  private readonly hostNowUs: () => number;
  private runStartUs = 0;
  private stealMs = 0;
  private lookedMs = 0;
  private blocks = 0;
  private armed = false;
  private kickSeq = 0;
  /** The cpu whose turn it is: the one a failure is laid to. */
  private current: number;

  constructor(private readonly job: CpuJob) {
    this.m = Machine.attach(job.sab, job.size);
    this.mem = this.m.mem;
    modelAssert(job.cpus.length > 0, 'a thread with no cpu', () => 'an empty group');
    this.home = job.cpus[0]!;
    this.current = this.home;
    pvShareThread(this.m, job.cpus);
    const offsetMs = performance.timeOrigin - job.startEpochMs;
    this.hostNowUs = (): number => (performance.now() + offsetMs) * 1000;
    const watchNow = (): number => this.hostNowUs() - this.runStartUs;
    this.oracle = new Oracle(job.config.variant, job.config.seed, VIOLATION_RECORD_LIMIT, () => -1, () => Atomics.add(this.mem, HDR.VIOLATIONS, 1), (v) => this.members.find((mb) => mb.cpu === v.cpu)?.r.traceViolation(v));
    for (const cpu of job.cpus) this.members.push({ cpu, r: new CpuRunner(this.m, cpu, job.config, job.tasks, this.oracle, watchNow), finished: false, ahead: false, aheadSinceMs: 0, skewLimitNs: -Infinity, idle: false });
    this.boundNs = skewBoundNs(job.config);
    this.bounded = this.boundNs !== Infinity;
    this.board = new ClockBoard(this.m, this.boundNs);
  }

  async run(): Promise<CpuReport[]> {
    const { m, mem, job } = this;
    let error: CpuReport['error'] = null;
    try {
      for (const mb of this.members) this.publish(mb);
      this.runStartUs = waitForAllCpus(mem, job.config.cpus, this.hostNowUs, this.members.length);
      noteRunning(mem, this.members.length);
      this.lookedMs = performance.now();
      for (;;) {
        if (!this.slice()) break;
        this.beat();
        if (m.poisoned) throw new Poisoned(`cpus ${job.cpus.join(', ')} stopped: another cpu failed`);
        if (m.stopped) break;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (e) {
      error = errorOf(e, () => cpuStateDump(m, job.config));
      if (e instanceof SoftLockup) this.oracle.report('SOFT_LOCKUP', { cpu: e.cpu, task: -1, mm: -1 }, e.message);
      if (!(e instanceof Poisoned)) {
        Atomics.store(mem, HDR.POISON, this.current + 1);
        kickAll(m);
      }
    } finally {
      this.disarm();
      for (const mb of this.members) if (!mb.finished) this.leave(mb);
    }
    return this.members.map((mb, i) => ({
      ...mb.r.report(threadId, i === 0 ? this.oracle.violations : [], i === 0 ? this.oracle.dropped : 0, error),
      hostStealMs: i === 0 ? this.stealMs : 0,
      hostBlocks: i === 0 ? this.blocks : 0,
    }));
  }

  /**
   * SLICE_STEPS rounds of a turn of each cpu. Returns false once every cpu
   * is done. A round where no cpu stepped on counts their looks; past
   * PV_SPIN_THRESHOLD of them (at once when all are idle) the thread arms,
   * takes one more round, and blocks if that round still finds nothing.
   */
  private slice(): boolean {
    const { members } = this;
    /** Looks since any cpu of the group last stepped on. */
    let waitedLooks = 0;
    for (let round = 0; round < SLICE_STEPS; round++) {
      let ran = false;
      let live = 0;
      let allIdle = true;
      let timeoutMs = Infinity;
      for (const mb of members) {
        if (mb.finished) continue;
        const t = this.turn(mb, round);
        if (t === FINISHED) continue;
        live++;
        if (t === RAN) ran = true;
        else timeoutMs = Math.min(timeoutMs, t);
        if (!mb.idle) allIdle = false;
      }
      if (live === 0) return false;
      if ((round & (SKEW_CHECK_STEPS - 1)) === 0) {
        const t = performance.now();
        if (t - this.lookedMs > STEAL_GAP_MS) this.stealMs += t - this.lookedMs;
        this.lookedMs = t;
      }
      if (ran) {
        this.disarm();
        waitedLooks = 0;
        continue;
      }
      if (this.m.stopped) return true; // an idle slice can last seconds: look at the poison and stop words now
      if (this.armed) this.block(timeoutMs);
      else if (allIdle || (waitedLooks += live) >= PV_SPIN_THRESHOLD) this.arm();
    }
    return true;
  }

  /** One turn of a cpu: at most one step, and what it came to. */
  private turn(mb: Member, round: number): number {
    const { r } = mb;
    const { m, board } = this;
    this.current = mb.cpu;
    mb.idle = false;
    if (mb.ahead && this.staysAhead(mb)) return SKEW_WAIT_MS;
    const kicks = kickCount(m, mb.cpu);
    const kind = r.step();
    this.publish(mb, kicks);
    if (kind === Step.SPIN || kind === Step.YIELD) {
      if (kind === Step.YIELD && r.followOthers(board.othersActNs(mb.cpu))) this.publish(mb);
      // a yield that switched to another task of this cpu cost a context switch: its clock moved, so the bound applies
      if (kind === Step.YIELD && this.skewCheckDue(mb, round)) this.staysAhead(mb);
      return kind === Step.SPIN ? PV_SPIN_BLOCK_MS : IDLE_WAIT_MS;
    }
    if (kind === -1 && !r.busy) {
      if (r.done && Atomics.load(this.mem, HDR.LIVE_TASKS) === 0) {
        r.step(); // a last look at the mailbox
        this.leave(mb);
        return FINISHED;
      }
      if (r.followOthers(board.othersActNs(mb.cpu))) this.publish(mb);
      if (r.seen.work) return RAN; // an interrupt, or a timer that came due as the clock followed the others
      mb.idle = true;
      return Number.isFinite(r.seen.actNs) ? IDLE_WAIT_MS : PV_IDLE_BLOCK_MS;
    }
    if (this.skewCheckDue(mb, round)) this.staysAhead(mb);
    return RAN;
  }

  private publish(mb: Member, kicksBefore?: number): void {
    publishHorizons(this.m, this.board, mb.r, kicksBefore);
  }

  private skewCheckDue(mb: Member, round: number): boolean {
    return this.bounded && (mb.r.clockNs > mb.skewLimitNs || (round & (SKEW_CHECK_STEPS - 1)) === 0);
  }

  /** The skew bound: whether the cpu must let the others catch up before its next step (an interrupt waiting for it never must). */
  private staysAhead(mb: Member): boolean {
    const { r } = mb;
    const othersHoldNs = this.board.othersHoldNs(mb.cpu);
    mb.skewLimitNs = othersHoldNs + this.boundNs;
    if (this.board.mayStep(r.clockNs, r.seen.waits, othersHoldNs) || this.m.stopped || r.hasPendingIpi()) {
      mb.ahead = false;
      return false;
    }
    if (!mb.ahead) {
      mb.ahead = true;
      mb.aheadSinceMs = performance.now();
    } else if (performance.now() - mb.aheadSinceMs > this.job.config.lockupMs) {
      throw skewLockup(r, this.board, this.job.config.lockupMs);
    }
    return true;
  }

  /** pv_wait's first half for the whole thread: the kick count to block on, then what each cpu waits for. */
  private arm(): void {
    const { m } = this;
    this.kickSeq = pvArm(m, this.home, waitWordOf(m, this.home));
    for (const mb of this.members) if (mb.cpu !== this.home && !mb.finished) pvArm(m, mb.cpu, waitWordOf(m, mb.cpu));
    this.armed = true;
  }

  private disarm(): void {
    if (!this.armed) return;
    for (const mb of this.members) pvDisarm(this.m, mb.cpu);
    this.armed = false;
  }

  private block(ms: number): void {
    this.blocks++;
    pvBlock(this.m, this.home, this.kickSeq, ms);
    this.disarm();
    this.beat();
    this.lookedMs = performance.now(); // our own wait is not steal
  }

  private beat(): void {
    for (const mb of this.members) Atomics.add(this.mem, this.m.cpu(mb.cpu, CPU_FIELD.HEARTBEAT), 1);
  }

  /** The cpu's loop is over: it holds nobody back and makes no event. */
  private leave(mb: Member): void {
    mb.finished = true;
    this.board.publish(mb.cpu, Infinity, Infinity);
    Atomics.sub(this.mem, HDR.CPUS_RUNNING, 1);
    Atomics.store(this.mem, this.m.cpu(mb.cpu, CPU_FIELD.LOOP_DONE), 1);
  }
}
