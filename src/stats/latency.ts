// What one cpu measures about time: its non-preemptible sections (like the
// kernel's preemptirqsoff tracer: the longest, with where it began and
// ended), its irqs-off sections, the latency probe's wake-up delays, pte-lock
// wait and hold, gather flushes and IPI ack waits. All in nanoseconds of the
// run's clock. Sections are tracked by the cpu that owns them only.

import { Hist, type HistSummary } from './histogram.ts';

export const LATENCY_NAMES = ['preemptOff', 'irqsOff', 'probeWakeup', 'pteLockWait', 'pteLockHold', 'gatherFlush', 'ipiAckWait'] as const;
export type LatencyName = (typeof LATENCY_NAMES)[number];

/** The longest section of one kind: how long, and the code that opened and closed it. */
export interface SectionMax {
  ns: number;
  cpu: number;
  task: number;
  startWhere: string;
  endWhere: string;
}

export class CpuLatency {
  readonly hists: Record<LatencyName, Hist>;
  preemptOffMax: SectionMax | null = null;
  irqsOffMax: SectionMax | null = null;
  /** Parallel mode: IPI send to last ack in host time, what the host's threads make of a shootdown (a host figure, never a model one). */
  readonly hostIpiAckWait = new Hist();
  /** Parallel mode: host time spent inside measured operations (µs), the worker's speed at the kernel paths. */
  hostOpTimeUs = 0;
  constructor(readonly enabled: boolean) {
    this.hists = Object.fromEntries(LATENCY_NAMES.map((n) => [n, new Hist()])) as Record<LatencyName, Hist>;
  }
  recordUs(name: LatencyName, us: number): void {
    if (this.enabled) this.hists[name].recordUs(us);
  }
  encode(): EncodedLatency {
    return {
      hists: Object.fromEntries(LATENCY_NAMES.map((n) => [n, this.hists[n].encode()])) as Record<LatencyName, string>,
      preemptOffMax: this.preemptOffMax,
      irqsOffMax: this.irqsOffMax,
      hostIpiAckWait: this.hostIpiAckWait.encode(),
      hostOpTimeUs: this.hostOpTimeUs,
    };
  }
}

/** How a cpu's latency crosses from its worker: plain data. */
export interface EncodedLatency {
  hists: Record<LatencyName, string>;
  preemptOffMax: SectionMax | null;
  irqsOffMax: SectionMax | null;
  hostIpiAckWait: string;
  hostOpTimeUs: number;
}

/** A whole run's latency: every cpu merged. */
export interface LatencyReport {
  summaries: Record<LatencyName, HistSummary>;
  /** The encoded merged histograms (HdrHistogram compressed base64). */
  encoded: Record<LatencyName, string>;
  preemptOffMax: SectionMax | null;
  irqsOffMax: SectionMax | null;
}

function longer(a: SectionMax | null, b: SectionMax | null): SectionMax | null {
  if (!a) return b;
  if (!b) return a;
  return b.ns > a.ns ? b : a;
}

export function mergeLatency(parts: EncodedLatency[]): LatencyReport {
  const merged = Object.fromEntries(LATENCY_NAMES.map((n) => [n, new Hist()])) as Record<LatencyName, Hist>;
  let preemptOffMax: SectionMax | null = null;
  let irqsOffMax: SectionMax | null = null;
  for (const p of parts) {
    for (const n of LATENCY_NAMES) merged[n].add(Hist.decode(p.hists[n]));
    preemptOffMax = longer(preemptOffMax, p.preemptOffMax);
    irqsOffMax = longer(irqsOffMax, p.irqsOffMax);
  }
  return {
    summaries: Object.fromEntries(LATENCY_NAMES.map((n) => [n, merged[n].summary()])) as Record<LatencyName, HistSummary>,
    encoded: Object.fromEntries(LATENCY_NAMES.map((n) => [n, merged[n].encode()])) as Record<LatencyName, string>,
    preemptOffMax,
    irqsOffMax,
  };
}

/** The host-time IPI waits of every cpu, merged. */
export function mergeHostIpiAckWait(parts: EncodedLatency[]): HistSummary {
  const merged = new Hist();
  for (const p of parts) merged.add(Hist.decode(p.hostIpiAckWait));
  return merged.summary();
}
