// Terminal output: a run's summary, and variants side by side.

import { RULES } from '../oracle/rules.ts';
import { VARIANTS } from '../gather/variants.ts';
import { WORKLOADS, declaresSetup } from '../workloads/index.ts';
import { allocFailText } from '../machine/config.ts';
import type { RunConfig } from '../machine/config.ts';
import { tlbFlushReasonCounts, type RunResult } from '../engine/result.ts';
import { TLB_FLUSH_REASON_NAMES } from '../machine/layout.ts';
import type { CoveragePoint } from '../engine/campaign.ts';
import type { LatencyName } from '../stats/latency.ts';
import type { HistSummary } from '../stats/histogram.ts';
import { FLAT_STEP_NS } from '../sync/context.ts';

/** Microseconds with a sensible number of digits. */
export function us(ns: number): string {
  const v = ns / 1000;
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export function clockName(r: RunResult): string {
  return r.config.modelClocks ? 'model µs' : `flat µs (every step ${FLAT_STEP_NS} ns)`;
}

/** The host's part of a run, in its own words: wall-clock time is never a model figure. */
export function hostText(r: RunResult): string {
  const h = r.host;
  const steal = r.mode === 'parallel' ? `, ${h.stealMs.toFixed(0)} ms lost to host descheduling (steal), ${h.blocks} waits blocked their thread` : '';
  return `host: ${h.elapsedMs.toFixed(0)} ms elapsed, ${h.opsPerSec} ops per host second${steal}, ${h.cores} host cores`;
}

/** Parallel mode with more simulated cpus than host cores: the one-line warning. */
export function hostWarning(c: RunConfig, cores: number): string | null {
  if (c.mode !== 'parallel' || c.cpus <= cores) return null;
  return `warning: ${c.cpus} simulated cpus on ${cores} host cores: cpus wait for each other's clocks while the host runs others, so host figures (elapsed, host ops/s, steal) are the host's; model times are not affected`;
}

function latencyLine(name: string, h: HistSummary): string {
  return `  ${name.padEnd(22)} n ${String(h.count).padStart(7)}  p50 ${us(h.p50Ns).padStart(8)}  p99 ${us(h.p99Ns).padStart(8)}  max ${us(h.maxNs).padStart(8)}`;
}

const LATENCY_LINES: [LatencyName, string][] = [
  ['pteLockWait', 'pte lock wait'],
  ['pteLockHold', 'pte lock hold'],
  ['gatherFlush', 'gather flush'],
  ['ipiAckWait', 'IPI ack wait'],
  ['preemptOff', 'preempt/irqs off'],
  ['irqsOff', 'irqs off'],
  ['probeWakeup', 'probe wake-up'],
];

const HEADLINE = [
  'gatherFlushes',
  'forcedFlushes',
  'ipisSent',
  'pagesFreed',
  'pageTablesFreed',
  'pteLockAcquisitions',
  'flushesUnderPteLock',
  'pagesFreedUnderPteLock',
  'maxPagesFreedInOnePteLockHold',
  'batchAllocFailures',
  'rssBefore',
  'rssAfter',
] as const;

/** What a run ran: a built-in workload with its size, or a scenario file's tasks. */
export function workloadText(c: RunConfig): string {
  return c.scenario ? `scenario ${c.scenario.name} (${c.scenario.tasks.length} tasks)` : `workload ${c.workload}, --pages ${c.pages}`;
}

/** A hunt's word on its tasks' setup, when they have one: run once at boot, or explored. */
export function setupText(c: RunConfig): string {
  if (!declaresSetup(c)) return '';
  return c.setupOnce ? ', setup once at boot (--explore-setup explores it)' : ', setup explored';
}

/** The tlb:tlb_flush trace point's events per reason, as `perf stat -e tlb:tlb_flush` users would group them. */
function tlbFlushLine(r: RunResult): string {
  const counts = tlbFlushReasonCounts(r.tlbFlushEvents);
  const parts = TLB_FLUSH_REASON_NAMES.map((name, reason) => `${counts[reason]} ${name} (${reason})`);
  const dropped = r.tlbFlushEventsDropped > 0 ? `, ${r.tlbFlushEventsDropped} more not kept` : '';
  return `tlb:tlb_flush events: ${parts.join(', ')}${dropped}`;
}

export function summarize(r: RunResult): string {
  const c = r.config;
  const lines = [
    `shootdown run: variant ${r.variant}, ${workloadText(c)}, ${r.mode} mode, seed ${r.seed}`,
    `  ${c.cpus} cpus, --preempt ${c.preempt}, --alloc-fail ${allocFailText(c.allocFail)}, memory ${c.memoryPages} pages`,
    `  ${r.mode === 'deterministic' ? `${r.steps} steps` : `${r.threads} worker threads, up to ${r.maxConcurrentCpus} cpus running at once`}, ${us(r.clockUs * 1000)} model µs`,
    `  ${hostText(r)}`,
    `measured operation (${r.workload}):`,
    ...HEADLINE.map((k) => `  ${k.padEnd(32)} ${r.counters[k]}`),
    `whole run: ${r.totals.pageFaults} page faults, ${r.totals.segfaults} segfaults survived, ${r.totals.ipisHandled} IPIs handled, ${r.totals.lazyLeaves} lazy leaves, ${r.totals.userAccesses} user accesses`,
    tlbFlushLine(r),
    `scheduler: ${r.counters.ops} measured ops, ${r.opsPerSec} ops per model second, ${r.totals.voluntarySwitches} voluntary and ${r.totals.involuntarySwitches} involuntary switches, ${r.totals.preemptionsInGather} preemptions inside a gather, ${r.totals.sleepingLockWaits} sleeps on a lock`,
    `latency (${clockName(r)}):`,
    ...LATENCY_LINES.filter(([k]) => r.latency.summaries[k].count > 0).map(([k, name]) => latencyLine(name, r.latency.summaries[k])),
  ];
  const off = r.latency.preemptOffMax;
  if (off) lines.push(`  longest non-preemptible section: ${us(off.ns)} on cpu ${off.cpu} (task ${off.task}), from ${off.startWhere} to ${off.endWhere}`);
  if (r.error) {
    lines.push(`error: ${r.error.name}: ${r.error.message}`);
    for (const s of r.error.cpuStates ?? []) lines.push(`  ${s}`);
  }
  if (r.violations.length === 0) lines.push('violations: none');
  else {
    const byRule = new Map<string, number>();
    for (const v of r.violations) byRule.set(v.rule, (byRule.get(v.rule) ?? 0) + 1);
    lines.push(`violations: ${r.violations.length + r.violationsDropped}`);
    for (const [rule, n] of byRule) {
      const first = r.violations.find((v) => v.rule === rule)!;
      lines.push(`  ${rule} x${n}: ${first.detail}${first.step >= 0 ? ` (step ${first.step})` : ''}`);
    }
  }
  return lines.join('\n');
}

interface CompareRow {
  name: string;
  value: (r: RunResult) => number;
  show: (v: number) => string;
}

const perOp = (k: 'gatherFlushes' | 'ipisSent') => (r: RunResult): number => (r.counters.ops > 0 ? r.counters[k] / r.counters.ops : 0);
const lat = (k: LatencyName, p: keyof HistSummary) => (r: RunResult): number => r.latency.summaries[k][p];
const count = (v: number): string => String(Math.round(v * 100) / 100);

const COMPARE_ROWS: CompareRow[] = [
  { name: 'ops/s (model)', value: (r) => r.opsPerSec, show: count },
  { name: 'gather flushes per op', value: perOp('gatherFlushes'), show: (v) => v.toFixed(2) },
  { name: 'IPIs per op', value: perOp('ipisSent'), show: (v) => v.toFixed(2) },
  { name: 'flushes under pte lock', value: (r) => r.counters.flushesUnderPteLock, show: count },
  { name: 'pte lock hold p50 µs', value: lat('pteLockHold', 'p50Ns'), show: us },
  { name: 'pte lock hold p99 µs', value: lat('pteLockHold', 'p99Ns'), show: us },
  { name: 'pte lock hold max µs', value: lat('pteLockHold', 'maxNs'), show: us },
  { name: 'pte lock wait p50 µs', value: lat('pteLockWait', 'p50Ns'), show: us },
  { name: 'pte lock wait p99 µs', value: lat('pteLockWait', 'p99Ns'), show: us },
  { name: 'pte lock wait max µs', value: lat('pteLockWait', 'maxNs'), show: us },
  { name: 'preempt-off max µs', value: (r) => r.latency.preemptOffMax?.ns ?? 0, show: us },
  { name: 'probe latency p99 µs', value: lat('probeWakeup', 'p99Ns'), show: us },
  { name: 'probe latency max µs', value: lat('probeWakeup', 'maxNs'), show: us },
  { name: 'preemptions in a gather', value: (r) => r.totals.preemptionsInGather, show: count },
  { name: 'forced flushes', value: (r) => r.totals.forcedFlushes, show: count },
  { name: 'IPIs sent (run)', value: (r) => r.totals.ipisSent, show: count },
  { name: 'IPIs handled (run)', value: (r) => r.totals.ipisHandled, show: count },
  { name: 'lazy leaves', value: (r) => r.totals.lazyLeaves, show: count },
  { name: 'pages freed', value: (r) => r.totals.pagesFreed, show: count },
  { name: 'page tables freed', value: (r) => r.totals.pageTablesFreed, show: count },
  { name: 'batch alloc failures', value: (r) => r.totals.batchAllocFailures, show: count },
  { name: 'context switches', value: (r) => r.totals.voluntarySwitches + r.totals.involuntarySwitches, show: count },
  { name: 'violations', value: (r) => r.violations.length + r.violationsDropped, show: count },
  { name: 'host ops/s', value: (r) => r.host.opsPerSec, show: count },
  { name: 'host steal ms', value: (r) => r.host.stealMs, show: (v) => v.toFixed(0) },
];

/** A column's name: the variant, and its preemption model when the columns differ in it. */
function columnName(r: RunResult, byPreempt: boolean): string {
  return byPreempt ? `${r.variant} ${r.config.preempt}` : r.variant;
}

/**
 * Runs side by side. Each column after the first of its preemption model
 * has its ratio to that first one (legacy's, when legacy comes first), so
 * designs are compared under the same model.
 */
export function compareTable(results: RunResult[]): string {
  const byPreempt = new Set(results.map((r) => r.config.preempt)).size > 1;
  const baseOf = (r: RunResult): RunResult => results.find((b) => b.config.preempt === r.config.preempt)!;
  const w = 26;
  const cw = byPreempt ? 24 : 22;
  const head = ''.padEnd(w) + results.map((r) => columnName(r, byPreempt).padStart(cw)).join('');
  const rows = COMPARE_ROWS.map((row) => {
    const cells = results.map((r) => {
      const base = baseOf(r);
      const v = row.value(r);
      const b = row.value(base);
      const ratio = r === base || b === 0 ? '' : ` (${(v / b).toFixed(2)}x)`;
      return `${row.show(v)}${ratio}`.padStart(cw);
    });
    return row.name.padEnd(w) + cells.join('');
  });
  const base = results[0]!;
  const clock = `times in ${clockName(base)}; ratios against ${base.variant}${byPreempt ? ' of the same preemption model' : ''}; host rows are wall-clock`;
  return [head, ...rows, clock].join('\n');
}

/** A campaign's preemption coverage: each point passed with another task runnable, the seeds that preempted there, and the points never preempted. */
export function coverageText(coverage: readonly CoveragePoint[], neverPreempted: readonly string[], seeds: number): string {
  if (coverage.length === 0) return 'preemption coverage: no preemption point was passed with another task runnable on its cpu';
  const width = Math.max(...coverage.map((p) => p.point.length));
  const lines = [`preemption coverage (seeds that preempted there / seeds that passed it with another task runnable, of ${seeds}):`];
  for (const p of coverage) lines.push(`  ${p.point.padEnd(width)}  ${String(p.seeds).padStart(6)} / ${p.seedsPassed}`);
  lines.push(neverPreempted.length === 0 ? '  every point was preempted in at least one seed' : `  never preempted: ${neverPreempted.join(', ')}`);
  return lines.join('\n');
}

export function listText(): string {
  const lines = ['variants:'];
  for (const v of VARIANTS) lines.push(`  ${v.name.padEnd(20)} ${v.mutant ? '[mutant] ' : ''}${v.about}`);
  lines.push('workloads:');
  for (const w of WORKLOADS) lines.push(`  ${w.name.padEnd(20)} ${w.about}`);
  lines.push('rules:');
  for (const [name, what] of Object.entries(RULES)) lines.push(`  ${name.padEnd(22)} ${what}`);
  return lines.join('\n');
}
