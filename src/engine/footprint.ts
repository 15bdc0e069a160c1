// A step's footprint: the words of the machine's shared buffer that one
// step of a cpu (runner.step: its interrupts, its scheduler's look, its
// task's step) read and changed. The engine records it; the kernel paths
// declare nothing, so the footprint cannot drift from what they do. Every
// access to the buffer goes through `m.mem`, as an index or as an Atomics
// call on it: for the run, the machine's `mem` is a proxy that notes each
// index (a subarray of it is such a view too), and `Atomics` notes the
// calls made on any of them. A view made of the raw buffer (`m.sab`) would
// escape it: only boot and the parallel engine make one.
// A step is atomic in the deterministic engine, so what it did to the
// machine is the words whose value it changed (`writes`), and what it did
// depends on no more than the words it touched. Hence the invariant: two
// steps commute when neither changes a word the other touched; a word
// stored with the value it had, or changed and changed back, is a read.
// Left out, by design: model time (the Float64 clock and workload-time
// views), since two orders of independent steps may leave different clocks
// (bounded.ts says what that means for the reduction); and each cpu's
// preempt_count and irqs-off words, which hold the running task's own
// counts: only that cpu reads them, and a context switch saves and restores
// them, so one task's changes are never seen by another (runner.ts
// contextSwitch). One run records at a time, in one thread, synchronously.

import { modelAssert } from '../machine/errors.ts';
import { CPU_FIELD, type Machine } from '../machine/layout.ts';

export interface Footprint {
  /** Words touched and left as they were, in the order first touched. */
  readonly reads: Int32Array;
  /** Words whose value the step changed, in the order first touched. */
  readonly writes: Int32Array;
}

/** What a cpu's step touched when no task stepped. */
export const NO_FOOTPRINT: Footprint = { reads: new Int32Array(0), writes: new Int32Array(0) };

/** Whether two footprints are the same words, read and changed alike (in any order). */
export function sameFootprint(a: Footprint, b: Footprint): boolean {
  return sameWords(a.reads, b.reads) && sameWords(a.writes, b.writes);
}

function sameWords(x: Int32Array, y: Int32Array): boolean {
  if (x.length !== y.length) return false;
  const set = new Set(x);
  for (const w of y) if (!set.has(w)) return false;
  return true;
}

/** What a sequence of steps touched in all: a word some step changed is changed. */
export function union(steps: readonly Footprint[]): Footprint {
  const writes = new Set<number>();
  const reads = new Set<number>();
  for (const f of steps) for (const w of f.writes) writes.add(w);
  for (const f of steps) for (const r of f.reads) if (!writes.has(r)) reads.add(r);
  return { reads: Int32Array.from(reads), writes: Int32Array.from(writes) };
}

/** Two steps conflict when one writes a word the other reads or writes: then their order can change the outcome. */
export function conflicts(a: Footprint, b: Footprint): boolean {
  return overlaps(a.writes, b.writes) || overlaps(a.writes, b.reads) || overlaps(a.reads, b.writes);
}

function overlaps(x: Int32Array, y: Int32Array): boolean {
  if (x.length === 0 || y.length === 0) return false;
  const [small, large] = x.length <= y.length ? [x, y] : [y, x];
  if (small.length <= 8) {
    for (const w of small) if (large.includes(w)) return true;
    return false;
  }
  const set = new Set(small);
  for (const w of large) if (set.has(w)) return true;
  return false;
}

/** The words one step may touch at most: a bound, so a runaway step stops with a named error instead of growing a list for ever. */
const FOOTPRINT_WORDS_MAX = 1 << 20;

/** The Atomics operations that may write the word they are given. */
const WRITING = ['store', 'add', 'sub', 'and', 'or', 'xor', 'exchange', 'compareExchange'] as const;

/** The per-cpu words that hold the running task's own state (see the opening comment). */
const TASK_CONTEXT_FIELDS = [CPU_FIELD.PREEMPT_COUNT, CPU_FIELD.IRQS_DISABLED];

export class FootprintRecorder {
  /** The proxy the machine's `mem` is for the run. */
  readonly mem: Int32Array;
  private readonly target: Int32Array;
  /** Per word: the epoch of the step that last touched it (0: left out of footprints). */
  private readonly seen: Uint32Array;
  private epoch = 1;
  private recording = false;
  /** The words the current step touched, and each one's value before it. */
  private readonly touched: number[] = [];
  private readonly before: number[] = [];
  private realAtomics: typeof Atomics | null = null;
  /** Every recording view made, with the array it stands for and where that starts in the machine. */
  private readonly views = new WeakMap<object, { target: Int32Array; offset: number }>();

  constructor(m: Machine) {
    this.target = m.mem;
    this.seen = new Uint32Array(m.mem.length).fill(1);
    for (let cpu = 0; cpu < m.size.cpus; cpu++) for (const f of TASK_CONTEXT_FIELDS) this.seen[m.cpu(cpu, f)] = 0;
    this.mem = this.view(this.target, 0);
  }

  /**
   * A recording view of `t`, whose word 0 is the machine's word `offset`: a
   * subarray taken of it is one too (a legacy gather hands its page list to
   * free_pages as a subarray, read in later steps), and Atomics calls on any
   * of them are noted (install).
   */
  private view(t: Int32Array, offset: number): Int32Array {
    const note = (i: number): void => this.note(offset + i);
    const sub = (b = 0, e = t.length): Int32Array => {
      const from = b < 0 ? Math.max(t.length + b, 0) : Math.min(b, t.length);
      return this.view(t.subarray(b, e), offset + from);
    };
    const proxy = new Proxy(t, {
      get(target, p) {
        if (typeof p === 'string') {
          const i = +p;
          if (i === i) {
            note(i);
            return target[i];
          }
          if (p === 'subarray') return sub;
        }
        const v: unknown = Reflect.get(target, p, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
      set(target, p, v: number) {
        if (typeof p === 'string') {
          const i = +p;
          if (i === i) {
            note(i);
            target[i] = v;
            return true;
          }
        }
        return Reflect.set(target, p, v, target);
      },
    });
    this.views.set(proxy, { target: t, offset });
    return proxy;
  }

  private note(i: number): void {
    if (!this.recording) return;
    const s = this.seen[i]!;
    if (s === this.epoch || s === 0) return;
    this.seen[i] = this.epoch;
    this.touched.push(i);
    this.before.push(this.target[i]!);
    modelAssert(this.touched.length <= FOOTPRINT_WORDS_MAX, 'a step touched more words than a footprint may hold', () => `over ${FOOTPRINT_WORDS_MAX}`);
  }

  /** Swap the machine's memory for the recording proxy and `Atomics` for one that notes calls on it; `uninstall` undoes both. */
  install(m: Machine): void {
    modelAssert(this.realAtomics === null, 'a footprint recorder installed twice', () => 'one run records at a time');
    const real = globalThis.Atomics;
    this.realAtomics = real;
    const views = this.views;
    const note = (i: number): void => this.note(i);
    const patched: Record<string, unknown> = Object.create(real) as Record<string, unknown>;
    patched.load = (a: Int32Array, i: number) => {
      const v = views.get(a);
      if (v === undefined) return real.load(a, i);
      note(v.offset + i);
      return real.load(v.target, i);
    };
    for (const op of WRITING) {
      const f = real[op] as (a: Int32Array, i: number, x: number, y?: number) => number;
      // fixed arity: a rest parameter would cost an array per call on the hottest path of a recorded run
      patched[op] = (a: Int32Array, i: number, x: number, y?: number) => {
        const v = views.get(a);
        if (v === undefined) return f(a, i, x, y);
        note(v.offset + i);
        return f(v.target, i, x, y);
      };
    }
    patched.notify = (a: Int32Array, i: number, count?: number) => real.notify(views.get(a)?.target ?? a, i, count);
    patched.wait = (a: Int32Array, i: number, x: number, ms?: number) => real.wait(views.get(a)?.target ?? a, i, x, ms);
    globalThis.Atomics = patched as unknown as typeof Atomics;
    (m as { mem: Int32Array }).mem = this.mem;
  }

  uninstall(m: Machine): void {
    if (this.realAtomics === null) return;
    globalThis.Atomics = this.realAtomics;
    this.realAtomics = null;
    (m as { mem: Int32Array }).mem = this.target;
  }

  /** Start noting a step's accesses. */
  begin(): void {
    this.epoch++;
    modelAssert(this.epoch < 0xffffffff, 'footprint epochs ran out', () => 'over 2^32 steps recorded in one run');
    this.touched.length = 0;
    this.before.length = 0;
    this.recording = true;
  }

  /** Stop noting, and the step's footprint. */
  end(): Footprint {
    this.recording = false;
    const { touched, before, target } = this;
    let writes = 0;
    for (let k = 0; k < touched.length; k++) if (target[touched[k]!] !== before[k]) writes++;
    const w = new Int32Array(writes);
    const r = new Int32Array(touched.length - writes);
    let wi = 0;
    let ri = 0;
    for (let k = 0; k < touched.length; k++) {
      const i = touched[k]!;
      if (target[i] !== before[k]) w[wi++] = i;
      else r[ri++] = i;
    }
    return { reads: r, writes: w };
  }
}
