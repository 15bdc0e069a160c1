// The lax synchronisation of the cpus' model clocks, the same in both modes.
// Each cpu runs on its own clock and publishes its horizon (runner.ts:
// horizonNs) in the machine's `clocks` region: the earliest model time at
// which it may next make an event another cpu could see. A running cpu whose
// clock is more than CLOCK_SKEW_NS ahead of every other cpu's horizon does
// not step until the others catch up (parallel mode: it waits;
// deterministic mode: it is not among the cpus the strategy may choose).
// This is the bounded slack of Graphite's LaxP2P (Miller et al., HPCA 2010)
// and ZSim's bound phase (Sanchez and Kozyrakis, ISCA 2013), without their
// periodic barriers: events between cpus already carry their own times (a
// lock's release, an IPI's send and ack, a wake-up), so the bound only
// limits how far an event can land in its receiver's past.
//
// Two horizons per cpu. `act`: the earliest model time at which it may next
// make an event another cpu could see: a running cpu's clock, and a waiting
// one's too (a spinner acks IPIs at its clock), an idle cpu's next timer.
// `hold`: how far it holds the running cpus back: a running cpu's clock;
// never (Infinity) for a cpu that waits for another (a spin, a user-space
// wait: the event it waits for carries its own time); for an idle cpu, its
// act horizon (its next timer) when that is the lowest of all act horizons,
// so nothing can stop it from taking that timer now, and never otherwise.
// The last is worked out by the cpu that asks (an idle cpu publishes NaN),
// so it does not wait for the idle cpu's thread to look. A wake-up lowers
// its target cpu's act horizon to the waker's time at once (sched.ts),
// since an idle target learns of it only at its next look. An idle cpu's
// clock, and a user-space waiter's, follows the others' act horizons up to
// its own next timer: time passes for it as for the others, never past a
// cpu that may still send it an event, and an interrupt already raised is
// taken first.
// No cycle of waits: a running cpu is held only by a running cpu behind it
// or by the idle cpu with the lowest act horizon, which follows to its
// timer and takes it; the lowest of those is never held.

import { CLOCK_SLOT, CLOCK_STRIDE, type Machine } from '../machine/layout.ts';

const { HOLD, ACT } = CLOCK_SLOT;

function othersMin(clocks: Float64Array, cpus: number, cpu: number, slot: number): number {
  let min = Infinity;
  for (let c = 0; c < cpus; c++) {
    if (c === cpu) continue;
    const h = clocks[c * CLOCK_STRIDE + slot]!;
    if (h < min) min = h;
  }
  return min;
}

/** An idle cpu's hold horizon as published: the cpu that asks works it out (ClockBoard.othersHoldNs). */
export const IDLE_HOLD = NaN;

/** The smallest and second smallest of one horizon over all cpus, so each cpu's "others" is O(1). */
class MinOfOthers {
  private min1 = Infinity;
  private min2 = Infinity;
  private argMin = -1;
  take(clocks: Float64Array, cpus: number, slot: number): void {
    let min1 = Infinity;
    let min2 = Infinity;
    let arg = -1;
    for (let c = 0; c < cpus; c++) {
      const h = clocks[c * CLOCK_STRIDE + slot]!;
      if (h < min1) {
        min2 = min1;
        min1 = h;
        arg = c;
      } else if (h < min2) {
        min2 = h;
      }
    }
    this.min1 = min1;
    this.min2 = min2;
    this.argMin = arg;
  }
  others(cpu: number): number {
    return cpu === this.argMin ? this.min2 : this.min1;
  }
}

/**
 * The bound: 20 µs of model time. It is far below the sections measured
 * (a tick is 1,000 µs; a zap block of legacy's gather runs about 200 µs)
 * and above single events (an IPI round trip is about 9 µs), so a late
 * interrupt or lock hand-over shifts a measured figure by a fraction of the
 * figure, while parallel cpus still run dozens of steps between waits.
 */
export const CLOCK_SKEW_NS = 20_000;

export class ClockBoard {
  private readonly clocks: Float64Array;
  private readonly cpus: number;
  private readonly act = new MinOfOthers();

  constructor(m: Machine, private readonly bounded: boolean) {
    this.clocks = m.clocks;
    this.cpus = m.size.cpus;
  }

  /** `holdNs`: the cpu's clock while it runs, Infinity while it waits, IDLE_HOLD while idle. */
  publish(cpu: number, actNs: number, holdNs: number): void {
    this.clocks[cpu * CLOCK_STRIDE + ACT] = actNs;
    this.clocks[cpu * CLOCK_STRIDE + HOLD] = holdNs;
  }

  /** Deterministic mode: take every cpu's act horizon at once; othersActSnapshotNs then answers in O(1). */
  snapshotAct(): void {
    this.act.take(this.clocks, this.cpus, ACT);
  }
  othersActSnapshotNs(cpu: number): number {
    return this.act.others(cpu);
  }

  /** The others' earliest act horizon, read now (parallel mode). */
  othersActNs(cpu: number): number {
    return othersMin(this.clocks, this.cpus, cpu, ACT);
  }

  /** The others' earliest hold horizon, read now (`actsTaken`: snapshotAct was just called): an idle cpu holds at its act horizon when that is the lowest of all. */
  othersHoldNs(cpu: number, actsTaken = false): number {
    if (!actsTaken) this.act.take(this.clocks, this.cpus, ACT);
    let min = Infinity;
    for (let c = 0; c < this.cpus; c++) {
      if (c === cpu) continue;
      let h = this.clocks[c * CLOCK_STRIDE + HOLD]!;
      if (Number.isNaN(h)) {
        const act = this.clocks[c * CLOCK_STRIDE + ACT]!;
        h = act <= this.act.others(c) ? act : Infinity;
      }
      if (h < min) min = h;
    }
    return min;
  }

  /** Every cpu's horizons (hold/act), for a lockup report. */
  horizonsText(): string {
    const ns = (v: number): string => (Number.isFinite(v) ? String(Math.round(v)) : '-');
    return Array.from({ length: this.cpus }, (_, c) => `${ns(this.clocks[c * CLOCK_STRIDE + HOLD]!)}/${ns(this.clocks[c * CLOCK_STRIDE + ACT]!)}`).join(', ');
  }

  /** Whether a cpu at `clockNs` may step: it waits (holds nobody, so nobody holds it), or it is within the bound of the others' earliest hold horizon. */
  mayStep(clockNs: number, waits: boolean, othersHoldNs: number): boolean {
    return !this.bounded || waits || clockNs <= othersHoldNs + CLOCK_SKEW_NS;
  }
}
