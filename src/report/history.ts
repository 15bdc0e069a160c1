// What `shootdown history` prints and writes: the race table (races by
// design), the mutant table (each mutant and the design it came from) and
// the costs per design, in the terminal and as a history file. A cell reads
// the same in both: found@S, clean/N, not reached/N, another rule@S, a `!`
// wherever it disagrees with the kernel's history or the catalogue.

import { RESULT_SCHEMA } from '../engine/result.ts';
import { COST_SCENARIO, isMismatch, mismatches, type DesignCost, type HistoryCell, type HistoryResult } from '../engine/history.ts';
import type { RunOptions } from '../engine/configure.ts';
import { us } from './summary.ts';

export interface HistoryRaceEntry {
  name: string;
  about: string;
  fix: string;
  scenario: RunOptions;
  rules: string[];
  had: string[];
  reach: string;
  shownBy: string | null;
  cells: HistoryCell[];
}

export interface HistoryMutantEntry {
  name: string;
  bug: string;
  baseDesign: string;
  scenario: RunOptions;
  rules: string[];
  reach: string;
  shownBy: string | null;
  mutantCell: HistoryCell;
  baseCell: HistoryCell;
}

/** The file `history --json` writes; `shootdown report` reads it. */
export interface HistoryFile {
  schema: typeof RESULT_SCHEMA;
  command: 'history';
  designs: string[];
  seedsMax: number;
  mutantSeedsMax: number;
  campaignMsMax: number;
  jobs: number;
  races: HistoryRaceEntry[];
  mutants: HistoryMutantEntry[];
  costs: { scenario: RunOptions; designs: DesignCost[] };
  /** Every cell that disagrees with the expected table, one line each; empty when all agree. */
  mismatches: string[];
  matches: boolean;
  /** Ctrl-C stopped it: cells not run say so. */
  stopped: boolean;
  elapsedMs: number;
}

export function historyFile(r: HistoryResult, meta: { designs: readonly string[]; seedsMax: number; mutantSeedsMax: number; campaignMsMax: number; jobs: number }): HistoryFile {
  const bad = mismatches(r);
  return {
    schema: RESULT_SCHEMA,
    command: 'history',
    designs: [...meta.designs],
    seedsMax: meta.seedsMax,
    mutantSeedsMax: meta.mutantSeedsMax,
    campaignMsMax: meta.campaignMsMax,
    jobs: meta.jobs,
    races: r.races.map(({ row, cells }) => ({ name: row.name, about: row.about, fix: row.fix, scenario: row.scenario, rules: row.rules, had: row.had, reach: row.reach, shownBy: row.shownBy ?? null, cells })),
    mutants: r.mutants.map(({ row, mutant, base }) => ({
      name: row.name,
      bug: row.bug,
      baseDesign: row.base,
      scenario: row.scenario,
      rules: row.rules,
      reach: row.reach,
      shownBy: row.shownBy ?? null,
      mutantCell: mutant,
      baseCell: base,
    })),
    costs: { scenario: COST_SCENARIO, designs: r.costs },
    mismatches: bad,
    matches: bad.length === 0 && !r.stopped,
    stopped: r.stopped,
    elapsedMs: r.elapsedMs,
  };
}

/** A cell in a few characters; the same text in the terminal and the HTML report. */
export function cellText(c: Pick<HistoryCell, 'outcome' | 'seed' | 'rule' | 'knownRace' | 'seedsRun' | 'expected' | 'reach' | 'verdict'>): string {
  const mark = isMismatch(c.verdict) ? ' !' : '';
  switch (c.outcome) {
    case 'found':
      return `found@${c.seed}${mark}`;
    case 'none':
      return `${c.expected && c.reach === 'by-hand' ? 'not reached' : 'clean'}/${c.seedsRun}${mark}`;
    case 'known':
      return `${c.knownRace ?? c.rule}@${c.seed}`;
    case 'other':
      return `${c.rule ?? 'failed'}${c.seed !== null ? `@${c.seed}` : ''}${mark}`;
    case 'not-run':
      return c.seedsRun > 0 ? `stopped/${c.seedsRun}` : '-';
  }
}

/** The flags a scenario amounts to, as a user would type them. */
export function scenarioText(o: RunOptions): string {
  const flag = (k: string): string => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  return Object.entries(o)
    .filter(([k]) => k !== 'seed')
    .map(([k, v]) => (v === true ? flag(k) : v === false ? `--no-${flag(k).slice(2)}` : `${flag(k)} ${String(v)}`))
    .join(' ');
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

function raceTable(f: HistoryFile): string {
  const rows = f.races.map((r) => [r.name, r.fix, ...r.cells.map(cellText), r.rules.join(',')]);
  return table(['race', 'fixed by', ...f.designs, 'rule'], rows);
}

function mutantTable(f: HistoryFile): string {
  const rows = f.mutants.map((m) => [m.name, m.baseDesign, cellText(m.mutantCell), cellText(m.baseCell), m.rules.join(',') || 'any']);
  return table(['mutant', 'base', 'mutant', 'base', 'rules'], rows);
}

function costTable(f: HistoryFile): string {
  const rows = f.costs.designs.map((c) => [c.design, c.preempt, c.gatherFlushesPerOp.toFixed(2), c.ipisPerOp.toFixed(2), us(c.preemptOffMaxNs), c.preemptOffWhere ?? '-']);
  return table(['design', 'preempt', 'gather flushes/op', 'IPIs/op', 'longest preempt-off µs', 'from -> to'], rows);
}

/** Cells whose campaign hit the time cap before its seeds: their clean/N counts fewer seeds than asked. */
function cutNotes(f: HistoryFile): string[] {
  const cut = (c: HistoryCell): boolean => c.outcome === 'none' && c.seedsRun < c.seedsPlanned;
  const notes: string[] = [];
  for (const r of f.races) for (const c of r.cells) if (cut(c)) notes.push(`  ${r.name} on ${c.variant}: ${c.seedsRun} of ${c.seedsPlanned} seeds`);
  for (const m of f.mutants) {
    if (cut(m.mutantCell)) notes.push(`  ${m.name}: ${m.mutantCell.seedsRun} of ${m.mutantCell.seedsPlanned} seeds`);
    if (cut(m.baseCell)) notes.push(`  ${m.name}'s base ${m.baseDesign}: ${m.baseCell.seedsRun} of ${m.baseCell.seedsPlanned} seeds`);
  }
  return notes;
}

/** Cells where a scenario meant for one thing reached a race the design's own kernel had. */
function kernelRaceNotes(f: HistoryFile): string[] {
  const line = (what: string, c: HistoryCell): string => `  ${what}: ${c.knownRace} (${c.rule}) at seed ${c.seed}, a race its kernel had`;
  const notes: string[] = [];
  for (const r of f.races) for (const c of r.cells) if (c.outcome === 'known') notes.push(line(`${r.name} on ${c.variant}`, c));
  for (const m of f.mutants) if (m.baseCell.outcome === 'known') notes.push(line(`${m.name}'s base ${m.baseDesign}`, m.baseCell));
  return notes;
}

/** Rows whose race random seeds cannot be counted on, with where each is shown instead. */
function byHandNotes(f: HistoryFile): string[] {
  const notes: string[] = [];
  for (const r of f.races) if (r.shownBy && r.cells.some((c) => c.expected && c.outcome === 'none')) notes.push(`  ${r.name}: not reached by random seeds within ${f.seedsMax}; ${r.shownBy}`);
  for (const m of f.mutants) if (m.shownBy && m.mutantCell.outcome === 'none') notes.push(`  ${m.name}: not reached by random seeds within ${f.mutantSeedsMax}; ${m.shownBy}`);
  return notes;
}

export function historyText(f: HistoryFile): string {
  const notes = byHandNotes(f);
  const lines = [
    `races across designs: found@S = the race's rule first at seed S; clean/N = N seeds, nothing; not reached/N = the kernel had it, random seeds did not reach it in N; ! = disagrees with the kernel's history`,
    raceTable(f),
    '',
    `mutants on their own scenarios (up to ${f.mutantSeedsMax} seeds), each beside the design it was derived from (up to ${f.seedsMax} seeds, must stay clean):`,
    mutantTable(f),
    '',
    `costs: one deterministic run of ${scenarioText(f.costs.scenario)}, seed ${String(f.costs.scenario.seed ?? 1)}, per design and preemption model (model µs):`,
    costTable(f),
  ];
  if (notes.length) lines.push('', 'by hand:', ...notes);
  const known = kernelRaceNotes(f);
  if (known.length) lines.push('', "another race of the design's own kernel, reached on a scenario meant for something else:", ...known);
  const cut = cutNotes(f);
  if (cut.length) lines.push('', `cut short by --campaign-time (${f.campaignMsMax / 1000} s):`, ...cut);
  lines.push('', verdictText(f));
  return lines.join('\n');
}

export function verdictText(f: HistoryFile): string {
  const secs = (f.elapsedMs / 1000).toFixed(1);
  if (f.stopped) return `stopped after ${secs} s: cells marked - or stopped/N did not finish`;
  if (f.matches) return `every design matches the kernel's history and every mutant is caught (${secs} s, ${f.jobs} jobs)`;
  return [`${f.mismatches.length} cells disagree (${secs} s, ${f.jobs} jobs):`, ...f.mismatches.map((m) => `  ${m}`)].join('\n');
}
