// preempt_count, irq disable/restore, might_sleep and cond_resched. A cpu
// changes only its own preempt_count and irq state; other cpus read them only
// for state dumps. Every change that opens or closes a non-preemptible
// section (preempt_count or irqs-off depth leaving or reaching zero) is timed
// here (when latency statistics are on), so the longest section and where
// it began and ended are exact.
// preempt_enable that drops the count to zero is a preemption point under
// CONFIG_PREEMPT; might_sleep is one under CONFIG_PREEMPT_VOLUNTARY as well;
// cond_resched is one in every model.

import { CPU_FIELD } from '../machine/layout.ts';
import { NO_STEP, Step, type StepKind } from '../machine/step.ts';
import { modelAssert } from '../machine/errors.ts';
import type { SectionMax } from '../stats/latency.ts';
import type { Kctx } from './context.ts';

export function preemptCount(ctx: Kctx): number {
  return ctx.mem[ctx.m.cpu(ctx.cpu, CPU_FIELD.PREEMPT_COUNT)]!;
}

export function irqsDisabled(ctx: Kctx): boolean {
  return ctx.mem[ctx.m.cpu(ctx.cpu, CPU_FIELD.IRQS_DISABLED)]! > 0;
}

export function needResched(ctx: Kctx): boolean {
  return Atomics.load(ctx.mem, ctx.m.cpu(ctx.cpu, CPU_FIELD.NEED_RESCHED)) !== 0;
}

function closeSection(ctx: Kctx, sinceUs: number, startWhere: string, endWhere: string, max: SectionMax | null, hist: 'preemptOff' | 'irqsOff'): SectionMax | null {
  const us = ctx.now() - sinceUs;
  ctx.lat.recordUs(hist, us);
  const ns = Math.round(us * 1000);
  if (max && max.ns >= ns) return max;
  return { ns, cpu: ctx.cpu, task: ctx.task, startWhere, endWhere };
}

/** A non-preemptible section opens on this cpu (preempt_count or irqs-off depth left zero). */
export function sectionOpen(ctx: Kctx, where: string): void {
  if (!ctx.lat.enabled) return;
  ctx.offSinceUs = ctx.now();
  ctx.offWhere = where;
}

/** The cpu is preemptible again. */
export function sectionClose(ctx: Kctx, where: string): void {
  if (!ctx.lat.enabled) return;
  ctx.lat.preemptOffMax = closeSection(ctx, ctx.offSinceUs, ctx.offWhere, where, ctx.lat.preemptOffMax, 'preemptOff');
}

export function preemptDisable(ctx: Kctx, where: string): void {
  const at = ctx.m.cpu(ctx.cpu, CPU_FIELD.PREEMPT_COUNT);
  if (ctx.mem[at] === 0 && !irqsDisabled(ctx)) sectionOpen(ctx, where);
  ctx.mem[at]!++;
}

/** preempt_enable_no_resched: drop the count without a preemption point. */
export function preemptEnableNoResched(ctx: Kctx, where: string): void {
  const at = ctx.m.cpu(ctx.cpu, CPU_FIELD.PREEMPT_COUNT);
  modelAssert(ctx.mem[at]! > 0, 'preempt_count underflow', () => `cpu ${ctx.cpu} at ${where}`);
  if (--ctx.mem[at]! === 0 && !irqsDisabled(ctx)) sectionClose(ctx, where);
}

/** preempt_enable: `yield` what it returns (a plain callee, step.ts). */
export function preemptEnable(ctx: Kctx, where: string): StepKind | typeof NO_STEP {
  preemptEnableNoResched(ctx, where);
  return ctx.config.preempt === 'full' && preemptCount(ctx) === 0 && !irqsDisabled(ctx) ? Step.PREEMPT : NO_STEP;
}

export function localIrqSave(ctx: Kctx, where: string): void {
  const at = ctx.m.cpu(ctx.cpu, CPU_FIELD.IRQS_DISABLED);
  if (ctx.mem[at] === 0) {
    if (ctx.lat.enabled) {
      ctx.irqsOffSinceUs = ctx.now();
      ctx.irqsOffWhere = where;
    }
    if (preemptCount(ctx) === 0) sectionOpen(ctx, where);
  }
  ctx.mem[at]!++;
}

export function localIrqRestore(ctx: Kctx, where: string): void {
  const at = ctx.m.cpu(ctx.cpu, CPU_FIELD.IRQS_DISABLED);
  modelAssert(ctx.mem[at]! > 0, 'irq restore without save', () => `cpu ${ctx.cpu} at ${where}`);
  if (--ctx.mem[at]! === 0) {
    if (ctx.lat.enabled) ctx.lat.irqsOffMax = closeSection(ctx, ctx.irqsOffSinceUs, ctx.irqsOffWhere, where, ctx.lat.irqsOffMax, 'irqsOff');
    if (preemptCount(ctx) === 0) sectionClose(ctx, where);
  }
}

/** __might_sleep: a sleeping function called in atomic context is a violation. */
export function checkMightSleep(ctx: Kctx, where: string): void {
  const pc = preemptCount(ctx);
  if (pc > 0 || irqsDisabled(ctx)) {
    ctx.oracle.report('SLEEP_IN_ATOMIC', { cpu: ctx.cpu, task: ctx.task, mm: ctx.mm }, `${where} with preempt_count ${pc}, irqs ${irqsDisabled(ctx) ? 'off' : 'on'}`);
  }
}

/** might_sleep(): the check, and under CONFIG_PREEMPT_VOLUNTARY a preemption point (might_resched). */
export function mightSleep(ctx: Kctx, where: string): StepKind {
  checkMightSleep(ctx, where);
  return Step.MIGHT_RESCHED;
}

/** cond_resched(): a voluntary preemption point, live in every preemption model. */
export function condResched(ctx: Kctx): StepKind {
  checkMightSleep(ctx, 'cond_resched');
  ctx.stats.condResched++;
  return Step.RESCHED;
}
