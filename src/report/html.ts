// The self-contained HTML report of `shootdown report ... --html`. What it
// guarantees: it reads only files that parse as a schema-3 run, comparison,
// scale, hunt or history file, and refuses anything else with one BadInput line naming the
// file; the page it writes loads nothing from the network (Chart.js and the
// CSS are inlined); every string taken from the inputs is HTML-escaped, or
// embedded as JSON with `<` escaped; every plot is a `canvas[data-plot]`, and
// the page sets `window.__plotsRendered` to the number of charts it created.

import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { z } from 'zod';
import { BadInput } from '../machine/errors.ts';
import { RESULT_SCHEMA, type RunResult } from '../engine/result.ts';
import { LATENCY_NAMES, type LatencyName } from '../stats/latency.ts';
import type { HuntFile } from './formats.ts';
import type { LockClassStat } from '../stats/lockstat.ts';
import type { CompareFile, HistoryFile, ReportInput, ScaleFile } from './formats.ts';
import { cellText, scenarioText, verdictText } from './history.ts';
import { checkOutputPath, writeTextAtomic } from './json.ts';
import { clockName, us } from './summary.ts';

// ---------------------------------------------------------------- reading

// Only the fields the report reads are checked; anything else in a file is
// carried along untouched, so newer files with extra fields still load.
const num = z.number();

const histSummarySchema = z.looseObject({ count: num, minNs: num, p50Ns: num, p90Ns: num, p99Ns: num, p999Ns: num, maxNs: num, meanNs: num });

function decodesAsHistogram(s: string): boolean {
  try {
    hdr.decodeFromCompressedBase64(s, 32, false);
    return true;
  } catch {
    return false;
  }
}
const encodedHistSchema = z.string().refine(decodesAsHistogram, 'not an HdrHistogram in compressed base64');

function perLatencyName<T extends z.ZodType>(schema: T): z.ZodObject<Record<LatencyName, T>, z.core.$loose> {
  return z.looseObject(Object.fromEntries(LATENCY_NAMES.map((n) => [n, schema])) as Record<LatencyName, T>);
}

const sectionMaxSchema = z.looseObject({ ns: num, cpu: num, task: num, startWhere: z.string(), endWhere: z.string() }).nullable();

const lockClassSchema = z.looseObject({
  class: z.string(),
  conBounces: num,
  contentions: num,
  waittimeMinNs: num,
  waittimeMaxNs: num,
  waittimeTotalNs: num,
  acqBounces: num,
  acquisitions: num,
  holdtimeMinNs: num,
  holdtimeMaxNs: num,
  holdtimeTotalNs: num,
  contentionPoints: z.array(z.looseObject({ site: z.string(), count: num })),
});

const violationSchema = z.looseObject({ rule: z.string(), cpu: num, task: num, variant: z.string(), seed: num, step: num, detail: z.string() });

const runSchema = z.looseObject({
  schema: z.literal(RESULT_SCHEMA),
  variant: z.string(),
  workload: z.string(),
  mode: z.enum(['deterministic', 'parallel']),
  seed: num,
  config: z.looseObject({ cpus: num, preempt: z.string() }),
  violations: z.array(violationSchema),
  violationsDropped: num.default(0),
  counters: z.looseObject({ ops: num, gatherFlushes: num, ipisSent: num }),
  opsPerSec: num,
  clock: z.literal('model'),
  latency: z.looseObject({ summaries: perLatencyName(histSummarySchema), encoded: perLatencyName(encodedHistSchema), preemptOffMax: sectionMaxSchema }),
  // Runs written before lock_stat was wired have none; the report says so.
  lockStat: z.array(lockClassSchema).default([]),
  error: z.looseObject({ name: z.string(), message: z.string() }).nullable().default(null),
});

const compareSchema = z.looseObject({ schema: z.literal(RESULT_SCHEMA), command: z.literal('compare'), results: z.array(runSchema) });

const scaleRowSchema = z.looseObject({
  cpus: num,
  variant: z.string(),
  ops_per_sec: num,
  linear: num,
  pte_lock_wait_p99_us: num,
  ipis_per_op: num,
  preempt_off_max_us: num,
});
const huntSchema = z.looseObject({
  schema: z.literal(RESULT_SCHEMA),
  command: z.literal('hunt'),
  variant: z.string(),
  workload: z.string(),
  strategy: z.looseObject({ kind: z.string() }),
  shard: z.looseObject({ index: num, count: num }).nullable().default(null),
  seedsRun: num,
  found: z.boolean(),
  violations: z.array(z.looseObject({ rule: z.string(), location: z.string(), seed: num.optional(), count: num, detail: z.string() })),
});

const scaleSchema = z.looseObject({ schema: z.literal(RESULT_SCHEMA), command: z.literal('scale'), workload: z.string(), rows: z.array(scaleRowSchema), results: z.array(runSchema) });

const historyCellSchema = z.looseObject({
  variant: z.string(),
  outcome: z.enum(['found', 'known', 'none', 'other', 'not-run']),
  seed: num.nullable(),
  rule: z.string().nullable(),
  knownRace: z.string().nullable().default(null),
  detail: z.string().nullable(),
  seedsRun: num,
  seedsPlanned: num,
  expected: z.boolean(),
  reach: z.enum(['random', 'by-hand']),
  verdict: z.enum(['has-it', 'kernel-race', 'clean', 'not-reached', 'missed', 'unexpected', 'not-run']),
});
const historyCostSchema = z.looseObject({ design: z.string(), preempt: z.string(), ops: num, gatherFlushesPerOp: num, ipisPerOp: num, preemptOffMaxNs: num, preemptOffWhere: z.string().nullable() });
const historySchema = z.looseObject({
  schema: z.literal(RESULT_SCHEMA),
  command: z.literal('history'),
  designs: z.array(z.string()),
  seedsMax: num,
  mutantSeedsMax: num,
  races: z.array(z.looseObject({ name: z.string(), about: z.string(), fix: z.string(), rules: z.array(z.string()), had: z.array(z.string()), shownBy: z.string().nullable(), cells: z.array(historyCellSchema) })),
  mutants: z.array(z.looseObject({ name: z.string(), bug: z.string(), baseDesign: z.string(), rules: z.array(z.string()), shownBy: z.string().nullable(), mutantCell: historyCellSchema, baseCell: historyCellSchema })),
  costs: z.looseObject({ scenario: z.looseObject({}), designs: z.array(historyCostSchema) }),
  mismatches: z.array(z.string()),
  matches: z.boolean(),
  stopped: z.boolean(),
});

/** One line, whatever the underlying message looked like. */
function refuse(file: string, what: string): BadInput {
  return new BadInput(`report: ${file}: ${what}`.replace(/\s*[\r\n]+\s*/g, ' ').trim());
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const where = issue.path.length ? issue.path.map(String).join('.') : 'top level';
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problems)` : '';
  return `${where}: ${issue.message}${more}`;
}

function recognise(file: string, value: unknown): ReportInput {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw refuse(file, 'not a shootdown result (the JSON is not an object)');
  const v = value as Record<string, unknown>;
  const commands = ['compare', 'scale', 'hunt', 'history'] as const;
  const kind = commands.find((c) => c === v.command) ?? ('variant' in v && 'counters' in v ? 'run' : null);
  if (kind === null) throw refuse(file, 'not a shootdown run, compare, scale, hunt or history file (no "command" of compare, scale, hunt or history, and no "variant" and "counters")');
  if (v.schema !== RESULT_SCHEMA) throw refuse(file, `${kind} file of schema ${JSON.stringify(v.schema) ?? 'none'}; this report reads schema ${RESULT_SCHEMA}`);
  // The casts below widen checked data to the writer's types: every field the
  // report reads has been validated, the rest is carried as the writer wrote it.
  if (kind === 'run') {
    const parsed = runSchema.safeParse(value);
    if (!parsed.success) throw refuse(file, `not a valid run result: ${firstIssue(parsed.error)}`);
    return { kind, file, result: parsed.data as unknown as RunResult };
  }
  if (kind === 'compare') {
    const parsed = compareSchema.safeParse(value);
    if (!parsed.success) throw refuse(file, `not a valid compare file: ${firstIssue(parsed.error)}`);
    return { kind, file, data: parsed.data as unknown as CompareFile };
  }
  if (kind === 'hunt') {
    const parsed = huntSchema.safeParse(value);
    if (!parsed.success) throw refuse(file, `not a valid hunt file: ${firstIssue(parsed.error)}`);
    return { kind, file, data: parsed.data as unknown as HuntFile };
  }
  if (kind === 'history') {
    const parsed = historySchema.safeParse(value);
    if (!parsed.success) throw refuse(file, `not a valid history file: ${firstIssue(parsed.error)}`);
    return { kind, file, data: parsed.data as unknown as HistoryFile };
  }
  const parsed = scaleSchema.safeParse(value);
  if (!parsed.success) throw refuse(file, `not a valid scale file: ${firstIssue(parsed.error)}`);
  return { kind, file, data: parsed.data as unknown as ScaleFile };
}

/** Far above any result shootdown writes (a compare of a few variants with their histograms is a few MiB); a file may come from anywhere. */
export const RESULT_FILE_BYTES_MAX = 128 * 1024 ** 2;

/** Reads and recognises every file; the first one that is unreadable, too large, not JSON or not a result is refused. */
export function loadReportInputs(files: string[]): ReportInput[] {
  if (files.length === 0) throw new BadInput('report: no result files given');
  return files.map((file) => {
    let text: string;
    try {
      const bytes = statSync(file).size;
      if (bytes > RESULT_FILE_BYTES_MAX) throw refuse(file, `${bytes} bytes, larger than the ${RESULT_FILE_BYTES_MAX / 1024 ** 2} MiB a result file may be`);
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if (e instanceof BadInput) throw e;
      throw refuse(file, `cannot read (${e instanceof Error ? e.message : String(e)})`);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw refuse(file, `not JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    return recognise(file, value);
  });
}

// ---------------------------------------------------------------- the runs

interface ReportRun {
  result: RunResult;
  /** Files the run was found in: the same run given twice (a run file and a compare file) is shown once. */
  sources: string[];
  /** Short, unique among the runs shown: the variant, with more detail only where variants repeat. */
  label: string;
}

function collectRuns(found: { file: string; result: RunResult }[]): ReportRun[] {
  const byContent = new Map<string, ReportRun>();
  for (const { file, result } of found) {
    const key = JSON.stringify(result);
    const seen = byContent.get(key);
    if (seen) {
      if (!seen.sources.includes(file)) seen.sources.push(file);
    } else byContent.set(key, { result, sources: [file], label: result.variant });
  }
  const runs = [...byContent.values()];
  const detailed = (r: RunResult): string => `${r.variant} ${r.workload} ${r.mode === 'parallel' ? 'par' : 'det'} ${r.config.cpus}cpu seed ${r.seed}`;
  const repeated = (labels: string[]): Set<string> => new Set(labels.filter((l, i) => labels.indexOf(l) !== i));
  let dup = repeated(runs.map((r) => r.label));
  for (const r of runs) if (dup.has(r.label)) r.label = detailed(r.result);
  dup = repeated(runs.map((r) => r.label));
  const seenCount = new Map<string, number>();
  for (const r of runs) {
    if (!dup.has(r.label)) continue;
    const n = (seenCount.get(r.label) ?? 0) + 1;
    seenCount.set(r.label, n);
    r.label = `${r.label} #${n}`;
  }
  return runs;
}

// ---------------------------------------------------------------- html helpers

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const td = (s: string): string => `<td>${esc(s)}</td>`;
const tdNum = (s: string): string => `<td class="num">${esc(s)}</td>`;
const fixed2 = (v: number): string => v.toFixed(2);
/** lock_stat prints its times in µs with two decimals. */
const lockUs = (ns: number): string => (ns / 1000).toFixed(2);

function perOp(r: RunResult, n: number): string {
  return r.counters.ops > 0 ? fixed2(n / r.counters.ops) : '–';
}


// ---------------------------------------------------------------- plots

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];

const LATENCY_TITLES: Record<LatencyName, string> = {
  pteLockWait: 'pte-lock wait',
  pteLockHold: 'pte-lock hold',
  preemptOff: 'preempt-off sections',
  irqsOff: 'irqs-off sections',
  probeWakeup: 'probe wake-up latency',
  gatherFlush: 'gather flush',
  ipiAckWait: 'IPI ack wait',
};
/** Plotted per run in this order (irqs-off last: it is part of preempt-off's story, not a headline). */
const PER_RUN_PLOTS: LatencyName[] = ['pteLockWait', 'pteLockHold', 'preemptOff', 'probeWakeup', 'gatherFlush', 'ipiAckWait', 'irqsOff'];

const PERCENTILES: { label: string; p: number }[] = [
  { label: 'min', p: 0 },
  { label: 'p10', p: 10 },
  { label: 'p25', p: 25 },
  { label: 'p50', p: 50 },
  { label: 'p75', p: 75 },
  { label: 'p90', p: 90 },
  { label: 'p95', p: 95 },
  { label: 'p99', p: 99 },
  { label: 'p99.9', p: 99.9 },
  { label: 'p99.99', p: 99.99 },
  { label: 'max', p: 100 },
];

/** The latency at each of PERCENTILES, in µs; null for an empty histogram. */
function percentileCurveUs(encoded: string): number[] | null {
  const h = hdr.decodeFromCompressedBase64(encoded, 32, false);
  if (h.totalCount === 0) return null;
  const at = (p: number): number => (p === 0 ? h.minNonZeroValue : p === 100 ? h.maxValue : h.getValueAtPercentile(p));
  return PERCENTILES.map(({ p }) => Math.round(at(p)) / 1000);
}

interface Dataset {
  label: string;
  data: number[] | { x: number; y: number }[];
  borderColor: string;
  backgroundColor: string;
  borderDash?: number[];
  pointRadius: number;
  borderWidth: number;
}

/** A Chart.js configuration: plain data only, since it crosses into the page as JSON. */
interface ChartConfig {
  type: 'line';
  data: { labels?: string[]; datasets: Dataset[] };
  options: Record<string, unknown>;
}

/** Collects the page's charts; each becomes a canvas now and a Chart in the browser. */
class Plots {
  readonly configs: Record<string, ChartConfig> = {};
  private next = 0;

  canvas(title: string, config: ChartConfig, tall = false): string {
    const id = `plot-${this.next++}`;
    this.configs[id] = config;
    return `<div class="plot${tall ? ' tall' : ''}"><canvas data-plot="${id}" role="img" aria-label="${esc(title)}"></canvas></div>`;
  }
}

function chartOptions(title: string, xTitle: string, yTitle: string, xLinear: boolean): Record<string, unknown> {
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    interaction: { mode: 'nearest', intersect: false },
    plugins: { title: { display: true, text: title }, legend: { display: true, position: 'bottom' } },
    scales: {
      x: { ...(xLinear ? { type: 'linear', ticks: { precision: 0 } } : {}), title: { display: true, text: xTitle } },
      y: { beginAtZero: true, title: { display: true, text: yTitle } },
    },
  };
}

function curve(label: string, data: Dataset['data'], color: string, dashed = false): Dataset {
  return { label, data, borderColor: color, backgroundColor: color, pointRadius: 2, borderWidth: dashed ? 1.5 : 2, ...(dashed ? { borderDash: [6, 4] } : {}) };
}

function timeAxis(runs: RunResult[]): string {
  const names = new Set(runs.map(clockName));
  return names.size === 1 ? [...names][0]! : 'model µs (flat for the runs with the model clocks off)';
}

// ---------------------------------------------------------------- sections

function comparisonSection(runs: ReportRun[]): string {
  if (runs.length === 0) return '<p class="none">No run or compare files given.</p>';
  const head1 = [
    '<th rowspan="2">variant (files)</th><th rowspan="2">workload</th><th rowspan="2">mode</th><th rowspan="2">seed</th>',
    '<th rowspan="2">cpus</th><th rowspan="2">preempt</th><th rowspan="2">time unit</th><th rowspan="2">ops/s</th>',
    '<th rowspan="2">gather flushes / op</th><th rowspan="2">IPIs / op</th>',
    '<th colspan="3">pte-lock hold</th><th colspan="3">pte-lock wait</th><th colspan="2">longest preempt-off section</th>',
    '<th colspan="2">probe wake-up</th><th rowspan="2">violations</th>',
  ].join('');
  const head2 = ['p50', 'p99', 'max', 'p50', 'p99', 'max', 'length', 'from → to (cpu, task)', 'p99', 'max'].map((h) => `<th>${h}</th>`).join('');
  const rows = runs.map(({ result: r, sources, label }) => {
    const s = r.latency.summaries;
    const off = r.latency.preemptOffMax;
    const violations = r.violations.length + r.violationsDropped;
    return `<tr>${[
      // The label is the variant, with the run's details only when variants repeat.
      `<td><span class="variant">${esc(label)}</span>${sources.map((f) => `<br><span class="files">${esc(f)}</span>`).join('')}</td>`,
      td(r.workload),
      td(r.mode),
      tdNum(String(r.seed)),
      tdNum(String(r.config.cpus)),
      td(r.config.preempt),
      td(clockName(r)),
      tdNum(fixed2(r.opsPerSec)),
      tdNum(perOp(r, r.counters.gatherFlushes)),
      tdNum(perOp(r, r.counters.ipisSent)),
      tdNum(us(s.pteLockHold.p50Ns)),
      tdNum(us(s.pteLockHold.p99Ns)),
      tdNum(us(s.pteLockHold.maxNs)),
      tdNum(us(s.pteLockWait.p50Ns)),
      tdNum(us(s.pteLockWait.p99Ns)),
      tdNum(us(s.pteLockWait.maxNs)),
      tdNum(off ? us(off.ns) : '–'),
      td(off ? `${off.startWhere} → ${off.endWhere} (cpu ${off.cpu}, task ${off.task})` : '–'),
      tdNum(s.probeWakeup.count > 0 ? us(s.probeWakeup.p99Ns) : '–'),
      tdNum(s.probeWakeup.count > 0 ? us(s.probeWakeup.maxNs) : '–'),
      `<td class="num${violations > 0 ? ' bad' : ''}">${violations}${r.error ? ` <span class="bad">(${esc(r.error.name)})</span>` : ''}</td>`,
    ].join('')}</tr>`;
  });
  return [
    '<p class="unit">Times are in model µs: each cpu\'s clock advances by the cost of what it does (the run\'s cost table) and by the times other cpus\' events carry, in both modes; ops/s counts model seconds. A dash means nothing was measured.</p>',
    `<div class="scroll"><table class="compare"><thead><tr>${head1}</tr><tr>${head2}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`,
  ].join('\n');
}

const LOCK_STAT_COLUMNS = ['class name', 'con-bounces', 'contentions', 'waittime-min', 'waittime-max', 'waittime-total', 'waittime-avg', 'acq-bounces', 'acquisitions', 'holdtime-min', 'holdtime-max', 'holdtime-total', 'holdtime-avg'];
/** /proc/lock_stat shows four contention points per class. */
const CONTENTION_POINTS_SHOWN = 4;

function lockStatRows(s: LockClassStat): string {
  const main = `<tr class="class">${[
    td(s.class),
    tdNum(String(s.conBounces)),
    tdNum(String(s.contentions)),
    tdNum(lockUs(s.waittimeMinNs)),
    tdNum(lockUs(s.waittimeMaxNs)),
    tdNum(lockUs(s.waittimeTotalNs)),
    tdNum(lockUs(s.contentions ? s.waittimeTotalNs / s.contentions : 0)),
    tdNum(String(s.acqBounces)),
    tdNum(String(s.acquisitions)),
    tdNum(lockUs(s.holdtimeMinNs)),
    tdNum(lockUs(s.holdtimeMaxNs)),
    tdNum(lockUs(s.holdtimeTotalNs)),
    tdNum(lockUs(s.acquisitions ? s.holdtimeTotalNs / s.acquisitions : 0)),
  ].join('')}</tr>`;
  const points = s.contentionPoints
    .slice(0, CONTENTION_POINTS_SHOWN)
    .map((p) => `<tr class="point"><td class="site">[&lt;${esc(p.site)}&gt;]</td><td></td>${tdNum(String(p.count))}<td colspan="${LOCK_STAT_COLUMNS.length - 3}"></td></tr>`);
  return main + points.join('');
}

function lockStatSection(runs: ReportRun[]): string {
  if (runs.length === 0) return '<p class="none">No runs.</p>';
  return runs
    .map(({ result: r, label }) => {
      const title = `<h3>${esc(label)}</h3>`;
      if (r.lockStat.length === 0) return `${title}<p class="none">no lock statistics</p>`;
      const contended = r.lockStat.filter((s) => s.contentions > 0).length;
      return [
        title,
        `<p class="unit">Times in ${esc(clockName(r))}. ${r.lockStat.length} lock classes, ${contended} contended; under each contended class, its top contention points (call site and how often a waiter waited there).</p>`,
        `<div class="scroll"><table class="lockstat"><thead><tr>${LOCK_STAT_COLUMNS.map((c) => `<th>${c}</th>`).join('')}</tr></thead><tbody>${r.lockStat.map(lockStatRows).join('')}</tbody></table></div>`,
      ].join('\n');
    })
    .join('\n');
}

function histogramSummaryLine(r: RunResult, name: LatencyName): string {
  const h = r.latency.summaries[name];
  return `n ${h.count} · p50 ${us(h.p50Ns)} · p99 ${us(h.p99Ns)} · max ${us(h.maxNs)} ${clockName(r)}`;
}

function latencySection(runs: ReportRun[], plots: Plots): string {
  if (runs.length === 0) return '<p class="none">No runs.</p>';
  const percentileLabels = PERCENTILES.map((p) => p.label);
  const out: string[] = ['<h3>Across runs</h3>', '<div class="grid">'];
  for (const name of ['preemptOff', 'probeWakeup'] as const) {
    const withSamples = runs.filter((r) => r.result.latency.summaries[name].count > 0);
    const datasets = withSamples.flatMap((r) => {
      const ys = percentileCurveUs(r.result.latency.encoded[name]);
      return ys ? [curve(r.label, ys, PALETTE[runs.indexOf(r) % PALETTE.length]!)] : [];
    });
    const title = `${LATENCY_TITLES[name]} by run`;
    if (datasets.length === 0) {
      out.push(`<div class="cell"><h4>${esc(title)}</h4><p class="none">no samples in any run${name === 'probeWakeup' ? ' (runs without --probe)' : ''}</p></div>`);
      continue;
    }
    const config: ChartConfig = { type: 'line', data: { labels: percentileLabels, datasets }, options: chartOptions(title, 'percentile', timeAxis(withSamples.map((r) => r.result)), false) };
    out.push(`<div class="cell">${plots.canvas(title, config, true)}</div>`);
  }
  out.push('</div>');
  runs.forEach(({ result: r, label }, i) => {
    out.push(`<h3>${esc(label)}</h3>`);
    const shown = PER_RUN_PLOTS.filter((n) => r.latency.summaries[n].count > 0);
    if (shown.length === 0) {
      out.push('<p class="none">no latency samples (run with latency statistics on)</p>');
      return;
    }
    const empty = PER_RUN_PLOTS.filter((n) => r.latency.summaries[n].count === 0).map((n) => LATENCY_TITLES[n]);
    out.push('<div class="grid">');
    for (const name of shown) {
      const ys = percentileCurveUs(r.latency.encoded[name]);
      if (!ys) continue;
      const title = `${LATENCY_TITLES[name]}: ${label}`;
      const config: ChartConfig = {
        type: 'line',
        data: { labels: percentileLabels, datasets: [curve(LATENCY_TITLES[name], ys, PALETTE[i % PALETTE.length]!)] },
        options: { ...chartOptions(title, 'percentile', clockName(r), false), plugins: { title: { display: true, text: title }, legend: { display: false } } },
      };
      out.push(`<div class="cell">${plots.canvas(title, config)}<p class="caption">${esc(histogramSummaryLine(r, name))}</p></div>`);
    }
    out.push('</div>');
    if (empty.length) out.push(`<p class="note">No samples: ${esc(empty.join(', '))}.</p>`);
  });
  return out.join('\n');
}

function scaleSection(scales: { file: string; data: ScaleFile }[], plots: Plots): string {
  if (scales.length === 0) return '<p class="none">No scale files given.</p>';
  return scales
    .map(({ file, data }) => {
      const title = `${data.workload}: ops/s against cpus (${file})`;
      const head = `<h3>${esc(file)} — workload ${esc(data.workload)}</h3>`;
      if (data.rows.length === 0) return `${head}<p class="none">no rows</p>`;
      const variants = [...new Set(data.rows.map((row) => row.variant))];
      const datasets = variants.flatMap((variant, i) => {
        const rows = data.rows.filter((row) => row.variant === variant).sort((a, b) => a.cpus - b.cpus);
        const color = PALETTE[i % PALETTE.length]!;
        return [curve(`${variant} ops/s`, rows.map((row) => ({ x: row.cpus, y: row.ops_per_sec })), color), curve(`${variant} linear`, rows.map((row) => ({ x: row.cpus, y: row.linear })), color, true)];
      });
      const yTitle = 'ops per model second';
      const config: ChartConfig = { type: 'line', data: { datasets }, options: chartOptions(title, 'cpus', yTitle, true) };
      const cols = ['cpus', 'variant', 'ops_per_sec', 'linear', 'pte_lock_wait_p99_us', 'ipis_per_op', 'preempt_off_max_us'];
      const rows = data.rows.map(
        (row) => `<tr>${[tdNum(String(row.cpus)), td(row.variant), tdNum(fixed2(row.ops_per_sec)), tdNum(fixed2(row.linear)), tdNum(fixed2(row.pte_lock_wait_p99_us)), tdNum(fixed2(row.ipis_per_op)), tdNum(fixed2(row.preempt_off_max_us))].join('')}</tr>`,
      );
      return [
        head,
        plots.canvas(title, config, true),
        `<p class="note">Dashed: the linear line, each variant's ops/s at its fewest cpus scaled by cpus.</p>`,
        `<div class="scroll"><table class="scale"><thead><tr>${cols.map((c) => `<th>${c}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`,
      ].join('\n');
    })
    .join('\n');
}

const VIOLATION_COLUMNS = ['rule', 'seed', 'variant', 'run', 'cpu', 'task', 'step', 'detail'];

function violationsSection(runs: ReportRun[]): string {
  const byRule: string[] = [];
  const every: string[] = [];
  const notes: string[] = [];
  for (const { result: r, label } of runs) {
    // A mutant fires hundreds of times; the first of each rule says what went wrong, the rest is kept below.
    const firstByRule = new Map<string, { first: RunResult['violations'][number]; count: number }>();
    for (const v of r.violations) {
      const seen = firstByRule.get(v.rule);
      if (seen) seen.count++;
      else firstByRule.set(v.rule, { first: v, count: 1 });
      every.push(violationRow(v, label));
    }
    for (const [rule, { first, count }] of firstByRule) {
      byRule.push(`<tr>${[td(rule), tdNum(String(count)), tdNum(String(first.seed)), td(first.variant), td(label), tdNum(first.step >= 0 ? String(first.step) : '–'), td(first.detail)].join('')}</tr>`);
    }
    if (r.violationsDropped > 0) notes.push(`<li>${esc(label)}: ${r.violationsDropped} more violations were dropped past the oracle's limit.</li>`);
    if (r.error) notes.push(`<li class="bad">${esc(label)}: the run failed: ${esc(r.error.name)}: ${esc(r.error.message)}</li>`);
  }
  const checked = `<p class="unit">${runs.length} runs checked, including the runs of scale files.</p>`;
  const noteList = notes.length ? `<ul>${notes.join('')}</ul>` : '';
  if (every.length === 0) return [checked, '<p class="ok">none</p>', noteList].join('\n');
  const summaryHead = ['rule', 'count', 'seed', 'variant', 'run', 'first at step', 'first detail'].map((c) => `<th>${c}</th>`).join('');
  return [
    checked,
    `<div class="scroll"><table class="violation-rules"><thead><tr>${summaryHead}</tr></thead><tbody>${byRule.join('')}</tbody></table></div>`,
    noteList,
    `<details><summary>all ${every.length} violations</summary><div class="scroll"><table class="violations"><thead><tr>${VIOLATION_COLUMNS.map((c) => `<th>${c}</th>`).join('')}</tr></thead><tbody>${every.join('')}</tbody></table></div></details>`,
  ].join('\n');
}

function violationRow(v: RunResult['violations'][number], label: string): string {
  return `<tr>${[td(v.rule), tdNum(String(v.seed)), td(v.variant), td(label), tdNum(String(v.cpu)), tdNum(String(v.task)), tdNum(v.step >= 0 ? String(v.step) : '–'), td(v.detail)].join('')}</tr>`;
}

// ---------------------------------------------------------------- the page

const CSS = `
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #222; background: #fff; }
h1 { font-size: 22px; margin: 0 0 8px; }
h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid #ccc; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
h4 { font-size: 13px; margin: 4px 0; }
table { border-collapse: collapse; font-size: 12px; }
th, td { border: 1px solid #ddd; padding: 3px 6px; vertical-align: top; }
th { background: #f3f3f3; font-weight: 600; text-align: center; }
td.cell.found { color: #b42318; }
td.cell.bad { background: #fde8e8; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.files { font-size: 11px; color: #555; }
.variant { font-weight: 600; }
details { margin: 8px 0; }
summary { cursor: pointer; color: #333; }
tr.point td { border-top: none; color: #555; }
td.site { padding-left: 24px; font-family: ui-monospace, monospace; }
table.lockstat tr.class td:first-child { white-space: nowrap; }
.scroll { overflow-x: auto; }
.unit, .note, .caption { color: #555; font-size: 12px; margin: 4px 0; }
.none { color: #777; font-style: italic; }
.ok { color: #1a7f37; font-weight: 600; }
.bad { color: #b42318; font-weight: 600; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: 16px; }
.plot { position: relative; height: 240px; }
.plot.tall { height: 320px; }
`;

// Runs in the page: draws every canvas[data-plot] from its configuration and
// counts the charts, so a test can tell that every plot was drawn.
const PAGE_SCRIPT = `
(function () {
  var configs = JSON.parse(document.getElementById('shootdown-plots').textContent);
  var created = 0;
  document.querySelectorAll('canvas[data-plot]').forEach(function (canvas) {
    var id = canvas.getAttribute('data-plot');
    var config = configs[id];
    if (!config) { console.error('shootdown report: no plot data for ' + id); return; }
    new Chart(canvas, config);
    created++;
  });
  window.__plotsRendered = created;
})();
`;

let chartJsSource: string | null = null;

/** The Chart.js UMD bundle, made safe to sit inside a <script> element. */
function chartJs(): string {
  if (chartJsSource === null) {
    // chart.js's package exports do not list the UMD file, so find it beside the entry point.
    const entry = createRequire(import.meta.url).resolve('chart.js');
    const source = readFileSync(join(dirname(entry), 'chart.umd.min.js'), 'utf8');
    // A source map comment would make devtools fetch a file the page does not carry.
    chartJsSource = source.replace(/\/\/# sourceMappingURL=\S+\s*$/, '').replace(/<\/script/gi, '<\\/script');
  }
  return chartJsSource;
}

/** JSON that can sit inside a <script> element: no `<` survives to open or close a tag. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * Hunt campaigns, merged: the shards of one campaign (same variant, workload
 * and strategy) add up their seeds, and each violation location keeps the
 * lowest first seed and the summed count.
 */
function huntSection(hunts: { file: string; data: HuntFile }[]): string {
  if (hunts.length === 0) return '<p class="note">no hunt files</p>';
  interface Campaign {
    files: string[];
    shards: string[];
    seeds: number;
    found: Map<string, HuntFile['violations'][number]>;
  }
  const campaigns = new Map<string, Campaign>();
  for (const { file, data } of hunts) {
    const key = `${data.variant} / ${data.workload} / ${data.strategy.kind}`;
    const c: Campaign = campaigns.get(key) ?? { files: [], shards: [], seeds: 0, found: new Map() };
    c.files.push(file);
    c.shards.push(data.shard ? `${data.shard.index}/${data.shard.count}` : 'all');
    c.seeds += data.seedsRun;
    for (const v of data.violations) {
      const m = c.found.get(v.location);
      if (!m) c.found.set(v.location, { ...v });
      else {
        m.count += v.count;
        if (v.seed !== undefined && (m.seed === undefined || v.seed < m.seed)) Object.assign(m, { seed: v.seed, detail: v.detail });
      }
    }
    campaigns.set(key, c);
  }
  const rows = [...campaigns.entries()].flatMap(([key, c]) => {
    const head = `<tr data-hunt="${esc(key)}"><td>${esc(key)}</td><td class="num">${c.seeds}</td><td>${esc(c.shards.join(', '))}</td><td>${c.found.size === 0 ? 'none' : `${c.found.size} distinct`}</td><td>${esc(c.files.join(', '))}</td></tr>`;
    const found = [...c.found.values()].map((v) => `<tr><td></td><td class="num">${v.count}</td><td>first seed ${v.seed ?? '-'}</td><td>${esc(v.rule)}</td><td>${esc(v.detail)}</td></tr>`);
    return [head, ...found];
  });
  return `<table><thead><tr><th>campaign (variant / workload / strategy)</th><th>seeds (or count)</th><th>shards</th><th>violations</th><th>files</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function historyCell(c: HistoryFile['races'][number]['cells'][number]): string {
  const cls = c.verdict === 'missed' || c.verdict === 'unexpected' ? 'bad' : c.verdict === 'has-it' || c.verdict === 'kernel-race' ? 'found' : c.verdict === 'not-reached' ? 'note' : '';
  const title = [c.rule, c.detail, `${c.seedsRun} of ${c.seedsPlanned} seeds`, `verdict: ${c.verdict}`].filter(Boolean).join(' · ');
  return `<td class="cell ${cls}" data-verdict="${esc(c.verdict)}" title="${esc(title)}">${esc(cellText(c))}</td>`;
}

/** Each history file: the races by design, the mutants beside their base designs, the costs per design, and the verdict. */
function historySection(histories: { file: string; data: HistoryFile }[]): string {
  if (histories.length === 0) return '<p class="note">no history files</p>';
  return histories
    .map(({ file, data: f }) => {
      const races = f.races.map(
        (r) => `<tr data-race="${esc(r.name)}">${td(r.name)}${td(r.fix)}${r.cells.map(historyCell).join('')}${td(r.rules.join(', '))}${td(r.had.join(', ') || 'none')}${td(`${scenarioText(r.scenario)}${r.shownBy ? ` (${r.shownBy})` : ''}`)}</tr>`,
      );
      const mutants = f.mutants.map((m) => `<tr data-mutant="${esc(m.name)}">${td(m.name)}${td(m.baseDesign)}${historyCell(m.mutantCell)}${historyCell(m.baseCell)}${td(m.rules.join(', ') || 'any')}${td(m.bug)}</tr>`);
      const costs = f.costs.designs.map((c) => `<tr data-cost="${esc(`${c.design} ${c.preempt}`)}">${td(c.design)}${td(c.preempt)}${tdNum(fixed2(c.gatherFlushesPerOp))}${tdNum(fixed2(c.ipisPerOp))}${tdNum(us(c.preemptOffMaxNs))}${td(c.preemptOffWhere ?? '–')}</tr>`);
      const verdict = `<p class="${f.matches ? 'ok' : 'bad'}">${esc(verdictText(f)).replace(/\n/g, '<br>')}</p>`;
      return [
        `<h3>${esc(file)}</h3>`,
        `<p class="unit">found@S: the race's rule first fired at seed S; clean/N: N random seeds and nothing; not reached/N: the kernel had it, random seeds did not reach it within N; !: disagrees with the kernel's history. Races up to ${f.seedsMax} seeds per design, mutants up to ${f.mutantSeedsMax}.</p>`,
        `<div class="scroll"><table class="history"><thead><tr><th>race</th><th>fixed by</th>${f.designs.map((d) => `<th>${esc(d)}</th>`).join('')}<th>rule</th><th>kernels that had it</th><th>scenario</th></tr></thead><tbody>${races.join('')}</tbody></table></div>`,
        `<h4>Mutants, each beside the design it was derived from</h4>`,
        `<div class="scroll"><table class="history-mutants"><thead><tr><th>mutant</th><th>base</th><th>mutant</th><th>base</th><th>rules</th><th>planted bug</th></tr></thead><tbody>${mutants.join('')}</tbody></table></div>`,
        `<h4>Costs: ${esc(scenarioText(f.costs.scenario))}, one deterministic run per design and preemption model (model µs)</h4>`,
        `<table class="history-costs"><thead><tr><th>design</th><th>preempt</th><th>gather flushes / op</th><th>IPIs / op</th><th>longest non-preemptible section</th><th>from → to</th></tr></thead><tbody>${costs.join('')}</tbody></table>`,
        verdict,
      ].join('\n');
    })
    .join('\n');
}

/** One self-contained page: comparison, lock_stat, latency plots, scaling and violations. */
export function renderHtmlReport(inputs: ReportInput[]): string {
  const shown = collectRuns(
    inputs.flatMap((input) => (input.kind === 'run' ? [{ file: input.file, result: input.result }] : input.kind === 'compare' ? input.data.results.map((result) => ({ file: input.file, result })) : [])),
  );
  const scales = inputs.flatMap((input) => (input.kind === 'scale' ? [{ file: input.file, data: input.data }] : []));
  const everyRun = collectRuns(
    inputs.flatMap((input) => (input.kind === 'run' ? [{ file: input.file, result: input.result }] : input.kind === 'compare' || input.kind === 'scale' ? input.data.results.map((result) => ({ file: input.file, result })) : [])),
  );
  const hunts = inputs.flatMap((input) => (input.kind === 'hunt' ? [{ file: input.file, data: input.data }] : []));
  const histories = inputs.flatMap((input) => (input.kind === 'history' ? [{ file: input.file, data: input.data }] : []));
  const plots = new Plots();
  const sections = [
    ['1. Comparison', comparisonSection(shown)],
    ['2. lock_stat', lockStatSection(shown)],
    ['3. Latency distributions', latencySection(shown, plots)],
    ['4. Scaling', scaleSection(scales, plots)],
    ['5. Violations', violationsSection(everyRun)],
    ['6. Hunt campaigns', huntSection(hunts)],
    ["7. Races across the kernel's designs", historySection(histories)],
  ] as const;
  const fileList = inputs.map((input) => `<li>${esc(input.file)} <span class="note">(${input.kind})</span></li>`).join('');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>shootdown report</title>
<style>${CSS}</style>
</head>
<body>
<h1>shootdown report</h1>
<p class="unit">${shown.length} runs from run and compare files, ${scales.length} scale files. Latency plots are percentile curves: the latency at or below which that share of the samples fell.</p>
<ul>${fileList}</ul>
${sections.map(([title, body]) => `<section>\n<h2>${title}</h2>\n${body}\n</section>`).join('\n')}
<script type="application/json" id="shootdown-plots">${scriptJson(plots.configs)}</script>
<script>${chartJs()}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

/** Renders and writes the page atomically; a missing output folder is refused as bad input. */
export function writeHtmlReport(file: string, inputs: ReportInput[]): void {
  checkOutputPath('--html', file);
  writeTextAtomic(file, renderHtmlReport(inputs));
}
