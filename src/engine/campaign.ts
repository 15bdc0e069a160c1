// Campaigns: many seeds of one deterministic scenario, spread over a piscina
// pool (one seed per task), with distinct violations grouped by rule and
// location (the detail with its numbers blanked). Seeds are 1-based; --shard
// i/n keeps the seeds s with (s - 1) mod n == i - 1, so n machines can share
// a campaign and their results merge. A failure is re-run in the main thread
// with its choices recorded, which makes it an artifact replay reproduces.
// Each seed also reports the preemption points it passed and those it
// preempted at, so a campaign can say which points it never preempted.

import { Piscina } from 'piscina';
import { WORKER_EXEC_ARGV, destroyPool, workerFile } from './worker-env.ts';
import type { RunConfig } from '../machine/config.ts';
import { runDeterministic } from './deterministic.ts';
import { DecisionLog, type RecordedSchedule } from './strategy.ts';
import type { RunResult } from './result.ts';
import { modelFingerprint } from './fingerprint.ts';

export interface SeedJob {
  config: RunConfig;
}

export interface SeedOutcome {
  seed: number;
  steps: number;
  /** The first few violations, enough to group them. */
  violations: { rule: string; detail: string; step: number }[];
  violationCount: number;
  error: { name: string; message: string } | null;
  /** The preemption points the run passed, each with whether it was preempted there. */
  points: { point: string; preempted: boolean }[];
}

const OUTCOME_VIOLATIONS = 4;

/**
 * One seed, in a worker. Its outcome holds no latency, so the seed runs
 * without the histograms and lock_stat (15% of a per-page seed): they read
 * the clocks and never move them, so the seed takes the same steps, and a
 * failure re-run for its artifact measures them all.
 */
export function huntSeed(job: SeedJob): SeedOutcome {
  const r = runDeterministic({ ...job.config, latencyStats: false });
  return {
    seed: job.config.seed,
    steps: r.steps,
    violations: r.violations.slice(0, OUTCOME_VIOLATIONS).map((v) => ({ rule: v.rule, detail: v.detail, step: v.step })),
    violationCount: r.violations.length + r.violationsDropped,
    error: r.error && r.error.name !== 'SoftLockup' ? { name: r.error.name, message: r.error.message } : null,
    points: (r.preemptionPoints ?? []).map((p) => ({ point: p.point, preempted: p.preempted > 0 })),
  };
}

/** Preemption coverage over a campaign: per point, the seeds that passed it and the seeds that preempted there. */
export class Coverage {
  private readonly by = new Map<string, { passed: number; preempted: number }>();
  add(points: SeedOutcome['points']): void {
    for (const p of points) {
      let c = this.by.get(p.point);
      if (!c) this.by.set(p.point, (c = { passed: 0, preempted: 0 }));
      c.passed++;
      if (p.preempted) c.preempted++;
    }
  }
  /** Every point passed, with the seeds that preempted there (`seeds`) and the seeds that passed it. */
  points(): CoveragePoint[] {
    return [...this.by].map(([point, c]) => ({ point, seeds: c.preempted, seedsPassed: c.passed })).sort((a, b) => a.point.localeCompare(b.point));
  }
  neverPreempted(): string[] {
    return this.points().filter((p) => p.seeds === 0).map((p) => p.point);
  }
}

export interface CoveragePoint {
  point: string;
  /** Seeds that preempted at this point. */
  seeds: number;
  /** Seeds that passed it. */
  seedsPassed: number;
}

/** PCT's horizon k when the user gives none: the steps one random run of the same scenario takes. */
export function pctHorizonSteps(config: RunConfig, seed: number): number {
  return runDeterministic({ ...config, strategy: { kind: 'random' }, seed }).steps;
}

export interface Shard {
  index: number; // 1-based
  count: number;
}

export function inShard(seed: number, shard: Shard | null): boolean {
  return !shard || (seed - 1) % shard.count === shard.index - 1;
}

/** Where a violation happened, for grouping: its rule and its detail with every number blanked. */
export function locationOf(rule: string, detail: string): string {
  return `${rule} ${detail.replace(/-?\d+/g, '#')}`;
}

export interface FoundGroup {
  rule: string;
  location: string;
  /** The first seed (lowest) that showed it, and one of its details. */
  seed: number;
  detail: string;
  step: number;
  /** Seeds that showed it. */
  count: number;
}

/**
 * Count one run's violations into `groups`, once per location per run; a
 * lower `seed` becomes the group's first. Returns the groups this run opened.
 */
export function groupViolations(groups: Map<string, FoundGroup>, violations: readonly { rule: string; detail: string; step: number }[], seed: number): FoundGroup[] {
  const opened: FoundGroup[] = [];
  const seen = new Set<string>();
  for (const v of violations) {
    const location = locationOf(v.rule, v.detail);
    if (seen.has(location)) continue;
    seen.add(location);
    const g = groups.get(location);
    if (!g) {
      const found = { rule: v.rule, location, seed, detail: v.detail, step: v.step, count: 1 };
      groups.set(location, found);
      opened.push(found);
    } else {
      g.count++;
      if (seed < g.seed) Object.assign(g, { seed, detail: v.detail, step: v.step });
    }
  }
  return opened;
}

export interface CampaignResult {
  seedsRun: number;
  seedsPerSec: number;
  elapsedMs: number;
  groups: FoundGroup[];
  errors: { seed: number; name: string; message: string }[];
  firstFailingSeed: number | null;
  stoppedEarly: boolean;
  coverage: CoveragePoint[];
  neverPreempted: string[];
}

export interface CampaignOptions {
  base: RunConfig;
  firstSeed: number;
  /** Seeds to try (before sharding removes some), or Infinity with timeMs. */
  seeds: number;
  timeMs: number;
  jobs: number;
  stopOnFirst: boolean;
  shard: Shard | null;
  /** Called after every seed, in completion order. */
  onSeed?: (o: SeedOutcome, newGroup: FoundGroup | null) => void;
}

export function campaignPool(jobs: number): Piscina {
  return new Piscina({ filename: workerFile('hunt'), minThreads: jobs, maxThreads: jobs, execArgv: WORKER_EXEC_ARGV, idleTimeout: 60_000 });
}

export async function runCampaign(opts: CampaignOptions, signal?: AbortSignal, pool?: Piscina): Promise<CampaignResult> {
  const t0 = performance.now();
  const own = pool ?? campaignPool(opts.jobs);
  const groups = new Map<string, FoundGroup>();
  const errors: CampaignResult['errors'] = [];
  const coverage = new Coverage();
  let seedsRun = 0;
  let next = opts.firstSeed;
  const last = opts.firstSeed + opts.seeds - 1;
  let stop = false;
  const more = (): boolean => !stop && !signal?.aborted && next <= last && performance.now() - t0 < opts.timeMs;
  const nextSeed = (): number | null => {
    while (more()) {
      const seed = next++;
      if (inShard(seed, opts.shard)) return seed;
    }
    return null;
  };
  // a worker thread that fails outside any seed (it could not start) stops the campaign; the seeds run so far are kept
  const onPoolError = (e: unknown): void => {
    stop = true;
    errors.push({ seed: -1, name: e instanceof Error ? e.name : 'Error', message: `a worker thread failed: ${e instanceof Error ? e.message : String(e)}` });
  };
  own.on('error', onPoolError);
  const worker = async (): Promise<void> => {
    for (let seed = nextSeed(); seed !== null; seed = nextSeed()) {
      const o = (await own.run({ config: { ...opts.base, seed } } satisfies SeedJob)) as SeedOutcome;
      seedsRun++;
      coverage.add(o.points);
      const fresh = groupViolations(groups, o.violations, seed)[0] ?? null;
      if (o.error) errors.push({ seed, ...o.error });
      opts.onSeed?.(o, fresh);
      if (opts.stopOnFirst && (o.violationCount > 0 || o.error)) stop = true;
    }
  };
  /** The campaign's time ends when its last seed is in, not after the pool's teardown. */
  let endedMs = 0;
  try {
    await Promise.all(Array.from({ length: opts.jobs * 2 }, worker));
  } finally {
    endedMs = performance.now();
    own.off('error', onPoolError);
    if (!pool) await destroyPool(own);
  }
  const elapsedMs = endedMs - t0;
  const failing = [...[...groups.values()].map((g) => g.seed), ...errors.filter((e) => e.seed > 0).map((e) => e.seed)];
  return {
    seedsRun,
    seedsPerSec: Math.round((seedsRun / (elapsedMs / 1000)) * 10) / 10,
    elapsedMs: Math.round(elapsedMs),
    groups: [...groups.values()].sort((a, b) => a.seed - b.seed || a.location.localeCompare(b.location)),
    errors: errors.sort((a, b) => a.seed - b.seed),
    firstFailingSeed: failing.length ? Math.min(...failing) : null,
    stoppedEarly: stop,
    coverage: coverage.points(),
    neverPreempted: coverage.neverPreempted(),
  };
}

/** Artifacts record task preemptions and interrupt timing since schema 3, and a config with the cost table since 4; older ones cannot be replayed. */
export const ARTIFACT_SCHEMA = 4;

/** A failing seed as a replayable artifact: the config, the seed, and every scheduling decision. */
export interface Artifact extends RecordedSchedule {
  schema: typeof ARTIFACT_SCHEMA;
  kind: 'artifact';
  config: RunConfig;
  /** The violation it was saved for. */
  rule: string;
  step: number;
  detail: string;
  /** The model that made it (engine/fingerprint.ts); absent in artifacts made before models had fingerprints. */
  fingerprint?: string;
}

export function makeArtifact(config: RunConfig, rule: string): { artifact: Artifact; result: RunResult } {
  const log = new DecisionLog();
  const result = runDeterministic(config, { record: log });
  return { artifact: artifactOf(config, rule, result, log.schedule()), result };
}

/** The artifact of a run of this process's model whose decisions were recorded as `schedule`, saved for `rule`. */
export function artifactOf(config: RunConfig, rule: string, result: Pick<RunResult, 'violations'>, schedule: RecordedSchedule): Artifact {
  const v = result.violations.find((x) => x.rule === rule) ?? result.violations[0];
  return { schema: ARTIFACT_SCHEMA, kind: 'artifact', config, rule: v?.rule ?? rule, step: v?.step ?? -1, detail: v?.detail ?? '', ...schedule, fingerprint: modelFingerprint() };
}
