// How a cpu's host thread waits for another cpu, and how the other tells it
// to look again: the paravirt spinlock's answer for a virtual cpu whose
// lock holder the host may have descheduled (pv_wait / pv_kick, Linux 4.2,
// kernel/locking/qspinlock_paravirt.h). A host thread runs one cpu, or,
// when the cpus outnumber the host's cores, several (cpu-group.ts); when
// every cpu it runs waits, it blocks on the THREAD_KICK word of its home
// cpu (CPU_FIELD.PV_HOME). Whoever changes what a cpu waits for (a lock's
// release, an IPI, a wake-up, a workload word) kicks it: bumps its PV_KICK
// and its home's THREAD_KICK, and wakes the thread when the cpu said it
// blocked. A release while no cpu spins on any lock (HDR.SPINNERS) pays
// one load. These are the host's wake-ups, not kernel ones: no kernel path
// waits or orders anything by them.
//
// No lost kick: the thread reads THREAD_KICK, then publishes PV_WAIT_ON for
// each cpu it runs, then looks at what they wait for once more (one more
// step of each), and only then blocks, on THREAD_KICK still holding what it
// read. A kicker changes the word first and reads PV_WAIT_ON after (all
// seq-cst atomics), so either the last look sees the change, or the kicker
// sees PV_WAIT_ON and bumps THREAD_KICK, which ends the block or keeps it
// from starting. Every block is also timed, and its caller checks the
// poison word after it.
//
// Deterministic mode has one thread and never blocks; there a kick marks the
// cpu in `changedCpus` (a release, the cpus spinning on that word), so the
// engine looks again only at the cpus whose view another cpu changed, and
// chooses a cpu whose spin could only fail again only when no other can step.

import { CLOCK_SLOT, CLOCK_STRIDE, CPU_FIELD, HDR, type Machine } from '../machine/layout.ts';

/** The word a cpu waits on when it waits for anything (idle, a skew wait, a spin on no lock): every kick ends its block. */
export const PV_ANY = -1;

/** Deterministic mode: every cpu's view changed (a workload word, the last user task gone). */
export function changedForAll(m: Machine): void {
  m.changedCpus = -1;
}

/**
 * A kicked cpu that waits (its hold says "never", or "idle") holds the
 * running cpus at its act horizon until it looks again (clocks.ts): what it
 * waited for happened, so it may act there. Without this, the kicker ran on
 * ahead of it for as long as the host took to run its thread: a spinner
 * handed a lock at 4.0 ms next found the releaser at 8 ms. A running cpu's
 * hold is its clock already; it may sit in a skew wait, publishing nothing,
 * so a hold lowered under it would never be raised again.
 */
function holdAtAct(m: Machine, cpu: number): void {
  const line = cpu * CLOCK_STRIDE;
  if (!Number.isFinite(m.clocks[line + CLOCK_SLOT.HOLD]!)) m.clocks[line + CLOCK_SLOT.HOLD] = m.clocks[line + CLOCK_SLOT.ACT]!;
}

/** pv_kick: `cpu`'s view changed (an interrupt raised there, a task woken there, an ack it waits for); wake its thread if it blocked. */
export function kickCpu(m: Machine, cpu: number): void {
  m.changedCpus |= 1 << cpu;
  holdAtAct(m, cpu);
  Atomics.notify(m.mem, m.cpu(cpu, CPU_FIELD.IPI_PENDING)); // a cpu that fits the host waits on its interrupt word, timed
  kick(m, cpu, Atomics.load(m.mem, m.cpu(cpu, CPU_FIELD.PV_WAIT_ON)) !== 0);
}

/** The lock at `word` was released: the cpus spinning on it hold at their act horizons, and the threads of those that blocked there wake. */
export function kickWaiters(m: Machine, word: number): void {
  const spinners = Atomics.load(m.mem, HDR.SPINNERS);
  if (spinners === 0) return;
  for (let c = 0; c < m.size.cpus; c++) {
    if ((spinners & (1 << c)) === 0 || Atomics.load(m.mem, m.cpu(c, CPU_FIELD.SPIN_ON)) !== word + 1) continue;
    m.changedCpus |= 1 << c;
    holdAtAct(m, c);
    kick(m, c, Atomics.load(m.mem, m.cpu(c, CPU_FIELD.PV_WAIT_ON)) === word + 1);
  }
}

/** The cpu's task spins on the lock at `word` (-1: on no lock) until spinEnd. */
export function spinOn(m: Machine, cpu: number, word: number): void {
  if (word < 0) return;
  Atomics.store(m.mem, m.cpu(cpu, CPU_FIELD.SPIN_ON), word + 1);
  Atomics.or(m.mem, HDR.SPINNERS, 1 << cpu);
}

/** The spin is over. */
export function spinEnd(m: Machine, cpu: number): void {
  if (Atomics.load(m.mem, m.cpu(cpu, CPU_FIELD.SPIN_ON)) === 0) return;
  Atomics.and(m.mem, HDR.SPINNERS, ~(1 << cpu));
  Atomics.store(m.mem, m.cpu(cpu, CPU_FIELD.SPIN_ON), 0);
}

/** What a waiting cpu's blocked thread is kicked by: the lock its task spins on, or PV_ANY. */
export function waitWordOf(m: Machine, cpu: number): number {
  const on = Atomics.load(m.mem, m.cpu(cpu, CPU_FIELD.SPIN_ON));
  return on === 0 ? PV_ANY : on - 1;
}

/**
 * Every kick counts in PV_KICK, blocked or not: a cpu that publishes "holds
 * nobody" after a step checks that no kick came since the step began
 * (kickedSince), since a kick that landed between its look and its
 * publishing found nothing to lower. It counts in its home's THREAD_KICK
 * too, which a blocked thread waits for to change.
 */
function kick(m: Machine, cpu: number, blocked: boolean): void {
  Atomics.add(m.mem, m.cpu(cpu, CPU_FIELD.PV_KICK), 1);
  const at = threadKickWord(m, cpu);
  Atomics.add(m.mem, at, 1);
  if (blocked) Atomics.notify(m.mem, at);
}

/** The word the host thread that runs `cpu` blocks on: its home cpu's THREAD_KICK. */
function threadKickWord(m: Machine, cpu: number): number {
  const home = m.mem[m.cpu(cpu, CPU_FIELD.PV_HOME)]!; // set before the run's first step, never after
  return m.cpu(home === 0 ? cpu : home - 1, CPU_FIELD.THREAD_KICK);
}

/** The host thread that runs `cpus` (the first is their home) blocks on the home's word. Before the start barrier. */
export function pvShareThread(m: Machine, cpus: readonly number[]): void {
  for (const c of cpus) m.mem[m.cpu(c, CPU_FIELD.PV_HOME)] = cpus[0]! + 1;
}

/** The kick count of `cpu`, read before a step, for kickedSince after it. */
export function kickCount(m: Machine, cpu: number): number {
  return Atomics.load(m.mem, m.cpu(cpu, CPU_FIELD.PV_KICK));
}

/** Whether `cpu` was kicked since kickCount returned `count`. */
export function kickedSince(m: Machine, cpu: number, count: number): boolean {
  return Atomics.load(m.mem, m.cpu(cpu, CPU_FIELD.PV_KICK)) !== count;
}

/** Wake every blocked thread (poison, stop): each looks at the poison and stop words when its wait ends. */
export function kickAll(m: Machine): void {
  for (let c = 0; c < m.size.cpus; c++) kick(m, c, true);
}

/**
 * pv_wait, the waiter's side, in two halves around its last look. arm():
 * the kick count to block on, after PV_WAIT_ON says what it waits for
 * (`word`, or PV_ANY).
 */
export function pvArm(m: Machine, cpu: number, word: number): number {
  const seq = Atomics.load(m.mem, threadKickWord(m, cpu));
  Atomics.store(m.mem, m.cpu(cpu, CPU_FIELD.PV_WAIT_ON), word === PV_ANY ? PV_ANY : word + 1);
  return seq;
}

/** Block the thread that runs `cpu` until one of its cpus is kicked (a kick since arm() ends it at once) or `timeoutMs` passes. Whether a kick ended it. */
export function pvBlock(m: Machine, cpu: number, seq: number, timeoutMs: number): boolean {
  return Atomics.wait(m.mem, threadKickWord(m, cpu), seq, timeoutMs) !== 'timed-out';
}

/** The wait is over (it blocked, or its last look found it need not). */
export function pvDisarm(m: Machine, cpu: number): void {
  Atomics.store(m.mem, m.cpu(cpu, CPU_FIELD.PV_WAIT_ON), 0);
}
