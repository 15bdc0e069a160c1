// Every wait on shared memory goes through a SpinWatch: it bounds the wait by
// the lockup limit and stops at once when the poison or stop word is set, so
// no wait can hang the run. The limit is on the watchdog's clock (host time
// in parallel mode, steps in deterministic mode), never the model's: a
// spin costs no model time, so a spin that never ends would never reach it.

import { SoftLockup, Poisoned } from '../machine/errors.ts';
import type { Kctx } from './context.ts';
import { PV_ANY, spinEnd, spinOn } from './pv.ts';

export class SpinWatch {
  private spins = 0;
  private readonly start: number;
  private readonly limitUs: number;
  /**
   * `scale` stretches the limit for waits that are not kernel spins (user
   * space waiting on another task); `word`, the lock spun on, is what a
   * blocked host thread is kicked by (pv.ts); without one, any kick.
   */
  constructor(private readonly ctx: Kctx, private readonly where: string, scale = 1, word = PV_ANY) {
    spinOn(ctx.m, ctx.cpu, word);
    this.start = ctx.watchNow();
    this.limitUs = ctx.config.lockupMs * 1000 * scale;
  }

  /** The wait is over (a spin on a lock: the lock is taken). */
  end(): void {
    spinEnd(this.ctx.m, this.ctx.cpu);
  }

  /** Call once per failed iteration. Throws when the wait must end. */
  tick(): void {
    this.spins++;
    if ((this.spins & 63) !== 0) return;
    if (this.ctx.m.poisoned) throw new Poisoned(`cpu ${this.ctx.cpu} stopped in ${this.where}: another cpu failed`);
    const waitedUs = this.ctx.watchNow() - this.start;
    if (waitedUs > this.limitUs) {
      throw new SoftLockup(this.ctx.cpu, this.where, `waited ${Math.round(waitedUs / 1000)} ms (${this.spins} spins)`);
    }
  }
}
