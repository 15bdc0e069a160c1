// A campaign is one model. The odd model here is a copy of this project in
// which zap's tlb_flush_mmu frees its batch without flushing the TLBs: run
// locally it finds violations the real model does not, so a campaign that
// took one of its blocks would report results no model gives. Its worker
// refuses the campaign in one line and the campaign equals the real model's
// local run exactly; a result that carries another fingerprint is put back
// on the queue and counted only when a worker of the campaign's model
// answers it; replay warns in one line about another model's artifact.

import { readHunt, totals, type HuntFile } from './hunt-file.ts';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, type Job } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { FINGERPRINT_PATTERN, fingerprintOf, modelFingerprint, shortFingerprint } from '../src/engine/fingerprint.ts';
import { makeConfig } from '../src/engine/configure.ts';
import { makeArtifact } from '../src/engine/campaign.ts';
import { BLOCK_SCHEMA_VERSION, CAMPAIGNS_KEY, campaignKey, queueName, type Block, type BlockResult } from '../src/queue/blocks.ts';
import { followCampaign, startCampaign } from '../src/queue/coordinator.ts';
import { bullOptions, connectRedis, parseQueueUrl } from '../src/queue/redis.ts';
import { CliProcess, ROOT, cliAsync, describeRun } from './cli-process.ts';
import { startRedis, type RedisServer } from './redis-server.ts';

const redisServer = inject('redisServer');
/** A real variant: clean in the real model, and its munmap frees pages other cpus' TLBs map, so a skipped flush shows on every seed. */
const CAMPAIGN = ['--variant', 'rework', '--cpus', '2', '--pages', '200'];
const SEEDS = 16;
const BLOCK = ['--block-seeds', '4'];
/** The line of the real model that the odd model drops. */
const FLUSH_LINE = '    if (!(this.fullmm && ctx.traits.fullmmNoFlush)) yield flushTlbMm(ctx, this.mm, ctx.traits.staleCpumask ? this.cpumaskAtGather : undefined);\n';


let dir: string;
/** The copy of the project that runs the odd model. */
let odd: string;
/** Fingerprints of the copy as copied, with a report changed, and with the flush dropped. */
const copied = { asIs: '', reportChanged: '', odd: '' };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shootdown-fingerprint-'));
  odd = join(dir, 'odd-model');
  for (const f of ['src', 'workers', 'costs', 'package.json', 'tsconfig.json']) cpSync(join(ROOT, f), join(odd, f), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(odd, 'node_modules'));
  copied.asIs = fingerprintOf(odd);
  const summary = join(odd, 'src', 'report', 'summary.ts');
  writeFileSync(summary, `${readFileSync(summary, 'utf8')}\n// a report changed: the model is not\n`);
  copied.reportChanged = fingerprintOf(odd);
  const rework = join(odd, 'src', 'gather', 'rework.ts');
  const text = readFileSync(rework, 'utf8');
  expect(text, 'the odd model finds the line it drops').toContain(FLUSH_LINE);
  writeFileSync(rework, text.replace(FLUSH_LINE, '    // the odd model: the batch is freed without flushing any TLB\n'));
  copied.odd = fingerprintOf(odd);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the model fingerprint', () => {
  it('is sha256 hex, the same on every call, the same for a copy of the project elsewhere or with a report changed, and another once a model source changes', () => {
    const mine = modelFingerprint();
    expect(mine).toMatch(FINGERPRINT_PATTERN);
    expect(modelFingerprint()).toBe(mine);
    expect(shortFingerprint(mine)).toBe(mine.slice(0, 12));
    expect(copied.asIs).toBe(mine);
    expect(copied.reportChanged).toBe(mine);
    expect(copied.odd).toMatch(FINGERPRINT_PATTERN);
    expect(copied.odd).not.toBe(mine);
  });

  it('replay warns in one line about an artifact of another model and goes on; an artifact of this model, or from before fingerprints, replays silently', async () => {
    const { artifact } = makeArtifact({ ...makeConfig({ variant: 'no-ack-wait', cpus: '2', pages: '64' }), seed: 3 }, 'FREE_WHILE_REMOTE_TLB');
    expect(artifact.fingerprint).toBe(modelFingerprint());
    const { fingerprint: _, ...older } = artifact;
    const files = { same: artifact, other: { ...artifact, fingerprint: 'a'.repeat(64) }, older };
    for (const [name, a] of Object.entries(files)) writeFileSync(join(dir, `${name}.json`), JSON.stringify(a));
    const [same, other, old] = await Promise.all(Object.keys(files).map((name) => cliAsync('replay', join(dir, `${name}.json`))));
    for (const r of [same!, other!, old!]) {
      expect(r.stdout, describeRun(r)).toContain(`reproduced: ${artifact.rule} at step ${artifact.step}`);
      expect(r.status, describeRun(r)).toBe(1);
    }
    expect(same!.stderr).toBe('');
    expect(old!.stderr).toBe('');
    expect(other!.stderr).toBe(`shootdown: warning: ${join(dir, 'other.json')} was made by model aaaaaaaaaaaa, this is model ${shortFingerprint(modelFingerprint())}; the replay may differ\n`);
  });
});

describe.skipIf(!redisServer)('a campaign and workers of two models', () => {
  let redis: RedisServer;
  let local: HuntFile;
  const procs: CliProcess[] = [];
  const start = (root: string, ...args: string[]): CliProcess => {
    const p = new CliProcess(dir, args, {}, root);
    procs.push(p);
    return p;
  };

  beforeAll(async () => {
    redis = await startRedis(redisServer!, 'fingerprint-pw');
    const real = start(ROOT, 'hunt', ...CAMPAIGN, '--seeds', String(SEEDS), '--jobs', '1', '--json', join(dir, 'local.json'), '--artifacts', mkdtempSync(join(dir, 'local-')));
    const oddRun = start(odd, 'hunt', ...CAMPAIGN, '--seeds', String(SEEDS), '--jobs', '1', '--json', join(dir, 'local-odd.json'), '--artifacts', mkdtempSync(join(dir, 'odd-')));
    expect((await real.done).status, real.err).toBe(0);
    expect((await oddRun.done).status, oddRun.err).toBe(1);
    local = readHunt(join(dir, 'local.json'));
    const localOdd = readHunt(join(dir, 'local-odd.json'));
    // hunt --json names the model that answered; the odd model's answer is not the real one's, so a block it ran would show
    expect(local.fingerprint).toBe(modelFingerprint());
    expect(localOdd.fingerprint).toBe(copied.odd);
    expect(local.violations).toEqual([]);
    expect(localOdd.violations.length).toBeGreaterThan(0);
    expect(totals(localOdd)).not.toEqual(totals(local));
  });

  afterEach(async () => {
    await Promise.all(procs.map((p) => p.end('SIGKILL')));
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it('two workers, one of a model whose zap skips a flush, join one campaign: the odd one refuses it in one line naming both models, and the campaign equals the local run exactly', async () => {
    const mine = shortFingerprint(modelFingerprint());
    const theirs = shortFingerprint(copied.odd);
    // and campaigns listed without a description a worker can read: refused in one line each, whatever the worker's model
    const client = await connectRedis(parseQueueUrl('url', redis.url));
    await client.set(campaignKey('huge-1'), 'x'.repeat(2 * 1024 ** 2));
    await client.sadd(CAMPAIGNS_KEY, 'huge-1', 'undescribed-1');
    const oddWorker = start(odd, 'worker', '--queue', redis.url, '--jobs', '1');
    await oddWorker.waitFor(new RegExp(`shootdown worker: .*, model ${theirs}`), 'the odd worker naming its model');
    await oddWorker.waitFor(/refusing campaign undescribed-1: it has no description in Redis\n/);
    await oddWorker.waitFor(/refusing campaign huge-1: its description is 2097152 bytes, over the 1048576 limit\n/);
    await client.srem(CAMPAIGNS_KEY, 'huge-1', 'undescribed-1');
    client.disconnect();
    const hunt = start(ROOT, 'hunt', '--queue', redis.url, ...CAMPAIGN, '--seeds', String(SEEDS), ...BLOCK, '--json', join(dir, 'campaign.json'), '--artifacts', mkdtempSync(join(dir, 'campaign-')));
    const id = (await hunt.waitFor(new RegExp(`campaign (\\S+) on .*, model ${mine}`)))[1]!;
    // the refusal comes before a worker of the campaign's model exists, so no block can have gone anywhere else
    await oddWorker.waitFor(new RegExp(`refusing campaign ${id}: `), 'the refusal');
    const good = start(ROOT, 'worker', '--queue', redis.url, '--jobs', '1');
    expect((await hunt.done).status, `${hunt.out}\n${hunt.err}`).toBe(0);
    const q = readHunt(join(dir, 'campaign.json'));
    expect(q.complete).toBe(true);
    expect(q.fingerprint).toBe(modelFingerprint());
    expect(totals(q)).toEqual(totals(local));
    const refusals = oddWorker.out.split('\n').filter((l) => l.includes(`campaign ${id}`));
    expect(refusals).toEqual([`refusing campaign ${id}: its model is ${mine}, this worker's is ${theirs}`]);
    expect(good.out).toMatch(new RegExp(`campaign ${id} block \\d+: seeds`));
    await Promise.all([oddWorker.end(), good.end()]);
  });

  it('a result that carries another fingerprint is not counted: the coordinator puts its block back and counts the answer of a worker of its model', async () => {
    const target = parseQueueUrl('url', redis.url);
    const config = makeConfig({ variant: 'rework', cpus: '2', pages: '200', setupOnce: true, clockSkew: 'none' }); // as the local hunt makes it
    const campaign = await startCampaign(target, config, 1, SEEDS, 4);
    // a forger answers every block it takes with a well-formed result of another model
    const forged = new Set<number>();
    const forger = new Worker(
      queueName(campaign.id),
      async (job: Job) => {
        const b = job.data as Block;
        forged.add(b.index);
        return { schema: BLOCK_SCHEMA_VERSION, campaign: b.campaign, index: b.index, fingerprint: 'f'.repeat(64), seedsRun: b.count, groups: [], errors: [], coverage: [], artifacts: [] } satisfies BlockResult;
      },
      { connection: bullOptions(target), concurrency: 1, autorun: false },
    );
    let firstForged: () => void;
    const forgedOne = new Promise<void>((resolve) => (firstForged = resolve));
    forger.on('completed', () => firstForged());
    void forger.run();
    const lines: string[] = [];
    const following = followCampaign(target, campaign, { signal: new AbortController().signal, log: (l) => lines.push(l), onBlock: () => {} });
    await forgedOne;
    await forger.close();
    const good = start(ROOT, 'worker', '--queue', redis.url, '--jobs', '1');
    const r = await following;
    expect(r.complete).toBe(true);
    expect(r.failedBlocks).toEqual([]);
    expect(forged.size).toBeGreaterThan(0);
    // one line per forged answer (the forger may have taken a block again before it closed)
    const refusal = new RegExp(`^block (\\d+) of campaign ${campaign.id}: result: made by model ffffffffffff, but the campaign's model is ${shortFingerprint(modelFingerprint())}; not counted; the block goes back on the queue$`);
    expect(lines.every((l) => refusal.test(l)), lines.join('\n')).toBe(true);
    expect(new Set(lines.map((l) => Number(refusal.exec(l)![1])))).toEqual(forged);
    const { result } = r;
    expect({ seedsRun: result.seedsRun, groups: result.groups, errors: result.errors, coverage: result.coverage, neverPreempted: result.neverPreempted }).toEqual({
      seedsRun: local.seedsRun,
      groups: [],
      errors: local.errors,
      coverage: local.coverage,
      neverPreempted: local.neverPreempted,
    });
    await good.end();
  });
});
