// `shootdown worker`: takes blocks of seeds from every campaign listed in
// Redis and runs them on one local piscina pool, returning each block's
// result (seeds run, groups with first seeds and counts, failed runs, an
// artifact per group). A block is checked before anything runs; a bad one
// is failed in the queue with its reason (UnrecoverableError: no retry) and
// the worker goes on. The worker writes no file: what it finds goes back
// through the queue. A block is whole or not at all: if the pool could not
// run every seed the block fails and BullMQ gives it to a worker again.
//
// Faults: killed with SIGKILL, the worker's blocks keep their lock only until
// it expires (lockMs); BullMQ's stalled-job check in any other worker then
// puts them back on the queue. Stopped with SIGTERM or SIGINT, it takes no
// new block and finishes the ones it has (a second signal quits at once and
// leaves them to the stalled-job check).
//
// A campaign is one model. Before it takes a campaign's first block the
// worker reads the campaign's description; a campaign of another model (its
// fingerprint is not this worker's) or without a readable description is
// refused in one line and never served: the worker takes none of its
// blocks, so they wait for a worker of the campaign's model. Every result
// carries the worker's fingerprint, for the coordinator to check again.

import { Worker, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Piscina } from 'piscina';
import { BadInput } from '../machine/errors.ts';
import { campaignPool, makeArtifact, runCampaign } from '../engine/campaign.ts';
import { destroyPool } from '../engine/worker-env.ts';
import { modelFingerprint, shortFingerprint } from '../engine/fingerprint.ts';
import { BLOCK_BYTES_MAX, BLOCK_SCHEMA_VERSION, CAMPAIGNS_KEY, campaignId, campaignKey, checkBlock, checkCampaign, queueName, type BlockResult } from './blocks.ts';
import { bullOptions, connectRedis, type QueueTarget } from './redis.ts';

/** BullMQ's default lock: a killed worker's block goes back to the queue this long after its last renewal. */
export { LOCK_MS_DEFAULT } from './blocks.ts';
/** A block killed with its worker this many times is failed rather than handed out again. */
export const STALLS_MAX = 3;
/** Blocks each campaign's BullMQ worker holds at once: two, so the pool has the next block's seeds while one block's last seeds finish. */
const BLOCKS_AT_ONCE = 2;
const CAMPAIGNS_MAX = 64;
/** How often an idle worker looks for new campaigns: a campaign's start waits this long at most for its first block to be taken. */
const WATCH_MS = 200;

export interface WorkerOptions {
  target: QueueTarget;
  jobs: number;
  lockMs: number;
  signal: AbortSignal;
  log: (line: string) => void;
}

export async function runQueueWorker(o: WorkerOptions): Promise<{ blocksDone: number; blocksRefused: number }> {
  const redis: Redis = await connectRedis(o.target);
  const pool: Piscina = campaignPool(o.jobs);
  const workers = new Map<string, Worker>();
  const closing: Promise<void>[] = [];
  let blocksDone = 0;
  let blocksRefused = 0;
  let redisDown = false;
  const fingerprint = modelFingerprint();
  /** Campaigns refused (another model, no description): never served, and told once. */
  const refused = new Set<string>();

  const runBlock = async (campaign: string, job: Job): Promise<BlockResult> => {
    const where = `block ${String(job.id).slice(0, 60)} of campaign ${campaign}`;
    let block;
    try {
      block = checkBlock(where, job.data, campaign);
    } catch (e) {
      if (!(e instanceof BadInput)) throw e;
      blocksRefused++;
      o.log(`refused ${e.message}`);
      throw new UnrecoverableError(e.message);
    }
    if (block.fingerprint !== fingerprint) {
      // the campaign's description said this model; a block that says otherwise was not put there by its coordinator
      blocksRefused++;
      const why = `${where}: of model ${shortFingerprint(block.fingerprint)}, not its campaign's (${shortFingerprint(fingerprint)})`;
      o.log(`refused ${why}`);
      throw new UnrecoverableError(why);
    }
    const t0 = performance.now();
    const r = await runCampaign({ base: block.config, firstSeed: block.firstSeed, seeds: block.count, timeMs: Infinity, jobs: o.jobs, stopOnFirst: false, shard: null }, undefined, pool);
    const lost = r.errors.find((e) => e.seed < 0);
    if (lost || r.seedsRun !== block.count) throw new Error(`${where}: ran ${r.seedsRun} of ${block.count} seeds${lost ? ` (${lost.message})` : ''}`);
    const artifacts = r.groups.map((g) => makeArtifact({ ...block.config, seed: g.seed }, g.rule).artifact);
    blocksDone++;
    o.log(`campaign ${campaign} block ${block.index}: seeds ${block.firstSeed}..${block.firstSeed + block.count - 1} in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${r.groups.length} violation groups, ${r.errors.length} failed runs`);
    return { schema: BLOCK_SCHEMA_VERSION, campaign, index: block.index, fingerprint, seedsRun: r.seedsRun, groups: r.groups, errors: r.errors, coverage: r.coverage, artifacts };
  };

  const attach = (id: string): void => {
    const w = new Worker(queueName(id), (job: Job) => runBlock(id, job), {
      connection: bullOptions(o.target),
      concurrency: BLOCKS_AT_ONCE,
      lockDuration: o.lockMs,
      stalledInterval: o.lockMs,
      maxStalledCount: STALLS_MAX,
    });
    w.on('error', (e) => {
      if (!redisDown) o.log(`campaign ${id}: ${e.message.split('\n')[0]}; retrying`);
      redisDown = true;
    });
    w.on('ready', () => (redisDown = false));
    workers.set(id, w);
  };

  /** Whether campaign `id` is of this worker's model; if not, it is refused with one line and never looked at again. Null: Redis did not answer. */
  const sameModel = async (id: string): Promise<boolean | null> => {
    let text: string | null;
    let bytes: number;
    try {
      // its size first: a description is read whole, and anyone with access to Redis could have written it
      bytes = await redis.strlen(campaignKey(id));
      text = bytes > BLOCK_BYTES_MAX ? '' : await redis.get(campaignKey(id));
    } catch {
      return null;
    }
    let why: string;
    try {
      if (bytes > BLOCK_BYTES_MAX) throw new BadInput(`its description is ${bytes} bytes, over the ${BLOCK_BYTES_MAX} limit`);
      if (text === null) throw new BadInput('it has no description in Redis');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new BadInput('its description is not JSON');
      }
      const c = checkCampaign('its description', json);
      if (c.fingerprint === fingerprint) return true;
      why = `its model is ${shortFingerprint(c.fingerprint)}, this worker's is ${shortFingerprint(fingerprint)}`;
    } catch (e) {
      if (!(e instanceof BadInput)) throw e;
      why = e.message;
    }
    refused.add(id);
    o.log(`refusing campaign ${id}: ${why}`);
    return false;
  };

  /** Follow the list of campaigns: attach to new ones of this model, let go of finished ones. */
  const watch = async (): Promise<void> => {
    let ids: string[];
    try {
      ids = await redis.smembers(CAMPAIGNS_KEY);
      redisDown = false;
    } catch {
      return; // Redis is away; the next look may find it back
    }
    const live = new Set(ids.filter((id) => campaignId.safeParse(id).success).slice(0, CAMPAIGNS_MAX));
    for (const id of refused) if (!live.has(id)) refused.delete(id);
    for (const id of live) if (!workers.has(id) && !refused.has(id) && (await sameModel(id))) attach(id);
    for (const [id, w] of workers) {
      if (live.has(id)) continue;
      workers.delete(id);
      closing.push(w.close()); // it finishes a block in hand meanwhile; other campaigns need not wait
    }
  };

  o.log(`shootdown worker: ${o.jobs} job${o.jobs === 1 ? '' : 's'} on ${o.target.shown}, model ${shortFingerprint(fingerprint)}`);
  try {
    await watch();
    while (!o.signal.aborted) {
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          o.signal.removeEventListener('abort', wake);
          resolve();
        };
        const timer = setTimeout(wake, WATCH_MS);
        o.signal.addEventListener('abort', wake);
      });
      if (!o.signal.aborted) await watch();
    }
    o.log('stopping: taking no new block, finishing the blocks in hand');
  } finally {
    await Promise.all([...closing, ...[...workers.values()].map((w) => w.close())]);
    await destroyPool(pool);
    redis.disconnect();
  }
  return { blocksDone, blocksRefused };
}
