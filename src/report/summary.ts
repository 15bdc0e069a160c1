// Terminal output: a run's summary, and variants side by side.

import { RULES } from '../oracle/rules.ts';
import { VARIANTS } from '../gather/variants.ts';
import { WORKLOADS } from '../workloads/index.ts';
import { allocFailText } from '../machine/config.ts';
import type { RunResult } from '../engine/result.ts';

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

export function summarize(r: RunResult): string {
  const c = r.config;
  const lines = [
    `shootdown run: variant ${r.variant}, workload ${r.workload}, ${r.mode} mode, seed ${r.seed}`,
    `  ${c.cpus} cpus, --pages ${c.pages}, --preempt ${c.preempt}, --alloc-fail ${allocFailText(c.allocFail)}, memory ${c.memoryPages} pages`,
    `  ${r.mode === 'deterministic' ? `${r.steps} steps` : `${r.threads} worker threads, up to ${r.maxConcurrentCpus} cpus running at once`}, ${r.elapsedMs.toFixed(0)} ms`,
    `measured operation (${r.workload}):`,
    ...HEADLINE.map((k) => `  ${k.padEnd(32)} ${r.counters[k]}`),
    `whole run: ${r.totals.pageFaults} page faults, ${r.totals.segfaults} segfaults survived, ${r.totals.ipisHandled} IPIs handled, ${r.totals.lazyLeaves} lazy leaves, ${r.totals.userAccesses} user accesses`,
  ];
  if (r.error) lines.push(`error: ${r.error.name}: ${r.error.message}`);
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

export function compareTable(results: RunResult[]): string {
  const keys = ['gatherFlushes', 'ipisSent', 'pteLockAcquisitions', 'flushesUnderPteLock', 'pagesFreedUnderPteLock', 'maxPagesFreedInOnePteLockHold', 'batchAllocFailures'] as const;
  const base = results[0]!;
  const w = 30;
  const head = ['', ...results.map((r) => r.variant)].map((s, i) => (i === 0 ? s.padEnd(w) : s.padStart(18))).join('');
  const rows = keys.map((k) => {
    const cells = results.map((r) => {
      const v = r.counters[k];
      const b = base.counters[k];
      const ratio = r === base || b === 0 ? '' : ` (${(v / b).toFixed(2)}x)`;
      return `${v}${ratio}`.padStart(18);
    });
    return k.padEnd(w) + cells.join('');
  });
  const viol = 'violations'.padEnd(w) + results.map((r) => String(r.violations.length + r.violationsDropped).padStart(18)).join('');
  const ms = 'elapsed ms'.padEnd(w) + results.map((r) => r.elapsedMs.toFixed(0).padStart(18)).join('');
  return [head, ...rows, viol, ms].join('\n');
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
