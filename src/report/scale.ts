// The scaling table: for each variant, operations per second at each cpu
// count against linear scaling from its smallest count, with the costs that
// explain the curve. The CSV has will-it-scale's shape (one row per count and
// variant) with the columns named in formats.ts.

import type { RunResult } from '../engine/result.ts';
import { SCALE_CSV_COLUMNS, type ScaleRow } from './formats.ts';

const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;

export function scaleRows(results: RunResult[]): ScaleRow[] {
  const rows: ScaleRow[] = [];
  const variants = [...new Set(results.map((r) => r.variant))];
  for (const variant of variants) {
    const mine = results.filter((r) => r.variant === variant).sort((a, b) => a.config.cpus - b.config.cpus);
    const base = mine[0]!;
    for (const r of mine) {
      rows.push({
        cpus: r.config.cpus,
        variant,
        ops_per_sec: r.opsPerSec,
        linear: round((base.opsPerSec * r.config.cpus) / base.config.cpus, 2),
        pte_lock_wait_p99_us: round(r.latency.summaries.pteLockWait.p99Ns / 1000, 3),
        ipis_per_op: r.counters.ops > 0 ? round(r.counters.ipisSent / r.counters.ops, 3) : 0,
        preempt_off_max_us: round((r.latency.preemptOffMax?.ns ?? 0) / 1000, 3),
      });
    }
  }
  return rows.sort((a, b) => a.cpus - b.cpus || a.variant.localeCompare(b.variant));
}

export function scaleCsv(rows: ScaleRow[]): string {
  return [SCALE_CSV_COLUMNS.join(','), ...rows.map((r) => SCALE_CSV_COLUMNS.map((c) => String(r[c])).join(','))].join('\n') + '\n';
}
