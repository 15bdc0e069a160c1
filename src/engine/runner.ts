// One simulated cpu's run loop, the same in both modes: take interrupts when
// they are enabled, then advance the current task by one step. A task starts
// with switch_mm to its mm and, when its program ends, the cpu goes idle lazy
// on that mm (enter_lazy_tlb). The engine decides who steps when; the runner
// only knows how.

import { CPU_FIELD, HDR, TASK_FIELD, TaskState, type Machine } from '../machine/layout.ts';
import type { RunConfig } from '../machine/config.ts';
import type { Path, StepKind } from '../machine/step.ts';
import { Rng } from '../machine/rng.ts';
import { ModelAssert, modelAssert } from '../machine/errors.ts';
import { newCounters, type Counters } from '../stats/counters.ts';
import type { Oracle } from '../oracle/rules.ts';
import type { Kctx } from '../sync/context.ts';
import { switchMm, enterLazyTlb, serviceIpis } from '../cpu/tlbflush.ts';
import { findVariant } from '../gather/variants.ts';
import { findWorkload } from '../workloads/index.ts';
import type { TaskRecord, TaskSpec, Workload } from '../workloads/workload.ts';

export class CpuRunner {
  readonly ctx: Kctx;
  readonly records: TaskRecord[] = [];
  private readonly queue: { index: number; spec: TaskSpec }[];
  private current: Path | null = null;
  private readonly workload: Workload;
  readonly idleStats: Counters = newCounters();
  steps = 0;

  constructor(m: Machine, readonly cpu: number, config: RunConfig, tasks: TaskSpec[], oracle: Oracle, now: () => number) {
    const traits = findVariant(config.variant);
    const workload = findWorkload(config.workload);
    if (!traits || !workload) throw new ModelAssert('run config', `unknown variant ${config.variant} or workload ${config.workload}`);
    this.workload = workload;
    this.ctx = {
      m,
      mem: m.mem,
      cpu,
      config,
      traits,
      oracle,
      rng: new Rng((config.seed ^ Math.imul(cpu + 1, 0x9e3779b1)) >>> 0),
      now,
      task: -1,
      mm: -1,
      stats: this.idleStats,
      cpuStats: newCounters(),
      gfpNowaitCalls: 0,
      ptlHeld: 0,
      ptlFreedThisHold: 0,
    };
    this.queue = tasks.map((spec, index) => ({ index, spec })).filter((t) => t.spec.cpu === cpu);
  }

  /** Anything left to run here? */
  get busy(): boolean {
    return this.current !== null || this.queue.length > 0;
  }

  hasPendingIpi(): boolean {
    return Atomics.load(this.ctx.mem, this.ctx.m.cpu(this.cpu, CPU_FIELD.IPI_PENDING)) !== 0;
  }

  irqsEnabled(): boolean {
    return this.ctx.mem[this.ctx.m.cpu(this.cpu, CPU_FIELD.IRQS_DISABLED)] === 0;
  }

  private startNext(): void {
    const next = this.queue.shift()!;
    const { ctx } = this;
    const rec: TaskRecord = { task: next.index, cpu: this.cpu, mm: next.spec.mm, stats: newCounters(), measured: null, rssBefore: 0, rssAfter: 0, finished: false };
    this.records.push(rec);
    ctx.task = next.index;
    ctx.mm = next.spec.mm;
    ctx.stats = rec.stats;
    Atomics.store(ctx.mem, ctx.m.cpu(this.cpu, CPU_FIELD.CURRENT_TASK), next.index + 1);
    switchMm(ctx, next.spec.mm);
    this.current = this.workload.program(ctx, rec, next.index);
  }

  private finishCurrent(): void {
    const { ctx } = this;
    const rec = this.records[this.records.length - 1]!;
    rec.finished = true;
    modelAssert(ctx.ptlHeld === 0 && ctx.mem[ctx.m.cpu(this.cpu, CPU_FIELD.PREEMPT_COUNT)] === 0 && this.irqsEnabled(), 'task ended in atomic context', () => `task ${ctx.task} on cpu ${this.cpu}`);
    if (ctx.mm >= 0) enterLazyTlb(ctx); // the task is done with user space; the cpu idles lazily on its mm
    Atomics.store(ctx.mem, ctx.m.task(ctx.task, TASK_FIELD.STATE), TaskState.EXITED);
    Atomics.store(ctx.mem, ctx.m.cpu(this.cpu, CPU_FIELD.CURRENT_TASK), 0);
    Atomics.sub(ctx.mem, HDR.LIVE_TASKS, 1);
    ctx.task = -1;
    ctx.mm = -1;
    ctx.stats = this.idleStats;
    this.current = null;
  }

  /** Take pending interrupts, then one step of the current task. Returns the step kind, or -1 if nothing ran. */
  step(): StepKind | -1 {
    if (this.irqsEnabled()) serviceIpis(this.ctx);
    if (this.current === null) {
      if (this.queue.length === 0) return -1;
      this.startNext();
    }
    this.steps++;
    const r = this.current!.next();
    if (r.done) {
      this.finishCurrent();
      return -1;
    }
    return r.value;
  }
}
