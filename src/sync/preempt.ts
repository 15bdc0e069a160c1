// preempt_count, irq disable/restore and the might_sleep check. A cpu changes
// only its own preempt_count and irq state; other cpus read them only for
// state dumps. preempt_enable that drops the count to zero is a preemption
// point under CONFIG_PREEMPT, so it is a generator.

import { CPU_FIELD } from '../machine/layout.ts';
import { Step, type Path } from '../machine/step.ts';
import { modelAssert } from '../machine/errors.ts';
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

export function preemptDisable(ctx: Kctx): void {
  ctx.mem[ctx.m.cpu(ctx.cpu, CPU_FIELD.PREEMPT_COUNT)]!++;
}

/** preempt_enable_no_resched: drop the count without a preemption point. */
export function preemptEnableNoResched(ctx: Kctx): void {
  const at = ctx.m.cpu(ctx.cpu, CPU_FIELD.PREEMPT_COUNT);
  modelAssert(ctx.mem[at]! > 0, 'preempt_count underflow', () => `cpu ${ctx.cpu}`);
  ctx.mem[at]!--;
}

export function* preemptEnable(ctx: Kctx): Path {
  preemptEnableNoResched(ctx);
  if (ctx.config.preempt === 'full' && preemptCount(ctx) === 0 && !irqsDisabled(ctx)) yield Step.PREEMPT;
}

export function localIrqSave(ctx: Kctx): void {
  ctx.mem[ctx.m.cpu(ctx.cpu, CPU_FIELD.IRQS_DISABLED)]!++;
}

export function localIrqRestore(ctx: Kctx): void {
  const at = ctx.m.cpu(ctx.cpu, CPU_FIELD.IRQS_DISABLED);
  modelAssert(ctx.mem[at]! > 0, 'irq restore without save', () => `cpu ${ctx.cpu}`);
  ctx.mem[at]!--;
}

/** might_sleep(): a sleeping function called in atomic context is a violation. */
export function mightSleep(ctx: Kctx, where: string): void {
  const pc = preemptCount(ctx);
  if (pc > 0 || irqsDisabled(ctx)) {
    ctx.oracle.report('SLEEP_IN_ATOMIC', { cpu: ctx.cpu, task: ctx.task, mm: ctx.mm }, `${where} with preempt_count ${pc}, irqs ${irqsDisabled(ctx) ? 'off' : 'on'}`);
  }
}

/** cond_resched(): a voluntary preemption point. */
export function* condResched(ctx: Kctx): Path {
  mightSleep(ctx, 'cond_resched');
  ctx.stats.condResched++;
  yield Step.PREEMPT;
}
