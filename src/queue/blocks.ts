// What crosses the queue: a campaign's description, its blocks (a config and
// a range of seeds), and each block's result. Everything read back from
// Redis is data anyone with access could have written, so it is checked
// here with zod and size limits before it is used: a block's config as any
// config from elsewhere (checkRunConfig), a result against the block it
// answers (every seed run once, groups inside the block's seeds, artifacts
// of exactly the campaign's config at a group's first seed).
//
// A campaign is one model: its description, each block and each result
// carry the fingerprint of the model that made them (engine/fingerprint.ts).
// A worker serves only campaigns of its own model, and a result of another
// model is not counted (OtherModel), for merged results of two models would
// be results that no model gives.
//
// Results merge by block: a block counted once is never counted again, so
// a block run twice (a worker killed mid-block, its block given to another)
// adds its seeds once. Merging is exact: a group's count is a sum over
// blocks, its first seed the lowest, with that seed's detail, and preemption
// coverage adds up per point, which is what one local campaign over the same
// seeds reports.

import { z } from 'zod';
import { BadInput } from '../machine/errors.ts';
import type { RunConfig } from '../machine/config.ts';
import type { Artifact, CampaignResult, CoveragePoint, FoundGroup } from '../engine/campaign.ts';
import { checkRunConfig } from '../scenario/trust.ts';
import { checkArtifact } from '../report/artifact.ts';
import { FINGERPRINT_PATTERN, shortFingerprint } from '../engine/fingerprint.ts';
import { isDeepStrictEqual } from 'node:util';

/** How long a block of a killed worker stays locked before another worker takes it (BullMQ's lock duration), ms. */
export const LOCK_MS_DEFAULT = 30_000;

/** 3: the campaign, its blocks and their results carry the model's fingerprint. */
export const BLOCK_SCHEMA_VERSION = 3;
/** A block is a config and a few numbers; a scenario program is the biggest part, and a scenario file is at most 1 MiB. */
export const BLOCK_BYTES_MAX = 1024 ** 2;
export const RESULT_BYTES_MAX = 64 * 1024 ** 2;
export const BLOCK_SEEDS_MAX = 100_000;
export const BLOCKS_MAX = 100_000;
/** Violation groups one block may report; a campaign finds a handful. */
const GROUPS_MAX = 1000;
const ERRORS_MAX = BLOCK_SEEDS_MAX;
/** Preemption points the model names; a few dozen kernel functions. */
const POINTS_MAX = 1000;

const CAMPAIGN_ID = /^[a-z0-9][a-z0-9-]{0,39}$/;
export const campaignId = z.string().regex(CAMPAIGN_ID, 'a campaign id is 1 to 40 of a-z, 0-9 and -');

/** Campaigns workers should serve: a Redis set of ids. */
export const CAMPAIGNS_KEY = 'shootdown:campaigns';
export const campaignKey = (id: string): string => `shootdown:campaign:${id}`;
export const queueName = (id: string): string => `shootdown-${id}`;
export const blockJobId = (index: number): string => `block-${index}`;

const seed = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const count = (max: number) => z.number().int().nonnegative().max(max);
const fingerprint = z.string().regex(FINGERPRINT_PATTERN, 'a model fingerprint is 64 lower-case hex digits');

export interface Campaign {
  schema: typeof BLOCK_SCHEMA_VERSION;
  id: string;
  config: RunConfig;
  /** The model that answers the campaign (modelFingerprint() of the coordinator that started it). */
  fingerprint: string;
  firstSeed: number;
  seeds: number;
  blockSeeds: number;
  blocks: number;
  /** Wall time it was started (ms since the epoch), for its seeds/s. */
  startedMs: number;
}

const CAMPAIGN_SCHEMA = z.strictObject({
  schema: z.literal(BLOCK_SCHEMA_VERSION),
  id: campaignId,
  config: z.unknown(),
  fingerprint,
  firstSeed: seed,
  seeds: count(BLOCKS_MAX * BLOCK_SEEDS_MAX),
  blockSeeds: count(BLOCK_SEEDS_MAX).min(1),
  blocks: count(BLOCKS_MAX).min(1),
  startedMs: z.number().int().nonnegative(),
});

export interface Block {
  schema: typeof BLOCK_SCHEMA_VERSION;
  campaign: string;
  index: number;
  config: RunConfig;
  /** The campaign's model. */
  fingerprint: string;
  firstSeed: number;
  count: number;
}

const BLOCK_SCHEMA = z.strictObject({
  schema: z.literal(BLOCK_SCHEMA_VERSION),
  campaign: campaignId,
  index: count(BLOCKS_MAX - 1),
  config: z.unknown(),
  fingerprint,
  firstSeed: seed,
  count: count(BLOCK_SEEDS_MAX).min(1),
});

const GROUP_SCHEMA = z.strictObject({
  rule: z.string().max(100),
  location: z.string().max(10_000),
  seed,
  detail: z.string().max(10_000),
  step: z.number().int().min(-1),
  count: count(BLOCK_SEEDS_MAX).min(1),
});

export interface BlockResult {
  schema: typeof BLOCK_SCHEMA_VERSION;
  campaign: string;
  index: number;
  /** The model of the worker that ran it. */
  fingerprint: string;
  seedsRun: number;
  groups: FoundGroup[];
  errors: CampaignResult['errors'];
  /** Preemption coverage of the block's seeds: per point, the seeds that preempted there and the seeds that passed it. */
  coverage: CoveragePoint[];
  /** The artifact of each group, in the order of `groups`. */
  artifacts: Artifact[];
}

const RESULT_SCHEMA = z.strictObject({
  schema: z.literal(BLOCK_SCHEMA_VERSION),
  campaign: campaignId,
  index: count(BLOCKS_MAX - 1),
  fingerprint,
  seedsRun: count(BLOCK_SEEDS_MAX),
  groups: z.array(GROUP_SCHEMA).max(GROUPS_MAX),
  errors: z.array(z.strictObject({ seed, name: z.string().max(100), message: z.string().max(10_000) })).max(ERRORS_MAX),
  coverage: z.array(z.strictObject({ point: z.string().max(200), seeds: count(BLOCK_SEEDS_MAX), seedsPassed: count(BLOCK_SEEDS_MAX) })).max(POINTS_MAX),
  artifacts: z.array(z.unknown()).max(GROUPS_MAX),
});

function sizeOf(value: unknown): number {
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return Infinity;
  }
}

function parsed<T>(schema: z.ZodType<T>, where: string, value: unknown, bytesMax: number): T {
  const bytes = sizeOf(value);
  if (bytes > bytesMax) throw new BadInput(`${where}: ${bytes === Infinity ? 'not JSON' : `${bytes} bytes, over the ${bytesMax} limit`}`);
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new BadInput(`${where}: ${issue.path.map(String).join('.') || 'top level'}: ${issue.message}`);
  }
  return r.data;
}

export function checkCampaign(where: string, value: unknown): Campaign {
  const c = parsed(CAMPAIGN_SCHEMA, where, value, BLOCK_BYTES_MAX);
  const config = checkRunConfig(where, c.config);
  if (c.blocks !== Math.ceil(c.seeds / c.blockSeeds)) throw new BadInput(`${where}: blocks: ${c.seeds} seeds in blocks of ${c.blockSeeds} are not ${c.blocks} blocks`);
  return { ...c, config };
}

/** A block taken from campaign `campaign`'s queue. */
export function checkBlock(where: string, value: unknown, campaign: string): Block {
  const b = parsed(BLOCK_SCHEMA, where, value, BLOCK_BYTES_MAX);
  if (b.campaign !== campaign) throw new BadInput(`${where}: campaign: ${b.campaign} is not the campaign of this queue (${campaign})`);
  const config = checkRunConfig(where, b.config);
  if (config.mode !== 'deterministic') throw new BadInput(`${where}: config.mode: a campaign runs deterministic seeds`);
  return { ...b, config };
}

/** The blocks of a campaign, seeds split in order: block i starts at firstSeed + i * blockSeeds. */
export function blocksOf(c: Campaign): Block[] {
  return Array.from({ length: c.blocks }, (_, index) => {
    const firstSeed = c.firstSeed + index * c.blockSeeds;
    return { schema: BLOCK_SCHEMA_VERSION, campaign: c.id, index, config: c.config, fingerprint: c.fingerprint, firstSeed, count: Math.min(c.blockSeeds, c.firstSeed + c.seeds - firstSeed) };
  });
}

/** A block's result made by another model than its campaign's: not counted; the block is run again. */
export class OtherModel extends Error {
  override name = 'OtherModel';
}

/** The result of block `block`, checked against it; a well-formed result of another model is OtherModel, anything else wrong BadInput. */
export function checkBlockResult(where: string, value: unknown, block: Block): BlockResult {
  const r = parsed(RESULT_SCHEMA, where, value, RESULT_BYTES_MAX);
  if (r.campaign !== block.campaign || r.index !== block.index) throw new BadInput(`${where}: answers block ${r.index} of ${r.campaign}, not block ${block.index} of ${block.campaign}`);
  if (r.fingerprint !== block.fingerprint) throw new OtherModel(`${where}: made by model ${shortFingerprint(r.fingerprint)}, but the campaign's model is ${shortFingerprint(block.fingerprint)}; not counted`);
  if (r.seedsRun !== block.count) throw new BadInput(`${where}: seedsRun: ${r.seedsRun}, but the block has ${block.count} seeds`);
  const last = block.firstSeed + block.count - 1;
  for (const s of [...r.groups.map((g) => g.seed), ...r.errors.map((e) => e.seed)]) {
    if (s < block.firstSeed || s > last) throw new BadInput(`${where}: seed ${s} is outside the block's seeds ${block.firstSeed}..${last}`);
  }
  for (const p of r.coverage) {
    if (p.seeds > p.seedsPassed || p.seedsPassed > block.count) throw new BadInput(`${where}: coverage of ${p.point}: ${p.seeds} of ${p.seedsPassed} seeds preempted there, in a block of ${block.count}`);
  }
  if (new Set(r.coverage.map((p) => p.point)).size !== r.coverage.length) throw new BadInput(`${where}: coverage: a point is listed twice`);
  if (r.artifacts.length !== r.groups.length) throw new BadInput(`${where}: artifacts: ${r.artifacts.length} for ${r.groups.length} groups`);
  const artifacts = r.artifacts.map((a, i) => {
    const artifact = checkArtifact(`${where}: artifacts.${i}`, a);
    const g = r.groups[i]!;
    if (!isDeepStrictEqual(artifact.config, { ...block.config, seed: g.seed })) throw new BadInput(`${where}: artifacts.${i}: its config is not the campaign's at seed ${g.seed}`);
    if (artifact.fingerprint !== r.fingerprint) throw new BadInput(`${where}: artifacts.${i}: not made by the model that made the result`);
    return artifact;
  });
  return { ...r, artifacts };
}

/** The campaign so far: one result per block, merged as they arrive. */
export class CampaignTally {
  readonly groups = new Map<string, FoundGroup>();
  readonly artifacts = new Map<string, Artifact>();
  readonly errors: CampaignResult['errors'] = [];
  readonly coverage = new Map<string, CoveragePoint>();
  readonly counted = new Set<number>();
  seedsRun = 0;

  /** Counts a block's result unless that block was counted already; returns the groups it opened. */
  add(r: BlockResult): FoundGroup[] | null {
    if (this.counted.has(r.index)) return null;
    this.counted.add(r.index);
    this.seedsRun += r.seedsRun;
    this.errors.push(...r.errors);
    for (const p of r.coverage) {
      const mine = this.coverage.get(p.point);
      if (mine) {
        mine.seeds += p.seeds;
        mine.seedsPassed += p.seedsPassed;
      } else this.coverage.set(p.point, { ...p });
    }
    const opened: FoundGroup[] = [];
    r.groups.forEach((g, i) => {
      const mine = this.groups.get(g.location);
      if (!mine) {
        this.groups.set(g.location, { ...g });
        this.artifacts.set(g.location, r.artifacts[i]!);
        opened.push(g);
        return;
      }
      mine.count += g.count;
      if (g.seed < mine.seed) {
        Object.assign(mine, { seed: g.seed, detail: g.detail, step: g.step, rule: g.rule });
        this.artifacts.set(g.location, r.artifacts[i]!);
      }
    });
    return opened;
  }

  result(elapsedMs: number, stoppedEarly: boolean): CampaignResult {
    const groups = [...this.groups.values()].sort((a, b) => a.seed - b.seed || a.location.localeCompare(b.location));
    const errors = [...this.errors].sort((a, b) => a.seed - b.seed);
    const failing = [...groups.map((g) => g.seed), ...errors.map((e) => e.seed)];
    const coverage = [...this.coverage.values()].sort((a, b) => a.point.localeCompare(b.point));
    return {
      seedsRun: this.seedsRun,
      seedsPerSec: elapsedMs > 0 ? Math.round((this.seedsRun / (elapsedMs / 1000)) * 10) / 10 : 0,
      elapsedMs: Math.round(elapsedMs),
      groups,
      errors,
      firstFailingSeed: failing.length ? Math.min(...failing) : null,
      stoppedEarly,
      coverage,
      neverPreempted: coverage.filter((p) => p.seeds === 0).map((p) => p.point),
    };
  }
}
