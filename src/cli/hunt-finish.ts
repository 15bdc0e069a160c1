// What a hunt campaign prints and writes, local or through a queue: PCT's
// bound, then at the end artifacts, the summary, preemption coverage, the
// JSON file and the exit code, the same either way.

import { RESULT_SCHEMA } from '../engine/result.ts';
import { allTasks } from '../engine/boot.ts';
import { pctBound } from '../engine/strategy.ts';
import { modelFingerprint } from '../engine/fingerprint.ts';
import type { Artifact, CampaignResult, FoundGroup } from '../engine/campaign.ts';
import type { RunConfig } from '../machine/config.ts';
import { writeArtifact } from '../report/artifact.ts';
import { writeJsonAtomic } from '../report/json.ts';
import { coverageText } from '../report/summary.ts';
import type { Out } from './common.ts';

/** PCT's promise for this campaign, printed under its first line. */
export function pctText(strategy: { depth: number; steps: number }, config: RunConfig): string {
  const threads = allTasks(config).length + config.cpus;
  return `  pct depth ${strategy.depth} over about ${strategy.steps} steps and ${threads} threads (tasks and interrupt contexts): each run finds a bug of that depth with probability at least ${pctBound(threads, strategy.steps, strategy.depth).toExponential(2)}`;
}

/** The fields every hunt file opens with, local, queued or bounded; `fingerprint` is the model that answered (a queue campaign's may not be this process's). */
export function huntFileHead(config: RunConfig, strategy: object, fingerprint = modelFingerprint()): Record<string, unknown> {
  return { schema: RESULT_SCHEMA, command: 'hunt', variant: config.variant, workload: config.workload, strategy, fingerprint };
}

export function finishHunt(out: Out, o: Record<string, unknown>, config: RunConfig, shard: { index: number; count: number } | null, dir: string, result: CampaignResult, artifactOf: (g: FoundGroup) => Artifact, extra: Record<string, unknown>, fingerprint = modelFingerprint()): void {
  const artifacts: string[] = [];
  for (const g of result.groups) artifacts.push(writeArtifact(dir, artifactOf(g)));
  out(`${result.seedsRun} seeds in ${(result.elapsedMs / 1000).toFixed(1)} s, ${result.seedsPerSec} seeds/s; ${result.groups.length} distinct violations, ${result.errors.length} failed runs`);
  for (const g of result.groups) out(`  ${g.rule} x${g.count}, first at seed ${g.seed}: ${g.detail}`);
  for (const f of artifacts) out(`  artifact: ${f}`);
  out(coverageText(result.coverage, result.neverPreempted, result.seedsRun));
  const found = result.groups.length > 0 || result.errors.length > 0;
  if (o.json) {
    writeJsonAtomic(o.json as string, {
      ...huntFileHead(config, config.strategy, fingerprint),
      shard,
      seedsRun: result.seedsRun,
      seedsPerSec: result.seedsPerSec,
      found,
      violations: result.groups.map((g) => ({ rule: g.rule, location: g.location, seed: g.seed, count: g.count, detail: g.detail })),
      errors: result.errors,
      firstFailingSeed: result.firstFailingSeed,
      artifacts,
      coverage: result.coverage,
      neverPreempted: result.neverPreempted,
      config,
      ...extra,
    });
  }
  process.exitCode = found ? 1 : 0;
}
