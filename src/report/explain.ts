// The story of a violation, per cpu, from the trace of its replay: who cached
// the frame in a TLB, who cleared its pte, who flushed (and whom), who freed
// it, which task was preempted or switched in between, and who touched it.

import type { RunResult } from '../engine/result.ts';
import type { TraceEvent } from '../stats/trace.ts';

const EVENTS_PER_CPU = 12;

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

/**
 * The story of one violation: every event in the trace about its frame (the
 * TLB fills that cached it, the pte clear, the free), the flushes and IPI
 * handlers on each cpu from the first of those on, and the violation.
 */
export function explainText(r: RunResult, rule: string): string {
  const events = r.trace?.traceEvents ?? [];
  const v = r.violations.find((x) => x.rule === rule);
  const mark = events.find((e) => e.ph === 'i' && e.cat === 'violation' && e.name === rule);
  if (!v || !mark) return `no ${rule} in this run's trace`;
  const about = (e: TraceEvent): boolean => v.frame >= 0 && e.args?.frame === v.frame;
  const first = events.find((e) => about(e) && e.ts <= mark.ts)?.ts ?? mark.ts - 1;
  const flushes = (e: TraceEvent): boolean => (e.cat === 'tlb' && e.ph === 'X') || (e.cat === 'ipi' && e.ph === 'X') || e.cat === 'gather' || e.cat === 'sched';
  const lines = [`how ${rule} came about (frame ${v.frame}; times in ${r.clock} µs):`];
  for (let cpu = 0; cpu < r.config.cpus; cpu++) {
    const story = events.filter((e) => e.tid === cpu && e.ts >= first && e.ts <= mark.ts && (e === mark || about(e) || flushes(e)));
    lines.push(`cpu ${cpu}:${story.length ? '' : ' nothing about this frame'}`);
    for (const e of story.slice(-EVENTS_PER_CPU)) lines.push(`  ${e.ts.toFixed(1).padStart(10)}  ${e === mark ? `>>> ${rule}: ${String(e.args?.detail ?? '')}` : describe(e)}`);
  }
  return lines.join('\n');
}
