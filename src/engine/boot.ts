// Building the machine for a run: size the shared buffer from the config,
// fill the allocator, create the mms (a pgd each) and the task table, and
// with config.setupOnce run each user task's setup (workload.ts) on its cpu
// with nothing else running. Runs in the thread that runs the cpus (or the
// main thread, in parallel mode), before any cpu starts. What boot leaves
// depends on the config but not on its seed: boot with setupOnce is done
// once per config and every later run of it starts from a copy of that
// machine, byte for byte (a test checks it equals a fresh boot).

import { CPU_FIELD, FILE_FIELD, HDR, Machine, MM_FIELD, PAGE_FIELD, PageState, TASK_FIELD, TLB_WAYS, RunState, TaskKind, type LayoutSize } from '../machine/layout.ts';
import type { RunConfig } from '../machine/config.ts';
import { PATH_DONE, PathStack, STEP_NAMES, Step, type Call, type Path } from '../machine/step.ts';
import { Rng } from '../machine/rng.ts';
import { BadInput, ModelAssert, modelAssert } from '../machine/errors.ts';
import { switchMm } from '../cpu/tlbflush.ts';
import { Oracle } from '../oracle/rules.ts';
import { newKctx, type Kctx } from '../sync/context.ts';
import { mutexInit } from '../sync/mutex.ts';
import { allocPage, initAllocator } from '../page/alloc.ts';
import { findVariant } from '../gather/variants.ts';
import { userTasks, type TaskSpec } from '../workloads/workload.ts';
import { declaresSetup, findWorkload } from '../workloads/index.ts';

/** Every task of the run: the workload's user tasks, then each cpu's kernel threads. */
export function allTasks(config: RunConfig): TaskSpec[] {
  const tasks = findWorkload(config.workload)?.tasks?.(config) ?? userTasks(config);
  for (let cpu = 0; cpu < config.cpus; cpu++) {
    if (config.kworker) tasks.push({ cpu, mm: -1, kind: TaskKind.KWORKER, rank: -1, peers: 0 });
    if (config.probe) tasks.push({ cpu, mm: -1, kind: TaskKind.PROBE, rank: -1, peers: 0 });
  }
  // one flusher for the file's backing device, as 2.6.38 has one flush-MAJOR:MINOR thread per bdi
  if (config.writeback) tasks.push({ cpu: 0, mm: -1, kind: TaskKind.FLUSHER, rank: -1, peers: 0 });
  return tasks;
}

export function layoutSizeFor(config: RunConfig): LayoutSize {
  return {
    cpus: config.cpus,
    pages: config.memoryPages,
    ptSlots: Math.ceil(config.memoryPages / 256) + 16 * config.mms + 16,
    mms: config.mms,
    tasks: allTasks(config).length,
    tlbEntries: config.tlbEntries,
    filePages: findWorkload(config.workload)?.filePagesNeeded?.(config) ?? 0,
  };
}

/** A context for work done outside any cpu's run loop (boot, final checks). */
export function bootCtx(m: Machine, config: RunConfig, oracle: Oracle): Kctx {
  const traits = findVariant(config.variant);
  if (!traits) throw new ModelAssert('unknown variant', config.variant);
  return newKctx({ m, cpu: 0, config, traits, oracle, rng: new Rng(config.seed), watchNow: () => 0, latencyStats: false });
}

/** Run a path to completion with nobody else running (boot time). */
export function runToEnd<T>(path: Path<T>): T;
export function runToEnd(path: Call): void;
export function runToEnd<T>(path: Call<T>): T {
  const stack = new PathStack(path);
  for (let i = 0; ; i++) {
    if (stack.next() === PATH_DONE) return stack.result as T;
    if (i > 10_000_000) throw new ModelAssert('boot path does not end', 'over 10M steps');
  }
}

/** Machines booted with their setup, by config without its seed: a hunt's seeds start from a copy. */
const snapshots = new Map<string, Uint8Array>();
/** Configs kept at once: a bound; a hunt has one, a test suite a few. */
const SNAPSHOTS_MAX = 4;
/** The setup draws nothing from the seed: its context's own stream (GFP_NOWAIT failures) starts here for every seed. */
const SETUP_RNG_SEED = 0x5e7;

export function bootMachine(config: RunConfig): { m: Machine; tasks: TaskSpec[] } {
  if (!config.setupOnce) return bootFresh(config);
  const key = JSON.stringify({ ...config, seed: 0 });
  const saved = snapshots.get(key);
  if (saved) {
    const m = new Machine(new SharedArrayBuffer(saved.byteLength), layoutSizeFor(config));
    new Uint8Array(m.sab).set(saved);
    return { m, tasks: allTasks(config) };
  }
  const booted = bootFresh(config);
  if (snapshots.size >= SNAPSHOTS_MAX) snapshots.delete(snapshots.keys().next().value!);
  snapshots.set(key, new Uint8Array(booted.m.sab).slice());
  return booted;
}

/**
 * A setup's path, run with no other cpu running: a step that waits (a spin
 * on a lock or an ack, a sleep, a yield) waits for a cpu that never runs.
 * Built-in setups never wait; a scenario's may (a write to a page its setup
 * read flushes the TLB of a cpu another setup of its mm ran on), so that
 * is the file's problem, told in one line, rather than a spin to a bound.
 */
function runAlone(path: Path, task: number): void {
  const stack = new PathStack(path);
  for (let i = 0; ; i++) {
    const kind = stack.next();
    if (kind === PATH_DONE) return;
    if (kind === Step.SPIN || kind === Step.SLEEP || kind === Step.YIELD) {
      throw new BadInput(`task ${task}'s setup waited for another cpu (a ${STEP_NAMES[kind]} step), but a hunt runs each setup alone at boot: move that operation into the program, or hunt with --explore-setup`);
    }
    modelAssert(i < SETUP_STEPS_MAX, 'a setup does not end', () => `task ${task}: over ${SETUP_STEPS_MAX} steps`);
  }
}
/** A setup's steps at most: a bound (munmap's unmapper takes a few per page). */
const SETUP_STEPS_MAX = 50_000_000;

/** Each user task's setup, on its cpu with its mm loaded, nothing else running: as if it ran first and alone, before time 0. */
function runSetups(m: Machine, config: RunConfig, tasks: TaskSpec[], oracle: Oracle): void {
  const setup = findWorkload(config.workload)?.setup;
  if (!setup) return;
  const traits = findVariant(config.variant)!;
  tasks.forEach((spec, task) => {
    if (spec.kind !== TaskKind.USER) return;
    // the setup takes no model time: every time it leaves in the machine (a lock's release, a wake-up) is 0, so no cpu's clock starts behind what it left
    const ctx = newKctx({ m, cpu: spec.cpu, config: { ...config, modelClocks: false }, traits, oracle, rng: new Rng(SETUP_RNG_SEED), watchNow: () => 0, latencyStats: false });
    ctx.task = task;
    ctx.mm = spec.mm;
    const path = setup(ctx, spec);
    if (path === null) return;
    Atomics.store(m.mem, m.cpu(spec.cpu, CPU_FIELD.CURRENT_TASK), task + 1);
    switchMm(ctx, spec.mm);
    runAlone(path, task);
    modelAssert(ctx.ptlHeld === 0 && ctx.gatherDepth === 0 && m.mem[m.cpu(spec.cpu, CPU_FIELD.PREEMPT_COUNT)] === 0, 'a setup ended holding a lock or inside a gather', () => `task ${task}`);
    Atomics.store(m.mem, m.cpu(spec.cpu, CPU_FIELD.CURRENT_TASK), 0);
  });
  // a boot's oracle reports to nobody: a setup that fires one would hide a finding, so it stops the run by name instead
  const fired = oracle.violations[0];
  modelAssert(fired === undefined, 'an oracle fired in a setup run at boot: hunt it with --explore-setup', () => `${fired!.rule}: ${fired!.detail}`);
}

/**
 * Refuse, before any worker starts, a config whose setup cannot run alone
 * at boot (runAlone throws the BadInput). Boots fresh, so the check keeps
 * no copy of the machine in the thread that asks.
 */
export function checkSetupAlone(config: RunConfig): void {
  if (config.setupOnce && declaresSetup(config)) bootFresh(config);
}

/** Boot without the snapshot cache (what a cached snapshot must equal). */
export function bootFresh(config: RunConfig): { m: Machine; tasks: TaskSpec[] } {
  const size = layoutSizeFor(config);
  if (size.tlbEntries % TLB_WAYS !== 0) throw new ModelAssert('TLB size', `${size.tlbEntries} is not a multiple of ${TLB_WAYS}`);
  const m = Machine.create(size);
  const mem = m.mem;
  mem[HDR.ONLINE_CPUS] = config.cpus;
  initAllocator(mem, m);
  const oracle = new Oracle(config.variant, config.seed, 16, () => 0, () => {});
  const ctx = bootCtx(m, config, oracle);
  const tasks = allTasks(config);
  if (config.immapLock === 'mutex') mutexInit(mem, m.file(0, FILE_FIELD.I_MMAP_LOCK));
  mem[m.file(0, FILE_FIELD.ACCOUNT_DIRTY)] = config.diskFile ? 1 : 0;
  for (let mm = 0; mm < size.mms; mm++) {
    const pgd = runToEnd(allocPage(ctx, 'GFP_KERNEL', PageState.PAGETABLE));
    mem[m.page(pgd, PAGE_FIELD.MM)] = mm + 1;
    mem[m.page(pgd, PAGE_FIELD.INDEX)] = 4;
    mem[m.mm(mm, MM_FIELD.PGD)] = pgd;
    mem[m.mm(mm, MM_FIELD.USERS)] = tasks.filter((t) => t.mm === mm).length;
  }
  tasks.forEach((t, i) => {
    mem[m.task(i, TASK_FIELD.CPU)] = t.cpu;
    mem[m.task(i, TASK_FIELD.MM)] = t.mm;
    mem[m.task(i, TASK_FIELD.KIND)] = t.kind;
  });
  mem[HDR.LIVE_TASKS] = tasks.filter((t) => t.kind === TaskKind.USER).length;
  if (config.setupOnce) runSetups(m, config, tasks, oracle);
  mem[HDR.RUN_STATE] = RunState.RUNNING;
  return { m, tasks };
}
