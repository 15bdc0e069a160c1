// kernel-check's model side and its comparison: the same operation on the
// same layout in the model's v6.18 and on the live kernel, compared by the
// tlb:tlb_flush events each emits while the operation runs. The layout is
// the one bench/native/kernel-check.c builds: a guard page at the start of a
// pmd, the PAGES pages right after it, another guard right after them; the
// guards keep the first and last pte tables and every upper table, so both
// sides flush the same ranges. A reader thread of the same mm on the other
// cpu read every page and waits in user mode, not lazy, while the operation
// runs. Events compare as a multiset per reason: the order across cpus is a
// matter of timestamps, the counts and pages are the kernel's decisions.

import { TLB_FLUSH_REASON_NAMES } from '../machine/layout.ts';
import { makeConfig } from '../engine/configure.ts';
import { runOnce } from '../engine/run.ts';
import { parseScenario } from '../scenario/load.ts';
import type { TlbFlushEvent } from '../engine/result.ts';

export const KERNEL_CHECK_WORKLOADS = ['munmap', 'madvise', 'mprotect'] as const;
export type KernelCheckWorkload = (typeof KERNEL_CHECK_WORKLOADS)[number];
/** The sizes the check runs by default: both sides of the 33-page ceiling, a batch chain (9678 pages fill 6.18's 19 batches), past it. */
export const KERNEL_CHECK_SIZES = [16, 33, 34, 1000, 9678, 9679, 20000] as const;
/** The model's variant for today's kernel. */
export const KERNEL_CHECK_VARIANT = 'v6.18';
/** Events one operation may emit before the comparison calls it a runaway: three per flush, a flush per 9678 pages. */
const EVENTS_PER_CASE_MAX = 1000;

export interface KernelCheckCase {
  workload: KernelCheckWorkload;
  pages: number;
}

export interface KernelCheckRow extends KernelCheckCase {
  kernel: TlbFlushEvent[];
  model: TlbFlushEvent[];
  same: boolean;
  /** Live runs made: the first whose events equal the model's, or all of them. */
  attempts: number;
}

/** The scenario the model runs for one case: the C program's layout and phases, in scenario terms. */
export function kernelCheckScenarioText(c: KernelCheckCase): string {
  const n = c.pages;
  const op = c.workload === 'mprotect' ? `mprotect: {start: 1, pages: ${n}, writable: false}` : `${c.workload}: {start: 1, pages: ${n}}`;
  return [
    `name: kernel-check-${c.workload}-${n}`,
    'machine: {cpus: 2, preempt: full, kworker: false}',
    'tasks:',
    '  - cpu: 0',
    '    mm: 0',
    '    program:',
    '      - mmap: {start: 0, pages: 1, measure: false}',
    `      - mmap: {start: 1, pages: ${n}, measure: false}`,
    `      - mmap: {start: ${n + 1}, pages: 1, measure: false}`,
    '      - read: {start: 0, pages: 1}',
    `      - write: {start: 1, pages: ${n}}`,
    `      - read: {start: ${n + 1}, pages: 1}`,
    '      - barrier',
    '      - barrier',
    `      - ${op}`,
    '      - barrier',
    '  - cpu: 1',
    '    mm: 0',
    '    program:',
    '      - barrier',
    `      - read: {start: 1, pages: ${n}}`,
    '      - barrier',
    '      - barrier',
    '',
  ].join('\n');
}

/** The model's events inside the measured operation of one case. */
export async function modelEvents(c: KernelCheckCase): Promise<TlbFlushEvent[]> {
  const scenario = parseScenario(`kernel-check ${c.workload} ${c.pages}`, kernelCheckScenarioText(c));
  const r = await runOnce(makeConfig({ ...scenario.options, variant: KERNEL_CHECK_VARIANT, clockSkew: 'none' }));
  if (r.error) throw new Error(`the model's run of ${c.workload} ${c.pages} failed: ${r.error}`);
  const w = r.tlbFlushEventsMeasured;
  if (r.tlbFlushEventsDropped > 0 || !w) throw new Error(`the model's run of ${c.workload} ${c.pages} kept no complete window of events`);
  return r.tlbFlushEvents.slice(w.from, w.to);
}

const EVENT_LINE = /^\s*\S+?-(\d+)\s+\[\d+\].*?\btlb_flush: pages:(-?\d+) reason:.*\((\d+)\)\s*$/;

/**
 * The tlb:tlb_flush events of threads `tids` between the markers in tracefs
 * `trace` text (merged across cpus in timestamp order). Throws if a marker is
 * missing: a window that is not whole compares nothing.
 */
export function liveEvents(trace: string, tids: readonly number[], begin: string, end: string): TlbFlushEvent[] {
  const lines = trace.split('\n');
  const from = lines.findIndex((l) => l.includes(`tracing_mark_write: ${begin}`));
  const to = lines.findIndex((l, i) => i > from && l.includes(`tracing_mark_write: ${end}`));
  if (from < 0 || to < 0) throw new Error(`the trace holds no "${begin}" ... "${end}" window (events lost: is the trace buffer big enough?)`);
  const out: TlbFlushEvent[] = [];
  for (const line of lines.slice(from + 1, to)) {
    const m = EVENT_LINE.exec(line);
    if (!m || !tids.includes(Number(m[1]))) continue;
    out.push({ reason: Number(m[3]), pages: Number(m[2]) });
    if (out.length > EVENTS_PER_CASE_MAX) throw new Error(`more than ${EVENTS_PER_CASE_MAX} tlb_flush events in one operation`);
  }
  return out;
}

function key(e: TlbFlushEvent): string {
  return `${e.reason}:${e.pages}`;
}

/** The same events per reason and pages, in any order across cpus. */
export function sameEvents(a: readonly TlbFlushEvent[], b: readonly TlbFlushEvent[]): boolean {
  return a.length === b.length && a.map(key).sort().join(',') === b.map(key).sort().join(',');
}

/** `reason N: pages, pages ...` per reason, in reason order. */
export function eventsText(events: readonly TlbFlushEvent[]): string {
  const by = new Map<number, number[]>();
  for (const e of events) by.set(e.reason, [...(by.get(e.reason) ?? []), e.pages]);
  const parts = [...by.keys()].sort((x, y) => x - y).map((r) => `${r} x${by.get(r)!.length} [${by.get(r)!.join(' ')}]`);
  return parts.length ? parts.join('; ') : 'none';
}

export function kernelCheckTable(rows: readonly KernelCheckRow[]): string {
  const out = [`tlb:tlb_flush events per operation, reason xcount [pages] (reasons: ${TLB_FLUSH_REASON_NAMES.map((n, i) => `${i} ${n}`).join(', ')})`];
  for (const r of rows) {
    out.push(`  ${r.workload.padEnd(9)}${String(r.pages).padStart(6)} pages  ${r.same ? 'same' : 'DIFFERENT'}${r.attempts > 1 ? ` (live run ${r.attempts})` : ''}`);
    out.push(`    kernel: ${eventsText(r.kernel)}`);
    if (!r.same) out.push(`    model:  ${eventsText(r.model)}`);
  }
  const differ = rows.filter((r) => !r.same).length;
  out.push(differ === 0 ? `verdict: the model's ${KERNEL_CHECK_VARIANT} emits the live kernel's events in all ${rows.length} cases` : `verdict: ${differ} of ${rows.length} cases differ`);
  return out.join('\n');
}
