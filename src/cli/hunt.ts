// shootdown hunt: many seeds of the deterministic scheduler, or every schedule within a preemption bound.

import { Command } from 'commander';
import { BadInput } from '../machine/errors.ts';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseDuration, type RunOptions } from '../engine/configure.ts';
import { ARTIFACT_SCHEMA, makeArtifact, pctHorizonSteps, runCampaign, type Artifact, type CampaignResult } from '../engine/campaign.ts';
import { boundedConfig, estimateBoundedSpace, exploreBounded } from '../engine/bounded.ts';
import { modelFingerprint } from '../engine/fingerprint.ts';
import { artifactName } from '../report/artifact.ts';
import { startProgress } from '../report/progress.ts';
import { setupText, workloadText } from '../report/summary.ts';
import { checkOutputPath, folderBeside, writeJsonAtomic } from '../report/json.ts';
import { finishHunt, huntFileHead, pctText } from './hunt-finish.ts';
import { loadScenario, type Scenario } from '../scenario/load.ts';
import { SCENARIO_ARG, configFor, huntOptions, interrupts, nonNegativeInt, parseShard, positiveInt, runFlags, runOptions } from './common.ts';
import type { Out } from './common.ts';

export function registerHunt(program: Command, out: Out): void {
  runFlags(
    program
      .command('hunt')
      .description('many seeds of the deterministic scheduler; each distinct violation once, with an artifact to replay')
      .option('--variant <name>', 'gather design or mutant (see list)', 'rework')
      .option('--seeds <n>', 'seeds to try (default 1000, or unlimited with --time)')
      .option('--time <duration>', 'stop starting seeds after this long (30s, 5m)')
      .option('--first-seed <n>', 'the first seed', '1')
      .option('--jobs <n>', 'worker threads (default: every core)')
      .option('--stop-on-first', 'stop at the first failing seed')
      .option('--shard <i/n>', 'run only this shard of the seed space')
      .option('--artifacts <dir>', 'where artifacts go (default: beside --json, or here)')
      .option('--preemptions <k>', 'bounded: at most this many preemptions per schedule', '1')
      .option('--max-schedules <n>', 'bounded: stop after this many schedules', '100000')
      .option('--explore-setup', "explore the workload's setup (mapping and writing the pages) too, instead of running it once at boot for every seed")
      .option('--no-reduction', 'bounded: run every schedule, also those that only reorder independent steps of one already run')
      .option('--queue <url>', 'run the campaign on `shootdown worker`s through Redis: redis://[:password@]host:port/db, or rediss:// for TLS')
      .option('--campaign <id>', 'with --queue: follow a campaign already started (after the coordinator was stopped, or from another machine)')
      .option('--block-seeds <n>', 'with --queue: seeds per block (default: the seeds in about 64 blocks, at most 500)')
      .argument('[scenario]', SCENARIO_ARG),
  ).action(async (file: string | undefined, o: Record<string, unknown>, cmd: Command) => {
    // the queue's modules load BullMQ and Redis's client, a fifth of every start-up: only when asked for
    if (o.queue !== undefined || o.campaign !== undefined) return (await import('./hunt-queue.ts')).huntOnQueue(out, file, o, cmd);
    const scenario = file ? loadScenario(file) : null;
    const base = huntOptions(runOptions(scenario, o, cmd, '--variant'), o.exploreSetup === true);
    if (o.strategy === 'bounded') return huntBounded(scenario, base, o);
    const config = configFor(scenario, { ...base, variant: o.variant as string });
    if (config.mode !== 'deterministic') throw new BadInput('--mode parallel: hunt explores schedules, which only deterministic mode chooses');
    const timeMs = o.time === undefined ? Infinity : parseDuration('--time', o.time as string);
    const seeds = o.seeds === undefined ? (o.time === undefined ? 1000 : Number.MAX_SAFE_INTEGER) : positiveInt('--seeds', o.seeds);
    const jobs = o.jobs === undefined ? availableParallelism() : positiveInt('--jobs', o.jobs, 256);
    const firstSeed = positiveInt('--first-seed', o.firstSeed);
    const shard = o.shard === undefined ? null : parseShard(o.shard as string);
    const dir = (o.artifacts as string | undefined) ?? (o.json ? folderBeside(o.json as string) : '.');
    if (!existsSync(dir)) throw new BadInput(`--artifacts ${dir}: folder does not exist`);
    if (o.json) checkOutputPath('--json', o.json as string);
    if (config.strategy.kind === 'pct' && o.pctSteps === undefined) {
      config.strategy.steps = pctHorizonSteps(config, firstSeed);
    }
    out(`shootdown hunt: ${config.variant} on ${workloadText(config)}, ${config.cpus} cpus x ${config.tasksPerCpu} tasks, --preempt ${config.preempt}, strategy ${config.strategy.kind}, ${jobs} jobs${shard ? `, shard ${shard.index}/${shard.count}` : ''}${setupText(config)}`);
    if (config.strategy.kind === 'pct') out(pctText(config.strategy, config));
    const progress = startProgress('hunt', Number.isFinite(timeMs) && seeds === Number.MAX_SAFE_INTEGER ? 0 : seeds);
    let result: CampaignResult;
    try {
      result = await runCampaign({ base: config, firstSeed, seeds, timeMs, jobs, stopOnFirst: Boolean(o.stopOnFirst), shard, onSeed: (s, fresh) => {
        progress.tick(`seed ${s.seed}`);
        if (fresh) out(`found ${fresh.rule} at seed ${fresh.seed}: ${fresh.detail}`);
        if (s.error) out(`seed ${s.seed} failed: ${s.error.name}: ${s.error.message}`);
      } }, interrupts.signal);
    } finally {
      progress.stop();
    }
    finishHunt(out, o, config, shard, dir, result, (g) => makeArtifact({ ...config, seed: g.seed }, g.rule).artifact, {});
  });

  /** hunt --strategy bounded: every schedule with at most k preemptions, one thread. */
  function huntBounded(scenario: Scenario | null, base: RunOptions, o: Record<string, unknown>): void {
    const config = configFor(scenario, { ...base, strategy: 'random', variant: o.variant as string });
    if (config.mode !== 'deterministic') throw new BadInput('--mode parallel: hunt explores schedules, which only deterministic mode chooses');
    const k = nonNegativeInt('--preemptions', o.preemptions);
    const maxSchedules = positiveInt('--max-schedules', o.maxSchedules);
    const dir = (o.artifacts as string | undefined) ?? (o.json ? folderBeside(o.json as string) : '.');
    if (!existsSync(dir)) throw new BadInput(`--artifacts ${dir}: folder does not exist`);
    if (o.json) checkOutputPath('--json', o.json as string);
    const reduce = o.reduction !== false;
    const space = estimateBoundedSpace(config, k);
    // with the reduction the estimate is a ceiling, and --max-schedules still bounds the runs
    if (!reduce && space.schedules > maxSchedules) {
      throw new BadInput(`--preemptions ${k}: about ${Math.round(space.schedules)} schedules (${space.decisions} decisions in a run), over --max-schedules ${maxSchedules}; lower --preemptions, shrink the scenario or raise --max-schedules`);
    }
    out(`shootdown hunt: ${config.variant} on ${workloadText(config)}, ${config.cpus} cpus x ${config.tasksPerCpu} tasks, every schedule with at most ${k} preemptions: about ${Math.round(space.schedules)} (${space.decisions} decisions in a run, at most ${maxSchedules})${reduce ? ' before partial-order reduction' : ''}${setupText(config)}`);
    const t0 = performance.now();
    const r = exploreBounded(config, { preemptions: k, maxSchedules, reduce, onViolation: (v, schedule) => void out(`found ${v.rule} in schedule ${schedule}: ${v.detail}`) });
    const secs = (performance.now() - t0) / 1000;
    const ending = r.exhausted ? 'the space is exhausted' : r.pastLimit > 0 ? `${r.pastLimit} cut short at their step budget: the space is not exhausted` : 'stopped at --max-schedules: the space is not exhausted';
    const reduced = reduce ? ` (${r.redundant} of them cut short as reorderings of schedules run before, and ${r.skipped} more not run for that reason)` : '';
    out(`${r.schedules} schedules${reduced} (${ending}), ${r.steps} steps in ${secs.toFixed(1)} s; ${r.groups.length} distinct violations`);
    const artifacts: string[] = [];
    for (const g of r.groups) {
      const file = join(dir, artifactName(config, g.rule).replace(/seed\d+/, `bounded${k}-schedule${g.seed}`));
      writeJsonAtomic(file, { schema: ARTIFACT_SCHEMA, kind: 'artifact', config: boundedConfig(config), rule: g.rule, step: g.step, detail: g.detail, ...r.firstSchedules.get(g.location)!, fingerprint: modelFingerprint() } satisfies Artifact);
      artifacts.push(file);
      out(`  ${g.rule} in ${g.count} schedules, first in schedule ${g.seed}: ${g.detail}\n  artifact: ${file}`);
    }
    if (o.json) {
      writeJsonAtomic(o.json as string, {
        ...huntFileHead(config, { kind: 'bounded', preemptions: k }),
        schedules: r.schedules,
        reduction: reduce,
        redundant: r.redundant,
        skipped: r.skipped,
        schedulesEstimated: space.schedules,
        exhausted: r.exhausted,
        pastLimit: r.pastLimit,
        seedsRun: r.schedules,
        found: r.groups.length > 0,
        violations: r.groups.map((g) => ({ rule: g.rule, location: g.location, schedule: g.seed, count: g.count, detail: g.detail })),
        firstFailingSeed: null,
        artifacts,
        config,
      });
    }
    process.exitCode = r.groups.length > 0 || r.pastLimit > 0 ? 1 : 0;
  }

}
