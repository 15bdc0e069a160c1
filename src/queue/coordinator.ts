// `hunt --queue`: a campaign split into blocks on a BullMQ queue named after
// it, and followed until every block has a result. All the campaign's state
// is in Redis (its description, its blocks, their results), so the
// coordinator holds nothing that cannot be read again: killed and started
// with --campaign ID, here or on another machine, it reads the same blocks
// and reaches the same totals. Results are merged by block (CampaignTally),
// so a block that ran twice counts once.
//
// Redis going away mid-campaign (a restart) is waited out for
// REDIS_OUTAGE_MS; past that the campaign is reported as it stands and can be
// re-attached later.
//
// The campaign is the model of the coordinator that starts it: its
// fingerprint goes in the description. A result of another model is not
// counted; its block goes back on the queue for a worker of the campaign's
// model, up to BLOCK_ATTEMPTS times per block in one coordinator's life.

import { randomBytes } from 'node:crypto';
import { Queue, type Job } from 'bullmq';
import { BadInput } from '../machine/errors.ts';
import type { RunConfig } from '../machine/config.ts';
import type { Artifact, CampaignResult, FoundGroup } from '../engine/campaign.ts';
import { modelFingerprint, shortFingerprint } from '../engine/fingerprint.ts';
import { OtherModel, BLOCK_SCHEMA_VERSION, BLOCKS_MAX, BLOCK_SEEDS_MAX, CAMPAIGNS_KEY, blockJobId, blocksOf, campaignKey, checkBlockResult, checkCampaign, queueName, CampaignTally, type Block, type BlockResult, type Campaign } from './blocks.ts';
import type { Redis } from 'ioredis';
import { QueueFailed, bullClient, connectRedis, type QueueTarget } from './redis.ts';

/** How long a campaign waits for Redis to come back before it reports what it has. */
export const REDIS_OUTAGE_MS = 60_000;
/** A block that fails this often (its worker killed, its pool failing) is left failed. */
const BLOCK_ATTEMPTS = 3;
const POLL_MS = 200;
/** A Redis call that has not answered in this long counts as Redis being away. */
const CALL_MS = 5_000;
const ADD_CHUNK = 500;
/** With nothing taken this long, the coordinator says how to start a worker. */
const IDLE_HINT_MS = 10_000;

/** Blocks small enough that two workers finish together, large enough that a block is mostly seeds, not queue round trips. */
export function defaultBlockSeeds(seeds: number): number {
  return Math.max(1, Math.min(500, Math.ceil(seeds / 64)));
}

interface OpenQueue {
  queue: Queue;
  /** Ours, not BullMQ's: with Redis away, BullMQ's close and disconnect wait for it, so the client is dropped here. */
  client: Redis;
}

/** A queue whose connection errors are told by the calls that fail (an 'error' event without a listener prints a stack trace per retry). */
function openQueue(target: QueueTarget, id: string): OpenQueue {
  const client = bullClient(target);
  const queue = new Queue(queueName(id), { connection: client });
  queue.on('error', () => {});
  return { queue, client };
}

async function closeQueue(q: OpenQueue): Promise<void> {
  await within(q.queue.close(), CALL_MS).catch(() => {});
  q.client.disconnect();
}

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

export async function startCampaign(target: QueueTarget, config: RunConfig, firstSeed: number, seeds: number, blockSeeds: number): Promise<Campaign> {
  if (blockSeeds > BLOCK_SEEDS_MAX) throw new BadInput(`--block-seeds ${blockSeeds}: must be at most ${BLOCK_SEEDS_MAX}`);
  const blocks = Math.ceil(seeds / blockSeeds);
  if (blocks > BLOCKS_MAX) throw new BadInput(`--seeds ${seeds}: ${blocks} blocks of ${blockSeeds}, more than ${BLOCKS_MAX}; raise --block-seeds`);
  const id = `${config.variant.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 24)}-${randomBytes(4).toString('hex')}`;
  const campaign: Campaign = { schema: BLOCK_SCHEMA_VERSION, id, config, fingerprint: modelFingerprint(), firstSeed, seeds, blockSeeds, blocks, startedMs: Date.now() };
  const redis = await connectRedis(target);
  const open = openQueue(target, id);
  const queue = open.queue;
  try {
    if ((await redis.set(campaignKey(id), JSON.stringify(campaign), 'NX')) !== 'OK') throw new QueueFailed(`campaign ${id} exists already`);
    const all = blocksOf(campaign);
    for (let i = 0; i < all.length; i += ADD_CHUNK) {
      await queue.addBulk(all.slice(i, i + ADD_CHUNK).map((b) => ({ name: 'block', data: b, opts: { jobId: blockJobId(b.index), attempts: BLOCK_ATTEMPTS, removeOnComplete: false, removeOnFail: false } })));
    }
    await redis.sadd(CAMPAIGNS_KEY, id);
  } finally {
    await closeQueue(open);
    redis.disconnect();
  }
  return campaign;
}

/** The campaign `id` as Redis has it, checked as any data from elsewhere. */
export async function openCampaign(target: QueueTarget, id: string): Promise<Campaign> {
  const redis = await connectRedis(target);
  try {
    const text = await within(redis.get(campaignKey(id)), CALL_MS);
    if (text === null) throw new BadInput(`--campaign ${id}: no such campaign on ${target.shown}`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new BadInput(`--campaign ${id}: its description in Redis is not JSON`);
    }
    return checkCampaign(`campaign ${id}`, json);
  } finally {
    redis.disconnect();
  }
}

export interface FollowHooks {
  signal: AbortSignal;
  log: (line: string) => void;
  /** A block's result was counted; `opened` are the groups it was first to show. */
  onBlock: (r: BlockResult, opened: FoundGroup[]) => void;
}

export interface QueueCampaignResult {
  result: CampaignResult;
  /** The artifact of each group's first seed, by location. */
  artifacts: Map<string, Artifact>;
  failedBlocks: { index: number; reason: string }[];
  /** Every block has a result or has failed for good. */
  complete: boolean;
}

function blockIndexOf(job: Job): number | null {
  const m = /^block-(\d{1,9})$/.exec(String(job.id));
  return m ? Number(m[1]) : null;
}

export async function followCampaign(target: QueueTarget, campaign: Campaign, hooks: FollowHooks): Promise<QueueCampaignResult> {
  const open = openQueue(target, campaign.id);
  const queue = open.queue;
  const pending = new Map<number, Block>(blocksOf(campaign).map((b) => [b.index, b]));
  const tally = new CampaignTally();
  const failedBlocks: QueueCampaignResult['failedBlocks'] = [];
  let lastAnswerMs = performance.now();
  let away = false;
  let seen = -1;
  /** Completed blocks whose result was of another model, to put back on the queue; and how often each block was put back. */
  const redo: Job[] = [];
  const redone = new Map<number, number>();

  const settle = (index: number, job: Job, ok: boolean): void => {
    const block = pending.get(index);
    if (!block) return;
    pending.delete(index);
    if (!ok) {
      failedBlocks.push({ index, reason: String(job.failedReason ?? 'failed').split('\n')[0]!.slice(0, 500) });
      hooks.log(`block ${index} (seeds ${block.firstSeed}..${block.firstSeed + block.count - 1}) failed: ${failedBlocks.at(-1)!.reason}`);
      return;
    }
    try {
      const r = checkBlockResult(`block ${index} of campaign ${campaign.id}: result`, job.returnvalue, block);
      const opened = tally.add(r);
      if (opened) hooks.onBlock(r, opened);
    } catch (e) {
      if (e instanceof OtherModel && (redone.get(index) ?? 0) < BLOCK_ATTEMPTS) {
        pending.set(index, block);
        redo.push(job);
        hooks.log(`${e.message}; the block goes back on the queue`);
        return;
      }
      if (!(e instanceof BadInput) && !(e instanceof OtherModel)) throw e;
      failedBlocks.push({ index, reason: `result refused: ${e.message}` });
      hooks.log(e.message);
    }
  };

  const followedMs = performance.now();
  let told = false;
  const poll = async (): Promise<void> => {
    const counts = await within(queue.getJobCounts('completed', 'failed', 'active'), CALL_MS);
    const total = (counts.completed ?? 0) + (counts.failed ?? 0);
    if (!told && total === 0 && !counts.active && performance.now() - followedMs > IDLE_HINT_MS) {
      told = true;
      hooks.log(`no worker has taken a block yet; start one or more of model ${shortFingerprint(campaign.fingerprint)} with: shootdown worker --queue ${target.shown} (a worker of another model refuses the campaign)`);
    }
    if (total === seen) return;
    for (const job of await within(queue.getJobs(['completed'], 0, -1), CALL_MS)) {
      const i = blockIndexOf(job);
      if (i !== null) settle(i, job, true);
    }
    for (const job of await within(queue.getJobs(['failed'], 0, -1), CALL_MS)) {
      const i = blockIndexOf(job);
      if (i !== null) settle(i, job, false);
    }
    seen = total;
    if (redo.length > 0) {
      // the counts go down and may come back to the same total with other blocks done, and a retry may fail: read them all next time
      seen = -1;
      for (const job of redo.splice(0)) {
        const i = blockIndexOf(job)!;
        redone.set(i, (redone.get(i) ?? 0) + 1);
        await within(job.retry('completed'), CALL_MS);
      }
    }
  };

  try {
    while (pending.size > 0 && !hooks.signal.aborted) {
      try {
        await poll();
        if (away) hooks.log(`redis ${target.shown}: back`);
        away = false;
        lastAnswerMs = performance.now();
      } catch (e) {
        if (e instanceof QueueFailed) throw e;
        const downMs = performance.now() - lastAnswerMs;
        if (!away) hooks.log(`redis ${target.shown}: ${(e as Error).message.split('\n')[0]}; waiting up to ${REDIS_OUTAGE_MS / 1000} s for it`);
        away = true;
        if (downMs > REDIS_OUTAGE_MS) {
          hooks.log(`redis ${target.shown}: away for ${Math.round(downMs / 1000)} s; the campaign is reported as it stands (re-attach with --campaign ${campaign.id})`);
          break;
        }
      }
      if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const complete = pending.size === 0;
    if (complete) {
      // workers let go of a finished campaign; its blocks and results stay for --campaign
      const redis = await connectRedis(target);
      await within(redis.srem(CAMPAIGNS_KEY, campaign.id), CALL_MS).finally(() => redis.disconnect());
    }
    return { result: tally.result(Date.now() - campaign.startedMs, !complete), artifacts: tally.artifacts, failedBlocks, complete };
  } finally {
    await closeQueue(open);
  }
}
