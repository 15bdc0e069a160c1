// Latency histograms (HdrHistogram). Values are nanoseconds of model time
// (host time only in the result's host figures). Each cpu records into its own histograms with no
// cross-worker traffic; they cross to the main thread encoded and are merged
// there, and the encoding goes into the result JSON so runs can be merged later.

import * as hdr from 'hdr-histogram-js';

/** 1 ns to about 17 minutes, three significant digits. */
const HIGHEST_NS = 1e12;

function build(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_NS, numberOfSignificantValueDigits: 3, useWebAssembly: false });
}

export interface HistSummary {
  count: number;
  minNs: number;
  p50Ns: number;
  p90Ns: number;
  p99Ns: number;
  p999Ns: number;
  maxNs: number;
  meanNs: number;
}

export class Hist {
  private readonly h: hdr.Histogram;
  constructor(h?: hdr.Histogram) {
    this.h = h ?? build();
  }
  recordNs(ns: number): void {
    this.h.recordValue(Math.min(HIGHEST_NS, Math.max(1, Math.round(ns))));
  }
  /** A duration measured in microseconds (the unit of Kctx.now). */
  recordUs(us: number): void {
    this.recordNs(us * 1000);
  }
  get count(): number {
    return this.h.totalCount;
  }
  add(other: Hist): void {
    this.h.add(other.h);
  }
  summary(): HistSummary {
    const h = this.h;
    const empty = h.totalCount === 0;
    const at = (p: number): number => (empty ? 0 : h.getValueAtPercentile(p));
    return {
      count: h.totalCount,
      minNs: empty ? 0 : h.minNonZeroValue,
      p50Ns: at(50),
      p90Ns: at(90),
      p99Ns: at(99),
      p999Ns: at(99.9),
      maxNs: empty ? 0 : h.maxValue,
      meanNs: empty ? 0 : Math.round(h.mean),
    };
  }
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.h);
  }
  static decode(s: string): Hist {
    return new Hist(hdr.decodeFromCompressedBase64(s, 32, false));
  }
}
