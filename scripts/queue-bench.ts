// Bench row (h): a campaign through Redis with 2 worker processes of 1 job
// each against the same campaign on a local pool of 2 jobs, both measured
// after their workers are warm (a small campaign first), so the ratio is the
// queue's cost: block hand-out, results through Redis, the coordinator's
// polling, and the wait for workers to notice a new campaign.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { RunConfig } from '../src/machine/config.ts';
import { campaignPool, runCampaign } from '../src/engine/campaign.ts';
import { defaultBlockSeeds, followCampaign, startCampaign } from '../src/queue/coordinator.ts';
import { parseQueueUrl } from '../src/queue/redis.ts';
import { CliProcess } from '../test/cli-process.ts';
import { startRedis } from '../test/redis-server.ts';
import { destroyPool } from '../src/engine/worker-env.ts';

const WARM_SEEDS = 20;
const WARM_FIRST_SEED = 1_000_001;

export interface QueueBench {
  seeds: number;
  localSeedsPerSec: number;
  queueSeedsPerSec: number;
  ratio: number;
}

async function queueCampaignSeconds(url: string, base: RunConfig, firstSeed: number, seeds: number): Promise<number> {
  const target = parseQueueUrl('--queue', url);
  const t0 = performance.now();
  const campaign = await startCampaign(target, base, firstSeed, seeds, defaultBlockSeeds(seeds));
  const r = await followCampaign(target, campaign, { signal: new AbortController().signal, log: () => {}, onBlock: () => {} });
  if (!r.complete || r.result.seedsRun !== seeds) throw new Error(`queue campaign: ${r.result.seedsRun} of ${seeds} seeds`);
  return (performance.now() - t0) / 1000;
}

export async function benchQueue(base: RunConfig, seeds: number): Promise<QueueBench | null> {
  if (spawnSync('redis-server', ['--version']).status !== 0) return null;
  const pool = campaignPool(2);
  let localSeedsPerSec: number;
  try {
    await runCampaign({ base, firstSeed: WARM_FIRST_SEED, seeds: WARM_SEEDS, timeMs: Infinity, jobs: 2, stopOnFirst: false, shard: null }, undefined, pool);
    const t0 = performance.now();
    const r = await runCampaign({ base, firstSeed: 1, seeds, timeMs: Infinity, jobs: 2, stopOnFirst: false, shard: null }, undefined, pool);
    localSeedsPerSec = r.seedsRun / ((performance.now() - t0) / 1000);
  } finally {
    await destroyPool(pool);
  }
  const redis = await startRedis('redis-server', `bench-${process.pid}`);
  const dir = mkdtempSync(join(tmpdir(), 'shootdown-queue-bench-'));
  const workers = [0, 1].map(() => new CliProcess(dir, ['worker', '--queue', redis.url, '--jobs', '1']));
  try {
    await queueCampaignSeconds(redis.url, base, WARM_FIRST_SEED, WARM_SEEDS);
    const queueSeedsPerSec = seeds / (await queueCampaignSeconds(redis.url, base, 1, seeds));
    return { seeds, localSeedsPerSec, queueSeedsPerSec, ratio: queueSeedsPerSec / localSeedsPerSec };
  } finally {
    await Promise.all(workers.map((w) => w.end()));
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
