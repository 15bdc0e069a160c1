// The lax synchronisation of the cpus' model clocks, the same in both modes.
// Each cpu runs on its own clock and has two horizons (runner.ts: seen),
// below; parallel mode publishes them in the machine's `clocks` region. A
// running cpu whose clock is more than the bound (--clock-skew) ahead of every other
// cpu's hold horizon does not step until the others catch up (parallel mode: it waits;
// deterministic mode: it is not among the cpus the strategy may choose).
// This is the bounded slack of Graphite's LaxP2P (Miller et al., HPCA 2010)
// and ZSim's bound phase (Sanchez and Kozyrakis, ISCA 2013), without their
// periodic barriers: events between cpus already carry their own times (a
// lock's release, an IPI's send and ack, a wake-up), so the bound only
// limits how far an event can land in its receiver's past.
//
// Two horizons per cpu. `act`: the earliest model time at which it may next
// make an event another cpu could see: a running cpu's clock, and a
// spinner's too (it acks IPIs at its clock), an idle cpu's (or a user-space
// waiter's) next timer.
// `hold`: how far it holds the running cpus back: a running cpu's clock;
// never (Infinity) for a cpu that waits for another (a spin, a user-space
// wait: the event it waits for carries its own time); for an idle cpu, its
// act horizon (its next timer) when that is the lowest of all act horizons,
// so nothing can stop it from taking that timer now, and never otherwise.
// The last is worked out by the cpu that asks (an idle cpu publishes NaN),
// so it does not wait for the idle cpu's thread to look. A wake-up lowers
// its target cpu's act horizon to the waker's time at once (sched.ts),
// since an idle target learns of it only at its next look; likewise a task
// that sets a workload word makes every cpu whose task waits in user space
// hold at its clock at once (workload.ts), and tells it to look; every kick
// makes its cpu hold at its act horizon until it looks (pv.ts). An idle cpu's
// clock, and a user-space waiter's, moves only to its own next timer, once
// that is the lowest act horizon of all (no other cpu may act before it);
// what else it waits for carries its own time (a wake-up, an IPI, a
// workload word, workload.ts).
// No cycle of waits: a running cpu is held only by a running cpu behind it
// or by the idle cpu with the lowest act horizon, which follows to its
// timer and takes it; the lowest of those is never held.

import { CLOCK_SLOT, CLOCK_STRIDE, type Machine } from '../machine/layout.ts';
import type { RunConfig } from '../machine/config.ts';

const { HOLD, ACT, USER_WAIT } = CLOCK_SLOT;

/** An idle cpu's hold horizon as published: the cpu that asks works it out from the act horizons. */
export const IDLE_HOLD = NaN;

/** The smallest and second smallest of n values (every `stride`-th from `offset`), so each one's "the others' minimum" is O(1). */
export class MinOfOthers {
  private min1 = Infinity;
  private min2 = Infinity;
  private argMin = -1;
  take(values: Float64Array, n: number, stride = 1, offset = 0): void {
    let min1 = Infinity;
    let min2 = Infinity;
    let arg = -1;
    for (let c = 0; c < n; c++) {
      const h = values[c * stride + offset]!;
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
  others(c: number): number {
    return c === this.argMin ? this.min2 : this.min1;
  }
}

/** An idle cpu holds at its act horizon when that is the lowest of all (nothing can keep it from its timer), and never otherwise. */
export function effectiveHoldNs(holdNs: number, actNs: number, othersActNs: number): number {
  if (!Number.isNaN(holdNs)) return holdNs;
  return actNs <= othersActNs ? actNs : Infinity;
}

/** The bound in ns: Infinity with none, or with the model clocks off. */
export function skewBoundNs(config: RunConfig): number {
  return config.modelClocks && config.clockSkewUs > 0 ? config.clockSkewUs * 1000 : Infinity;
}

/** Whether a cpu at `clockNs` may step: it waits (holds nobody, so nobody holds it), or it is within the bound of the others' earliest hold horizon. */
export function mayStep(boundNs: number, clockNs: number, waits: boolean, othersHoldNs: number): boolean {
  return waits || clockNs <= othersHoldNs + boundNs;
}

/**
 * The bound, by default: 20 µs of model time (--clock-skew; hunts run with
 * none, since a bound keeps the strategy from holding a cpu back longer). It is far below the sections measured
 * (a tick is 1,000 µs; a zap block of legacy's gather runs about 200 µs)
 * and above single events (an IPI round trip is about 9 µs), so a late
 * interrupt or lock hand-over shifts a measured figure by a fraction of the
 * figure, while parallel cpus still run dozens of steps between waits.
 */
export const DEFAULT_CLOCK_SKEW_US = 20;

/** Parallel mode: the horizons in shared memory, each cpu's on its own cache line, published by their cpu and read by the others. */
export class ClockBoard {
  private readonly clocks: Float64Array;
  private readonly cpus: number;
  private readonly act = new MinOfOthers();

  constructor(m: Machine, private readonly boundNs: number) {
    this.clocks = m.clocks;
    this.cpus = m.size.cpus;
  }

  /** `holdNs`: the cpu's clock while it runs, Infinity while it waits, IDLE_HOLD while idle; `userWaitNs`: its clock while its task waits in user space, else NaN. */
  publish(cpu: number, actNs: number, holdNs: number, userWaitNs = NaN): void {
    this.clocks[cpu * CLOCK_STRIDE + ACT] = actNs;
    this.clocks[cpu * CLOCK_STRIDE + HOLD] = holdNs;
    this.clocks[cpu * CLOCK_STRIDE + USER_WAIT] = userWaitNs;
  }

  /** The others' earliest act horizon, read now. */
  othersActNs(cpu: number): number {
    let min = Infinity;
    for (let c = 0; c < this.cpus; c++) {
      if (c === cpu) continue;
      const h = this.clocks[c * CLOCK_STRIDE + ACT]!;
      if (h < min) min = h;
    }
    return min;
  }

  /** The others' earliest hold horizon, read now. */
  othersHoldNs(cpu: number): number {
    this.act.take(this.clocks, this.cpus, CLOCK_STRIDE, ACT);
    let min = Infinity;
    for (let c = 0; c < this.cpus; c++) {
      if (c === cpu) continue;
      const h = effectiveHoldNs(this.clocks[c * CLOCK_STRIDE + HOLD]!, this.clocks[c * CLOCK_STRIDE + ACT]!, this.act.others(c));
      if (h < min) min = h;
    }
    return min;
  }

  mayStep(clockNs: number, waits: boolean, othersHoldNs: number): boolean {
    return mayStep(this.boundNs, clockNs, waits, othersHoldNs);
  }

  /** Every cpu's horizons (hold/act), for a lockup report. */
  horizonsText(): string {
    const ns = (v: number): string => (Number.isFinite(v) ? String(Math.round(v)) : Number.isNaN(v) ? 'idle' : '-');
    return Array.from({ length: this.cpus }, (_, c) => `${ns(this.clocks[c * CLOCK_STRIDE + HOLD]!)}/${ns(this.clocks[c * CLOCK_STRIDE + ACT]!)}`).join(', ');
  }
}
