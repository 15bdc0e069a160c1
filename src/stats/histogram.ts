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
 * Values below this are kept as plain counts and handed to the HdrHistogram
 * only when it is read: at three significant digits it keeps every value
 * below 2048 exact anyway, and model-time lock waits and holds are mostly
 * that short, so the same histogram comes out for a fraction of the work
 * (one array increment instead of HdrHistogram's index arithmetic).
 */
const EXACT_BELOW_NS = 2048;

/**
 * A histogram, built at its first value: a run keeps one per latency name
 * and cpu, most of them empty, and building, encoding and merging empty
 * ones was most of a short hunted seed.
 */
export class Hist {
  private h: hdr.Histogram | null;
  /** Counts of the short values not yet in `h`, by value (ns); null until the first. */
  private short: Int32Array | null = null;
  private shortCount = 0;
  constructor(h?: hdr.Histogram) {
    this.h = h ?? null;
  }
  recordNs(ns: number): void {
    const v = Math.min(HIGHEST_NS, Math.max(1, Math.round(ns)));
    if (v < EXACT_BELOW_NS) {
      (this.short ??= new Int32Array(EXACT_BELOW_NS))[v]!++;
      this.shortCount++;
      return;
    }
    (this.h ??= build()).recordValue(v);
  }
  /** A duration measured in microseconds (the unit of Kctx.now). */
  recordUs(us: number): void {
    this.recordNs(us * 1000);
  }
  /** The histogram with every value recorded so far, or null when there is none. */
  private all(): hdr.Histogram | null {
    const short = this.short;
    if (short !== null && this.shortCount > 0) {
      const h = (this.h ??= build());
      for (let v = 1; v < EXACT_BELOW_NS; v++) {
        if (short[v] === 0) continue;
        h.recordValueWithCount(v, short[v]!);
        short[v] = 0;
      }
      this.shortCount = 0;
    }
    return this.h;
  }
  get count(): number {
    return (this.h === null ? 0 : this.h.totalCount) + this.shortCount;
  }
  add(other: Hist): void {
    const o = other.all();
    if (o !== null) (this.h ??= build()).add(o);
  }
  summary(): HistSummary {
    const h = this.all();
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
    const h = this.all();
    return h === null ? encodedEmpty() : hdr.encodeIntoCompressedBase64(h);
  }
  static decode(s: string): Hist {
    return s === encodedEmpty() ? new Hist() : new Hist(hdr.decodeFromCompressedBase64(s, 32, false));
  }
}
