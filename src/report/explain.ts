// The story of a violation, per cpu: what each cpu did just before it (the
// trace events that ended before the violation's time), then the violation.
// Read beside the oracle's detail it says who cleared, who flushed, who still
// held a translation, and who touched it.

import type { RunResult } from '../engine/result.ts';
import type { TraceEvent } from '../stats/trace.ts';

const EVENTS_PER_CPU = 8;

function describe(e: TraceEvent): string {
  const args = e.args ? ` ${Object.entries(e.args).map(([k, v]) => `${k}=${v}`).join(' ')}` : '';
  if (e.ph === 'X') return `${e.name} for ${e.dur!.toFixed(1)} µs${args}`;
  if (e.ph === 'b') return `begins ${e.name}${args}`;
  if (e.ph === 'e') return `ends ${e.name}`;
  if (e.ph === 's') return `sends an IPI (${e.id})`;
  if (e.ph === 't') return `handles an IPI (${e.id})`;
  if (e.ph === 'f') return `sees the ack (${e.id})`;
  return `${e.name}${args}`;
}

export function explainText(r: RunResult, rule: string): string {
  const events = r.trace?.traceEvents ?? [];
  const mark = events.find((e) => e.ph === 'i' && e.cat === 'violation' && e.name === rule);
  if (!mark) return `no ${rule} in this run's trace`;
  const lines = [`how ${rule} came about (times in ${r.clock} µs; the violation at ${mark.ts.toFixed(1)}):`];
  for (let cpu = 0; cpu < r.config.cpus; cpu++) {
    const before = events.filter((e) => e.tid === cpu && e.ph !== 'M' && e.ph !== 'C' && (e.ts + (e.dur ?? 0) <= mark.ts || e === mark)).slice(-EVENTS_PER_CPU);
    lines.push(`cpu ${cpu}:`);
    for (const e of before) lines.push(`  ${e.ts.toFixed(1).padStart(10)}  ${e === mark ? `>>> ${rule}: ${String(e.args?.detail ?? '')}` : describe(e)}`);
  }
  return lines.join('\n');
}
