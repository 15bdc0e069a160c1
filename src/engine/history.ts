// The races across the kernel's designs, as data, and the hunts that check
// them. A race row is one race of the README's list: the commit that fixed
// it, the scenario that shows it, the rules that report it and the designs
// whose kernel had it. A mutant row is one mutant of the catalogue: its
// planted bug, its huntWith scenario, the rules it trips and the real design
// it was derived from. runHistory hunts every (row, design) with the
// campaign machinery and only then compares what it saw with what the row
// expects: no verdict exists before its seeds have run.

import type { Piscina } from 'piscina';
import type { Rule } from '../oracle/rules.ts';
import type { VariantTraits } from '../machine/config.ts';
import { VARIANTS, findVariant } from '../gather/variants.ts';
import { makeConfig, type RunOptions } from './configure.ts';
import { runCampaign, type CampaignResult } from './campaign.ts';
import { runOnce } from './run.ts';

/**
 * How a row's race is reached. `random`: random schedules reach it within a
 * few hundred seeds, so a design expected to have it and not found is a
 * miss. `by-hand`: the window is too narrow for random schedules within the
 * budget and a test steps it by hand; not finding it says nothing.
 */
export type Reach = 'random' | 'by-hand';

export interface RaceRow {
  name: string;
  about: string;
  /** The kernel commit that fixed it (the one that narrowed it, then the one that closed it), or the change that made it impossible. */
  fix: string;
  scenario: RunOptions;
  rules: Rule[];
  /** The designs whose kernel had the race. */
  had: string[];
  reach: Reach;
  /** Where the race is shown when random seeds cannot be counted on. */
  shownBy?: string;
  /** The race exists only with this many cpus online (fast mode: one). */
  cpusOnline?: number;
}

export interface MutantRow {
  name: string;
  bug: string;
  /** The real design the mutant was derived from; it must stay clean on the same scenario. */
  base: string;
  scenario: RunOptions;
  rules: Rule[];
  reach: Reach;
  shownBy?: string;
}

export const REAL_DESIGNS: readonly string[] = VARIANTS.filter((v) => !v.mutant).map((v) => v.name);

export const RACES: readonly RaceRow[] = [
  {
    name: 'fast-mode',
    about: 'one cpu online: the gather frees each page before the flush, and a thread of the same mm preempting the zap reads it through its stale TLB entry',
    fix: '29eb77825cc7',
    scenario: { workload: 'munmap', cpus: 1, tasksPerCpu: 2, pages: 64 },
    rules: ['STALE_TLB_ACCESS'],
    had: ['rework'],
    reach: 'random',
    cpusOnline: 1,
  },
  {
    // preempt none: 2.6.38's 8-page ZAP_BLOCK_SIZE under CONFIG_PREEMPT flushes each block before the next, so
    // the race needs a kernel without it to be reached by random schedules in legacy as well
    name: 'nested-dontneed',
    about: 'two MADV_DONTNEED of one range under mmap_sem read: the zap that finds every pte cleared flushes nothing and returns before the other one flushed',
    fix: '99baac21e458',
    scenario: { workload: 'madvise', overlap: true, pages: 64, cpus: 4, preempt: 'none' },
    rules: ['TLB_AFTER_RETURN'],
    had: ['legacy', 'rework', 'v3.11'],
    reach: 'random',
  },
  {
    name: 'lost-write',
    about: 'a dirty shared pte zapped and its rmap dropped before the flush: writeback cleans the page, and a write through a stale dirty entry lands on the clean page',
    fix: '1cf35d47712d/5df397dec7c4',
    scenario: { workload: 'madvise', writeback: true, pages: 8, cpus: 3 },
    rules: ['LOST_WRITE'],
    had: ['legacy', 'rework', 'v3.11', 'v4.15'],
    reach: 'by-hand',
    shownBy: 'test/writeback.test.ts steps it by hand in every design',
  },
  {
    name: 'immap-mutex',
    about: "the i_mmap lock as a mutex inside 2.6.38's non-preemptible gather: unlink_file_vma sleeps in an atomic section",
    // no kernel had both: the series made the gather preemptible before it made the lock a mutex
    fix: 'mmu_gather rework',
    scenario: { workload: 'exit', pages: 32, immapLock: 'mutex' },
    rules: ['SLEEP_IN_ATOMIC'],
    had: ['legacy'],
    reach: 'random',
  },
];

/** The rules each mutant trips on its huntWith scenario; a mutant missing here is caught by any rule. */
const MUTANT_TRIPS: Record<string, { rules: Rule[]; reach?: Reach; shownBy?: string }> = {
  'rework-seed': { rules: ['RSS_MISMATCH'] },
  'free-before-flush': { rules: ['FREE_WHILE_REMOTE_TLB', 'STALE_TLB_ACCESS'] },
  'no-ack-wait': { rules: ['FREE_WHILE_REMOTE_TLB', 'STALE_TLB_ACCESS'] },
  'no-ipi': { rules: ['FREE_WHILE_REMOTE_TLB', 'STALE_TLB_ACCESS'] },
  'skip-lazy-leave': { rules: ['FREE_WHILE_REMOTE_TLB', 'STALE_TLB_ACCESS'] },
  'legacy-preemptible': { rules: ['FREE_LIVE_PAGE_TABLE', 'PAGE_LEAK', 'RSS_MISMATCH', 'DOUBLE_FREE', 'BAD_PAGE_MAP'] },
  'lost-force-flush': { rules: ['PAGE_LEAK'] },
  'unlock-before-clear': { rules: ['BAD_PAGE_MAP', 'DOUBLE_FREE', 'RSS_MISMATCH'] },
  'stale-cpumask': { rules: ['FREE_WHILE_REMOTE_TLB', 'STALE_TLB_ACCESS'] },
  'mkclean-no-flush': { rules: ['WRITE_AFTER_WRPROTECT'] },
  'mprotect-no-flush': { rules: ['WRITE_AFTER_WRPROTECT'] },
  'wp-fault-no-dirty': { rules: ['LOST_WRITE'] },
  'flush-preemptible': { rules: ['FREE_WHILE_REMOTE_TLB', 'STALE_TLB_ACCESS'] },
  'fullmm-no-flush': { rules: ['FREE_WHILE_REMOTE_TLB', 'STALE_TLB_ACCESS'] },
  'rmap-before-flush': { rules: ['LOST_WRITE'], reach: 'by-hand', shownBy: 'test/writeback.test.ts steps it by hand' },
  'lazy-skip-freed-tables': { rules: ['FREE_WHILE_REMOTE_TLB'] },
  'switch-ignores-tlb-gen': { rules: ['TLB_AFTER_RETURN', 'STALE_TLB_ACCESS'] },
  'no-nested-flush': { rules: ['TLB_AFTER_RETURN'] },
};

export function mutantTrips(name: string): { rules: Rule[]; reach?: Reach; shownBy?: string } | undefined {
  return MUTANT_TRIPS[name];
}

/** Traits that say what a variant is rather than how it behaves. */
const LABELS = new Set(['name', 'about', 'mutant', 'huntWith']);

function traitDistance(a: VariantTraits, b: VariantTraits): number {
  let n = 0;
  for (const key of Object.keys(a) as (keyof VariantTraits)[]) {
    if (LABELS.has(key)) continue;
    if (key === 'generic') {
      for (const g of Object.keys(a.generic) as (keyof VariantTraits['generic'])[]) if (a.generic[g] !== b.generic[g]) n++;
    } else if (a[key] !== b[key]) n++;
  }
  return n;
}

/** The real design a mutant was derived from: the catalogue does not name it, but it differs from it in the fewest traits. */
export function baseDesignOf(mutant: VariantTraits): string {
  const real = VARIANTS.filter((v) => !v.mutant && v.design === mutant.design);
  return real.reduce((best, v) => (traitDistance(mutant, v) < traitDistance(mutant, best) ? v : best)).name;
}

export function mutantRows(): MutantRow[] {
  return VARIANTS.filter((v) => v.mutant).map((v) => {
    const trips = MUTANT_TRIPS[v.name];
    return { name: v.name, bug: v.about, base: baseDesignOf(v), scenario: v.huntWith as RunOptions, rules: trips?.rules ?? [], reach: trips?.reach ?? 'random', ...(trips?.shownBy ? { shownBy: trips.shownBy } : {}) };
  });
}

// ---------------------------------------------------------------- cells

/**
 * What a campaign saw: the row's rule; the rule of another race the
 * design's kernel had (a mutant's base on a scenario that also reaches one
 * of its kernel's races); nothing; something else first; or it never ran
 * (or was stopped before it could say).
 */
export type Outcome = 'found' | 'known' | 'none' | 'other' | 'not-run';
/** `missed` and `unexpected` disagree with the kernel's history (or with the catalogue); the others do not. */
export type Verdict = 'has-it' | 'kernel-race' | 'clean' | 'not-reached' | 'missed' | 'unexpected' | 'not-run';

export interface HistoryCell {
  variant: string;
  outcome: Outcome;
  /** The first seed that showed the rule (or the other violation), when one did. */
  seed: number | null;
  rule: string | null;
  /** The race row a `known` outcome is one of. */
  knownRace: string | null;
  detail: string | null;
  seedsRun: number;
  seedsPlanned: number;
  elapsedMs: number;
  /** Whether the variant is expected to show the row's rule. */
  expected: boolean;
  reach: Reach;
  verdict: Verdict;
}

export function verdictOf(outcome: Outcome, expected: boolean, reach: Reach): Verdict {
  if (outcome === 'not-run') return 'not-run';
  if (outcome === 'other') return 'unexpected';
  if (outcome === 'known') return 'kernel-race';
  if (outcome === 'found') return expected ? 'has-it' : 'unexpected';
  if (!expected) return 'clean';
  return reach === 'random' ? 'missed' : 'not-reached';
}

export function isMismatch(v: Verdict): boolean {
  return v === 'missed' || v === 'unexpected';
}

function notRun(variant: string, seedsPlanned: number, expected: boolean, reach: Reach): HistoryCell {
  return { variant, outcome: 'not-run', seed: null, rule: null, knownRace: null, detail: null, seedsRun: 0, seedsPlanned, elapsedMs: 0, expected, reach, verdict: 'not-run' };
}

/** The races whose kernel `design` had on a machine of `cpus` cpus, for telling them apart from a bug when a scenario meant for something else reaches one. */
export function kernelRacesOf(design: string, cpus: number): { name: string; rules: readonly string[] }[] {
  return RACES.filter((r) => r.had.includes(design) && (r.cpusOnline === undefined || r.cpusOnline === cpus)).map((r) => ({ name: r.name, rules: r.rules }));
}

/** The cpus a row's scenario runs on (the default when it names none). */
function cpusOf(scenario: RunOptions): number {
  return makeConfig(scenario).cpus;
}

/** How a cell's campaign is judged: the rules it hunts, whether the design should show them, and the kernel races it may meet besides. */
export interface CellExpectation {
  rules: readonly string[];
  expected: boolean;
  reach: Reach;
  known: { name: string; rules: readonly string[] }[];
}

/**
 * What a campaign stopped at its first failure saw at that seed: the row's
 * rule where the design should show it; else a race of the design's own
 * kernel; else the row's rule where it should not; else the first thing
 * that fired.
 */
export function cellOf(variant: string, r: CampaignResult, seedsPlanned: number, e: CellExpectation, stopped: boolean): HistoryCell {
  const base = { variant, seedsRun: r.seedsRun, seedsPlanned, elapsedMs: r.elapsedMs, expected: e.expected, reach: e.reach, knownRace: null };
  const poolError = r.errors.find((x) => x.seed < 0);
  if (r.firstFailingSeed === null) {
    if (poolError) return { ...base, outcome: 'other', seed: null, rule: poolError.name, detail: poolError.message, verdict: 'unexpected' };
    const outcome: Outcome = stopped && r.seedsRun < seedsPlanned ? 'not-run' : 'none';
    return { ...base, outcome, seed: null, rule: null, detail: null, verdict: verdictOf(outcome, e.expected, e.reach) };
  }
  const seed = r.firstFailingSeed;
  const at = r.groups.filter((g) => g.seed === seed);
  const match = at.find((g) => e.rules.length === 0 || e.rules.includes(g.rule));
  const found = (): HistoryCell => ({ ...base, outcome: 'found', seed, rule: match!.rule, detail: match!.detail, verdict: verdictOf('found', e.expected, e.reach) });
  if (match && e.expected) return found();
  // where the rule is not expected, a race of the design's own kernel explains it before a bug does
  for (const g of at) {
    const race = e.known.find((k) => k.rules.includes(g.rule));
    if (race) return { ...base, outcome: 'known', seed, rule: g.rule, knownRace: race.name, detail: g.detail, verdict: 'kernel-race' };
  }
  if (match) return found();
  const error = r.errors.find((x) => x.seed === seed);
  const first = at[0];
  return { ...base, outcome: 'other', seed, rule: first?.rule ?? error?.name ?? null, detail: first?.detail ?? error?.message ?? null, verdict: 'unexpected' };
}

// ---------------------------------------------------------------- costs

/** The fixed scenario every design's costs are measured on: one deterministic run under each preemption model of COST_PREEMPTS. */
export const COST_SCENARIO: RunOptions = { workload: 'munmap', pages: 1000, cpus: 4, seed: 1 };
/** Under full preemption 2.6.38 zaps in 8-page blocks (ZAP_BLOCK_SIZE under CONFIG_PREEMPT) and flushes after each; without it, in blocks of 1024 with preemption off throughout: both costs are its. */
export const COST_PREEMPTS = ['full', 'none'] as const;

export interface DesignCost {
  design: string;
  preempt: string;
  ops: number;
  gatherFlushesPerOp: number;
  ipisPerOp: number;
  preemptOffMaxNs: number;
  /** Where the longest non-preemptible section began and ended, or null without one. */
  preemptOffWhere: string | null;
  violations: number;
}

export async function designCost(design: string, preempt: string, signal?: AbortSignal): Promise<DesignCost> {
  const r = await runOnce(makeConfig({ ...COST_SCENARIO, preempt, variant: design }), signal);
  const perOp = (n: number): number => (r.counters.ops > 0 ? n / r.counters.ops : 0);
  const off = r.latency.preemptOffMax;
  return {
    design,
    preempt,
    ops: r.counters.ops,
    gatherFlushesPerOp: perOp(r.counters.gatherFlushes),
    ipisPerOp: perOp(r.counters.ipisSent),
    preemptOffMaxNs: off?.ns ?? 0,
    preemptOffWhere: off ? `${off.startWhere} -> ${off.endWhere}` : null,
    violations: r.violations.length + r.violationsDropped,
  };
}

// ---------------------------------------------------------------- the hunts

export interface RaceResult {
  row: RaceRow;
  cells: HistoryCell[];
}

export interface MutantResult {
  row: MutantRow;
  mutant: HistoryCell;
  base: HistoryCell;
}

export interface HistoryOptions {
  races: readonly RaceRow[];
  mutants: readonly MutantRow[];
  designs: readonly string[];
  /** Seeds per race and design, and for a mutant's base design. */
  seedsMax: number;
  /** Seeds for a mutant, which stops at its first catch, so the budget costs only for one that escapes. */
  mutantSeedsMax: number;
  jobs: number;
  /** The most one campaign may take. */
  campaignMsMax: number;
}

export interface HistoryResult {
  races: RaceResult[];
  mutants: MutantResult[];
  costs: DesignCost[];
  elapsedMs: number;
  stopped: boolean;
}

/**
 * One campaign per distinct (variant, scenario, budget), judged afresh for
 * each cell that asks: several mutants share a base design and scenario.
 */
class Hunts {
  private readonly done = new Map<string, CampaignResult>();
  constructor(
    private readonly opts: HistoryOptions,
    private readonly pool: Piscina,
    private readonly signal: AbortSignal | undefined,
    private readonly onCell: (what: string, cell: HistoryCell) => void,
  ) {}

  async cell(what: string, variant: string, scenario: RunOptions, seeds: number, e: CellExpectation): Promise<HistoryCell> {
    const key = JSON.stringify([variant, scenario, seeds]);
    let r = this.done.get(key);
    if (!r) {
      if (this.signal?.aborted) return notRun(variant, seeds, e.expected, e.reach);
      const base = makeConfig({ ...scenario, variant, clockSkew: 'none' });
      r = await runCampaign({ base, firstSeed: 1, seeds, timeMs: this.opts.campaignMsMax, jobs: this.opts.jobs, stopOnFirst: true, shard: null }, this.signal, this.pool);
      if (!this.signal?.aborted) this.done.set(key, r);
    }
    const cell = cellOf(variant, r, seeds, e, Boolean(this.signal?.aborted) && !this.done.has(key));
    this.onCell(what, cell);
    return cell;
  }
}

/** Cells the run fills: one per race and design, two per mutant (a campaign shared by several is run once). */
export function cellsPlanned(opts: Pick<HistoryOptions, 'races' | 'mutants' | 'designs'>): number {
  return opts.races.length * opts.designs.length + opts.mutants.length * 2;
}

export async function runHistory(opts: HistoryOptions, pool: Piscina, signal?: AbortSignal, onCell: (what: string, cell: HistoryCell) => void = () => {}): Promise<HistoryResult> {
  const t0 = performance.now();
  const costs: DesignCost[] = [];
  for (const design of opts.designs) for (const preempt of COST_PREEMPTS) if (!signal?.aborted) costs.push(await designCost(design, preempt, signal));
  const hunts = new Hunts(opts, pool, signal, onCell);
  const races: RaceResult[] = [];
  for (const row of opts.races) {
    const cells: HistoryCell[] = [];
    for (const design of opts.designs) {
      const e: CellExpectation = { rules: row.rules, expected: row.had.includes(design), reach: row.reach, known: kernelRacesOf(design, cpusOf(row.scenario)) };
      cells.push(await hunts.cell(`${row.name} ${design}`, design, row.scenario, opts.seedsMax, e));
    }
    races.push({ row, cells });
  }
  const mutants: MutantResult[] = [];
  for (const row of opts.mutants) {
    const mutant = await hunts.cell(row.name, row.name, row.scenario, opts.mutantSeedsMax, { rules: row.rules, expected: true, reach: row.reach, known: [] });
    // the base must show none of the mutant's rules; a race its own kernel had is that kernel's, not the mutant's bug
    const base = await hunts.cell(`${row.name}'s base ${row.base}`, row.base, row.scenario, opts.seedsMax, { rules: row.rules, expected: false, reach: 'random', known: kernelRacesOf(row.base, cpusOf(row.scenario)) });
    mutants.push({ row, mutant, base });
  }
  return { races, mutants, costs, elapsedMs: Math.round(performance.now() - t0), stopped: Boolean(signal?.aborted) };
}

/** Every verdict that disagrees with the expected table, one line each. */
export function mismatches(r: HistoryResult): string[] {
  const out: string[] = [];
  for (const { row, cells } of r.races) for (const c of cells) if (isMismatch(c.verdict)) out.push(`${row.name} on ${c.variant}: ${mismatchText(c)}`);
  for (const m of r.mutants) {
    if (isMismatch(m.mutant.verdict)) out.push(`${m.row.name}: ${mismatchText(m.mutant)}`);
    if (isMismatch(m.base.verdict)) out.push(`${m.row.name}'s base ${m.base.variant}: ${mismatchText(m.base)}`);
  }
  for (const c of r.costs) if (c.violations > 0) out.push(`costs of ${c.design} --preempt ${c.preempt}: ${c.violations} violations on the reference scenario`);
  return out;
}

function mismatchText(c: HistoryCell): string {
  if (c.verdict === 'missed') return `expected, not found in ${c.seedsRun} seeds`;
  if (c.outcome === 'found') return `${c.rule} at seed ${c.seed}, where the kernel did not have it: ${c.detail}`;
  return `${c.rule ?? 'a failure'}${c.seed !== null ? ` at seed ${c.seed}` : ''}: ${c.detail ?? ''}`;
}

export function findDesign(name: string): boolean {
  const v = findVariant(name);
  return v !== undefined && !v.mutant;
}
