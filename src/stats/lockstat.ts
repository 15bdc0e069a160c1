// lock_stat, as Documentation/locking/lockstat.rst defines it, per lock
// class: contentions and acquisitions, the cpu bounces of each (an
// acquisition or contention by a different cpu than the lock's previous
// holder), wait and hold times (min, max, total), and the code locations
// that waited, most frequent first. Each cpu keeps its own table; the main
// thread merges them. Times are nanoseconds on the run's clock.

import { modelAssert } from '../machine/errors.ts';

/** Contention points kept per class and cpu (the kernel keeps 4; more are dropped as "other"). */
export const CONTENTION_POINTS_MAX = 8;

export interface LockClassStat {
  class: string;
  conBounces: number;
  contentions: number;
  waittimeMinNs: number;
  waittimeMaxNs: number;
  waittimeTotalNs: number;
  acqBounces: number;
  acquisitions: number;
  holdtimeMinNs: number;
  holdtimeMaxNs: number;
  holdtimeTotalNs: number;
  /** Where waiters waited: call site and how often, most first. */
  contentionPoints: { site: string; count: number }[];
}

function emptyClass(cls: string): LockClassStat {
  return {
    class: cls,
    conBounces: 0,
    contentions: 0,
    waittimeMinNs: 0,
    waittimeMaxNs: 0,
    waittimeTotalNs: 0,
    acqBounces: 0,
    acquisitions: 0,
    holdtimeMinNs: 0,
    holdtimeMaxNs: 0,
    holdtimeTotalNs: 0,
    contentionPoints: [],
  };
}

function minNonZero(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  return Math.min(a, b);
}

export class LockStat {
  private readonly classes = new Map<string, LockClassStat>();
  constructor(readonly enabled: boolean) {}

  private of(cls: string): LockClassStat {
    let s = this.classes.get(cls);
    if (!s) this.classes.set(cls, (s = emptyClass(cls)));
    return s;
  }

  /** An acquisition; `waitedNs` > 0 or `contended` when it had to wait; `bounced` when the previous holder was another cpu. */
  acquired(cls: string, site: string, contended: boolean, waitedNs: number, bounced: boolean): void {
    if (!this.enabled) return;
    const s = this.of(cls);
    s.acquisitions++;
    if (bounced) s.acqBounces++;
    if (!contended) return;
    s.contentions++;
    if (bounced) s.conBounces++;
    s.waittimeMinNs = minNonZero(s.waittimeMinNs, Math.max(1, waitedNs));
    s.waittimeMaxNs = Math.max(s.waittimeMaxNs, waitedNs);
    s.waittimeTotalNs += waitedNs;
    const p = s.contentionPoints.find((x) => x.site === site);
    if (p) p.count++;
    else if (s.contentionPoints.length < CONTENTION_POINTS_MAX) s.contentionPoints.push({ site, count: 1 });
  }

  released(cls: string, heldNs: number): void {
    if (!this.enabled) return;
    const s = this.of(cls);
    s.holdtimeMinNs = minNonZero(s.holdtimeMinNs, Math.max(1, heldNs));
    s.holdtimeMaxNs = Math.max(s.holdtimeMaxNs, heldNs);
    s.holdtimeTotalNs += heldNs;
  }

  snapshot(): LockClassStat[] {
    return [...this.classes.values()].map((s) => ({ ...s, contentionPoints: s.contentionPoints.map((p) => ({ ...p })) }));
  }
}

/** Every cpu's table, merged; classes sorted by contentions, then acquisitions. */
export function mergeLockStat(parts: LockClassStat[][]): LockClassStat[] {
  const out = new Map<string, LockClassStat>();
  for (const part of parts) {
    for (const s of part) {
      const m = out.get(s.class) ?? emptyClass(s.class);
      m.conBounces += s.conBounces;
      m.contentions += s.contentions;
      m.waittimeMinNs = minNonZero(m.waittimeMinNs, s.waittimeMinNs);
      m.waittimeMaxNs = Math.max(m.waittimeMaxNs, s.waittimeMaxNs);
      m.waittimeTotalNs += s.waittimeTotalNs;
      m.acqBounces += s.acqBounces;
      m.acquisitions += s.acquisitions;
      m.holdtimeMinNs = minNonZero(m.holdtimeMinNs, s.holdtimeMinNs);
      m.holdtimeMaxNs = Math.max(m.holdtimeMaxNs, s.holdtimeMaxNs);
      m.holdtimeTotalNs += s.holdtimeTotalNs;
      for (const p of s.contentionPoints) {
        const q = m.contentionPoints.find((x) => x.site === p.site);
        if (q) q.count += p.count;
        else m.contentionPoints.push({ ...p });
      }
      out.set(s.class, m);
    }
  }
  const all = [...out.values()];
  for (const s of all) s.contentionPoints.sort((a, b) => b.count - a.count || a.site.localeCompare(b.site));
  return all.sort((a, b) => b.contentions - a.contentions || b.acquisitions - a.acquisitions || a.class.localeCompare(b.class));
}

const US = (ns: number): string => (ns / 1000).toFixed(2);

/** /proc/lock_stat's layout: one row per class, then its contention points. */
export function lockStatText(stats: LockClassStat[], clock: string): string {
  const cols = ['class name', 'con-bounces', 'contentions', 'waittime-min', 'waittime-max', 'waittime-total', 'waittime-avg', 'acq-bounces', 'acquisitions', 'holdtime-min', 'holdtime-max', 'holdtime-total', 'holdtime-avg'];
  const lines = [`lock_stat version 0.4 (times in ${clock})`, cols.map((c, i) => (i === 0 ? c.padStart(32) : c.padStart(15))).join('')];
  for (const s of stats) {
    const row = [
      s.class.padStart(32),
      ...[s.conBounces, s.contentions].map((n) => String(n).padStart(15)),
      ...[s.waittimeMinNs, s.waittimeMaxNs, s.waittimeTotalNs, s.contentions ? s.waittimeTotalNs / s.contentions : 0].map((n) => US(n).padStart(15)),
      ...[s.acqBounces, s.acquisitions].map((n) => String(n).padStart(15)),
      ...[s.holdtimeMinNs, s.holdtimeMaxNs, s.holdtimeTotalNs, s.acquisitions ? s.holdtimeTotalNs / s.acquisitions : 0].map((n) => US(n).padStart(15)),
    ];
    lines.push(row.join(''));
    for (const p of s.contentionPoints.slice(0, 4)) lines.push(`${String(p.count).padStart(40)} [<${p.site}>]`);
  }
  return lines.join('\n');
}

/** Locks one cpu's tasks may hold at once and have timed: far more than any kernel path nests. */
export const HOLD_TIMES_MAX = 64;

/**
 * When each lock this cpu's tasks hold was taken (µs), by key. Few are held
 * at once, so a short table searched from the end beats a Map, whose
 * deletes were a measurable share of every lock release.
 */
export class HoldTimes {
  private readonly keys: number[] = [];
  private readonly sinceUs: number[] = [];
  set(key: number, us: number): void {
    const i = this.keys.lastIndexOf(key);
    if (i >= 0) {
      this.sinceUs[i] = us;
      return;
    }
    modelAssert(this.keys.length < HOLD_TIMES_MAX, 'too many locks held at once', () => `${this.keys.length} timed holds`);
    this.keys.push(key);
    this.sinceUs.push(us);
  }
  /** When `key` was taken, forgetting it; undefined when its hold was not timed. */
  take(key: number): number | undefined {
    const i = this.keys.lastIndexOf(key);
    if (i < 0) return undefined;
    const us = this.sinceUs[i]!;
    this.keys[i] = this.keys[this.keys.length - 1]!;
    this.sinceUs[i] = this.sinceUs[this.sinceUs.length - 1]!;
    this.keys.pop();
    this.sinceUs.pop();
    return us;
  }
}
