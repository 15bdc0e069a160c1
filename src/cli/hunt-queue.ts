// shootdown hunt --queue: the campaign's blocks go on a queue for
// `shootdown worker`s, and their results come back here; --campaign follows
// a campaign started before, from its description in Redis.

import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { BadInput } from '../machine/errors.ts';
import { pctHorizonSteps } from '../engine/campaign.ts';
import { shortFingerprint } from '../engine/fingerprint.ts';
import { checkOutputPath, folderBeside } from '../report/json.ts';
import { startProgress } from '../report/progress.ts';
import { setupText, workloadText } from '../report/summary.ts';
import { loadScenario } from '../scenario/load.ts';
import type { Campaign } from '../queue/blocks.ts';
import { defaultBlockSeeds, followCampaign, openCampaign, startCampaign, type QueueCampaignResult } from '../queue/coordinator.ts';
import { parseQueueUrl } from '../queue/redis.ts';
import { configFor, huntOptions, interrupts, positiveInt, runOptions, type Out } from './common.ts';
import { finishHunt, pctText } from './hunt-finish.ts';

/** Flags of a local hunt that a queue campaign has no use for. */
const LOCAL_ONLY = [['shard', '--shard'], ['time', '--time'], ['stopOnFirst', '--stop-on-first'], ['jobs', '--jobs']] as const;

function outputFolder(o: Record<string, unknown>): string {
  const dir = (o.artifacts as string | undefined) ?? (o.json ? folderBeside(o.json as string) : '.');
  if (!existsSync(dir)) throw new BadInput(`--artifacts ${dir}: folder does not exist`);
  if (o.json) checkOutputPath('--json', o.json as string);
  return dir;
}

export async function huntOnQueue(out: Out, file: string | undefined, o: Record<string, unknown>, cmd: Command): Promise<void> {
  if (o.queue === undefined) throw new BadInput('--campaign: names a campaign on a queue; give --queue URL too');
  const target = parseQueueUrl('--queue', o.queue as string);
  for (const [key, flag] of LOCAL_ONLY) {
    if (o[key] !== undefined) throw new BadInput(`${flag}: not with --queue (the queue splits the seeds into blocks; each worker has its own --jobs)`);
  }
  if (o.strategy === 'bounded') throw new BadInput('--strategy bounded: runs in one thread; a queue campaign runs random or pct seeds');
  let campaign: Campaign;
  let dir: string;
  if (o.campaign !== undefined) {
    if (file) throw new BadInput(`${file}: --campaign follows a campaign that has its config already; drop the file`);
    dir = outputFolder(o);
    campaign = await openCampaign(target, o.campaign as string);
  } else {
    const scenario = file ? loadScenario(file) : null;
    const config = configFor(scenario, { ...huntOptions(runOptions(scenario, o, cmd, '--variant'), o.exploreSetup === true), variant: o.variant as string });
    if (config.mode !== 'deterministic') throw new BadInput('--mode parallel: hunt explores schedules, which only deterministic mode chooses');
    const seeds = o.seeds === undefined ? 1000 : positiveInt('--seeds', o.seeds);
    const firstSeed = positiveInt('--first-seed', o.firstSeed);
    const blockSeeds = o.blockSeeds === undefined ? defaultBlockSeeds(seeds) : positiveInt('--block-seeds', o.blockSeeds);
    dir = outputFolder(o);
    if (config.strategy.kind === 'pct' && o.pctSteps === undefined) config.strategy.steps = pctHorizonSteps(config, firstSeed);
    campaign = await startCampaign(target, config, firstSeed, seeds, blockSeeds);
  }
  const c = campaign.config;
  out(`shootdown hunt: campaign ${campaign.id} on ${target.shown}: ${c.variant} on ${workloadText(c)}, ${c.cpus} cpus x ${c.tasksPerCpu} tasks, --preempt ${c.preempt}, strategy ${c.strategy.kind}, seeds ${campaign.firstSeed}..${campaign.firstSeed + campaign.seeds - 1} in ${campaign.blocks} blocks, model ${shortFingerprint(campaign.fingerprint)}${setupText(c)}`);
  if (c.strategy.kind === 'pct') out(pctText(c.strategy, c));
  const progress = startProgress('hunt', campaign.seeds);
  let r: QueueCampaignResult;
  try {
    r = await followCampaign(target, campaign, {
      signal: interrupts.signal,
      log: (line) => process.stderr.write(`shootdown: ${line}\n`),
      onBlock: (b, opened) => {
        for (let i = 0; i < b.seedsRun; i++) progress.tick(`block ${b.index}`);
        for (const g of opened) out(`found ${g.rule} at seed ${g.seed}: ${g.detail}`);
        for (const e of b.errors) out(`seed ${e.seed} failed: ${e.name}: ${e.message}`);
      },
    });
  } finally {
    progress.stop();
  }
  if (!r.complete) out(`campaign ${campaign.id}: ${r.result.seedsRun} of ${campaign.seeds} seeds have results; it goes on on the workers (re-attach: hunt --queue URL --campaign ${campaign.id})`);
  for (const f of r.failedBlocks) out(`  block ${f.index} failed: ${f.reason}`);
  finishHunt(out, o, c, null, dir, r.result, (g) => r.artifacts.get(g.location)!, { campaign: campaign.id, complete: r.complete, failedBlocks: r.failedBlocks }, campaign.fingerprint);
  if (!r.complete || r.failedBlocks.length > 0) process.exitCode = 1;
}
