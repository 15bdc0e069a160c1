// Chrome trace / Perfetto JSON. Each cpu records into its own bounded buffer
// (--trace-limit events): once full it records nothing more and counts what
// it dropped, so tracing a long run cannot exhaust memory and every event
// kept is whole. Tracks: "CPU n" (pid 1, tid n) carries lock holds, TLB
// flushes, IPI handlers, preemptions and violations; gathers are async
// slices, since a preemptible gather can overlap another task's on its cpu;
// each IPI is a flow from the send, through the target's handler, to the
// ack seen by the sender. Times are microseconds on the run's clock.

export interface TraceEvent {
  name: string;
  ph: 'X' | 'i' | 'b' | 'e' | 's' | 't' | 'f' | 'C' | 'M';
  ts: number;
  pid: number;
  tid: number;
  cat?: string;
  dur?: number;
  id?: string;
  s?: 'g' | 'p' | 't';
  bp?: 'e';
  args?: Record<string, string | number>;
}

export const TRACE_PID = 1;

/** Flow ids for IPIs: one per (sender, shootdown, target). */
export function ipiFlowId(sender: number, seq: number, target: number): string {
  return `ipi-${sender}-${seq}-${target}`;
}

export class CpuTrace {
  readonly events: TraceEvent[] = [];
  dropped = 0;
  /** Shootdowns sent by this cpu so far, to name IPI flows. */
  ipiSeq = 0;
  private gatherSeq = 0;
  constructor(readonly cpu: number, readonly limit: number) {}

  private push(e: TraceEvent): void {
    if (this.events.length >= this.limit) {
      this.dropped++;
      return;
    }
    this.events.push(e);
  }
  /** Room for `n` more events: flows are recorded whole or not at all. */
  hasRoom(n: number): boolean {
    return this.events.length + n <= this.limit;
  }

  slice(name: string, cat: string, startUs: number, endUs: number, args?: Record<string, string | number>): void {
    this.push({ name, cat, ph: 'X', ts: startUs, dur: Math.max(0, endUs - startUs), pid: TRACE_PID, tid: this.cpu, ...(args ? { args } : {}) });
  }
  instant(name: string, cat: string, tsUs: number, args?: Record<string, string | number>): void {
    this.push({ name, cat, ph: 'i', s: 't', ts: tsUs, pid: TRACE_PID, tid: this.cpu, ...(args ? { args } : {}) });
  }
  /** An async slice (a gather); returns its id for gatherEnd. */
  gatherBegin(tsUs: number, task: number, design: string): string {
    const id = `gather-${this.cpu}-${this.gatherSeq++}`;
    this.push({ name: `mmu_gather (${design})`, cat: 'gather', ph: 'b', id, ts: tsUs, pid: TRACE_PID, tid: this.cpu, args: { task } });
    return id;
  }
  gatherEnd(id: string, tsUs: number, design: string): void {
    // the end is kept even past the limit, so no async slice is left open
    this.events.push({ name: `mmu_gather (${design})`, cat: 'gather', ph: 'e', id, ts: tsUs, pid: TRACE_PID, tid: this.cpu });
  }
  flow(ph: 's' | 't' | 'f', id: string, tsUs: number): void {
    this.push({ name: 'IPI', cat: 'ipi', ph, id, ts: tsUs, pid: TRACE_PID, tid: this.cpu, ...(ph === 's' ? {} : { bp: 'e' as const }) });
  }
  counter(name: string, tsUs: number, value: number): void {
    this.push({ name, ph: 'C', ts: tsUs, pid: TRACE_PID, tid: this.cpu, args: { value } });
  }
}

export interface TraceFile {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ns';
  otherData: Record<string, string | number>;
}

/**
 * Every cpu's events in one file: track names first, then events by time.
 * Flows missing an end (their other cpu's buffer was full) and gathers whose
 * begin was dropped are removed, so what is left is well formed.
 */
export function mergeTrace(cpus: number, parts: { events: TraceEvent[]; dropped: number }[], otherData: Record<string, string | number>): TraceFile {
  const all = parts.flatMap((p) => p.events);
  const flowPhases = new Map<string, Set<string>>();
  const gatherBegins = new Set<string>();
  for (const e of all) {
    if (e.cat === 'ipi' && e.id) flowPhases.set(e.id, (flowPhases.get(e.id) ?? new Set()).add(e.ph));
    if (e.ph === 'b' && e.id) gatherBegins.add(e.id);
  }
  const kept = all.filter((e) => {
    if (e.cat === 'ipi' && e.id) {
      const phases = flowPhases.get(e.id)!;
      return phases.has('s') && phases.has('f');
    }
    if (e.ph === 'e' && e.id) return gatherBegins.has(e.id);
    return true;
  });
  kept.sort((a, b) => a.ts - b.ts || a.tid - b.tid);
  const meta: TraceEvent[] = [{ name: 'process_name', ph: 'M', ts: 0, pid: TRACE_PID, tid: 0, args: { name: 'shootdown machine' } }];
  for (let cpu = 0; cpu < cpus; cpu++) meta.push({ name: 'thread_name', ph: 'M', ts: 0, pid: TRACE_PID, tid: cpu, args: { name: `CPU ${cpu}` } });
  const dropped = parts.reduce((n, p) => n + p.dropped, 0);
  return { traceEvents: [...meta, ...kept], displayTimeUnit: 'ns', otherData: { ...otherData, eventsDropped: dropped } };
}
