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

/** The encoding of an empty histogram, worked out once. */
let emptyEncoded: string | null = null;
function encodedEmpty(): string {
  return (emptyEncoded ??= hdr.encodeIntoCompressedBase64(build()));
}

/**
 * A histogram, built at its first value: a run keeps one per latency name
 * and cpu, most of them empty, and building, encoding and merging empty
 * ones was most of a short hunted seed.
 */
export class Hist {
  private h: hdr.Histogram | null;
  constructor(h?: hdr.Histogram) {
    this.h = h ?? null;
  }
  recordNs(ns: number): void {
    (this.h ??= build()).recordValue(Math.min(HIGHEST_NS, Math.max(1, Math.round(ns))));
  }
  /** A duration measured in microseconds (the unit of Kctx.now). */
  recordUs(us: number): void {
    this.recordNs(us * 1000);
  }
  get count(): number {
    return this.h === null ? 0 : this.h.totalCount;
  }
  add(other: Hist): void {
    if (other.h !== null) (this.h ??= build()).add(other.h);
  }
  summary(): HistSummary {
    const h = this.h;
    if (h === null || h.totalCount === 0) return { count: 0, minNs: 0, p50Ns: 0, p90Ns: 0, p99Ns: 0, p999Ns: 0, maxNs: 0, meanNs: 0 };
    return {
      count: h.totalCount,
      minNs: h.minNonZeroValue,
      p50Ns: h.getValueAtPercentile(50),
      p90Ns: h.getValueAtPercentile(90),
      p99Ns: h.getValueAtPercentile(99),
      p999Ns: h.getValueAtPercentile(99.9),
      maxNs: h.maxValue,
      meanNs: Math.round(h.mean),
    };
  }
  encode(): string {
    return this.h === null ? encodedEmpty() : hdr.encodeIntoCompressedBase64(this.h);
  }
  static decode(s: string): Hist {
    return s === encodedEmpty() ? new Hist() : new Hist(hdr.decodeFromCompressedBase64(s, 32, false));
  }
}
