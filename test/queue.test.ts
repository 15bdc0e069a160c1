// Campaigns through a real redis-server, with coordinator and workers as
// separate processes: a worker killed with SIGKILL mid-block, a coordinator
// killed and re-attached, Redis restarted mid-campaign; each gives exactly
// the totals of the same campaign run locally (seeds run, violation groups
// with their first seeds and counts, failed runs). Hostile blocks put on the
// queue by hand are failed with their reason and the worker goes on without
// writing a file. The password in the URL never shows.

import { readHunt, totals, type HuntFile } from './hunt-file.ts';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { BLOCK_SCHEMA_VERSION, CAMPAIGNS_KEY, blocksOf, campaignKey, queueName, type Campaign } from '../src/queue/blocks.ts';
import { modelFingerprint } from '../src/engine/fingerprint.ts';
import { parseQueueUrl, bullOptions, connectRedis } from '../src/queue/redis.ts';
import { makeConfig } from '../src/engine/configure.ts';
import { CliProcess, cliAsync, cliAsyncWith, describeRun, oneLine } from './cli-process.ts';
import { freePort, startRedis, type RedisServer } from './redis-server.ts';

const redisServer = inject('redisServer');
const PASSWORD = 'hunter2-Secret';
/** A mutant that fires on some seeds and not others, about 18 seeds/s per thread. */
const CAMPAIGN = ['--variant', 'no-ack-wait', '--cpus', '2', '--pages', '200'];
const SEEDS = 80;
const BLOCK_SEEDS = 8;
const BLOCK = ['--block-seeds', String(BLOCK_SEEDS)];
const LOCK = ['--lock-ms', '1500'];


describe.skipIf(!redisServer)('campaigns through Redis', () => {
  let redis: RedisServer;
  let dir: string;
  let local: HuntFile;
  const procs: CliProcess[] = [];
  const start = (cwd: string, ...args: string[]): CliProcess => {
    const p = new CliProcess(cwd, args);
    procs.push(p);
    return p;
  };
  const workDir = (name: string): string => mkdtempSync(join(dir, `${name}-`));
  /** Everything every process printed, to look for the password in. */
  const printed = (): string => procs.map((p) => p.out + p.err).join('\n');

  beforeAll(async () => {
    redis = await startRedis(redisServer!, PASSWORD);
    dir = mkdtempSync(join(tmpdir(), 'shootdown-queue-'));
    const r = await cliAsync('hunt', ...CAMPAIGN, '--seeds', String(SEEDS), '--jobs', '2', '--json', join(dir, 'local.json'), '--artifacts', dir);
    expect(r.status, describeRun(r)).toBe(1);
    local = readHunt(join(dir, 'local.json'));
    // the campaign must show the mutant on some seeds but not all, and pass preemption points, or equal totals would prove little
    expect(local.violations.length).toBeGreaterThan(0);
    expect(local.violations[0]!.count).toBeLessThan(SEEDS);
    expect(local.coverage.length).toBeGreaterThan(0);
  });

  // a test that fails leaves no worker behind to take the next test's blocks
  afterEach(async () => {
    await Promise.all(procs.map((p) => p.end('SIGKILL')));
  });

  afterAll(async () => {
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a worker killed with SIGKILL mid-block: its blocks go to the other worker and every seed counts once, as in a local run', async () => {
    const a = start(workDir('a'), 'worker', '--queue', redis.url, '--jobs', '1', ...LOCK);
    const b = start(workDir('b'), 'worker', '--queue', redis.url, '--jobs', '1', ...LOCK);
    const hunt = start(dir, 'hunt', '--queue', redis.url, ...CAMPAIGN, '--seeds', String(SEEDS), ...BLOCK, '--json', join(dir, 'killed.json'), '--artifacts', workDir('artifacts'));
    const id = (await hunt.waitFor(/campaign (\S+) on/))[1]!;
    await a.waitFor(/block \d+: seeds/, 'worker a finishing a block');
    a.child.kill('SIGKILL');
    await a.done;
    const end = await hunt.done;
    expect(end.status, `${hunt.out}\n${hunt.err}`).toBe(1);
    const q = readHunt(join(dir, 'killed.json'));
    expect(q.complete).toBe(true);
    expect(totals(q)).toEqual(totals(local));
    // the kill caught worker a holding blocks: BullMQ's stalled-job check moved them to b
    const queue = new Queue(queueName(id), { connection: bullOptions(parseQueueUrl('url', redis.url)) });
    const jobs = await queue.getJobs(['completed'], 0, -1);
    await queue.close();
    expect(jobs).toHaveLength(SEEDS / BLOCK_SEEDS);
    expect(jobs.filter((j) => j.stalledCounter > 0).length).toBeGreaterThan(0);
    await b.end();
  });

  it('a coordinator killed and re-attached with --campaign while the campaign runs reports the same totals, and so does any later look', async () => {
    // default locks: on a loaded host a short lock can lapse while a busy worker starts its threads, and that is a stall too
    const w = start(workDir('w'), 'worker', '--queue', redis.url, '--jobs', '2');
    const first = start(dir, 'hunt', '--queue', redis.url, ...CAMPAIGN, '--seeds', String(SEEDS), ...BLOCK);
    const id = (await first.waitFor(/campaign (\S+) on/))[1]!;
    await w.waitFor(new RegExp(`campaign ${id} block \\d+: seeds`), 'a block done');
    first.child.kill('SIGKILL');
    await first.done;
    // and the worker stopped with SIGTERM: it takes no new block, finishes those in hand, and another worker does the rest
    const w2 = start(workDir('w2'), 'worker', '--queue', redis.url, '--jobs', '1');
    await w2.waitFor(/shootdown worker:/);
    w.child.kill('SIGTERM');
    expect(await w.done).toEqual({ status: 143, signal: null });
    expect(w.out).toMatch(/stopping: taking no new block, finishing the blocks in hand/);
    const again = start(dir, 'hunt', '--queue', redis.url, '--campaign', id, '--json', join(dir, 'again.json'), '--artifacts', workDir('again'));
    const end = await again.done;
    expect(end.status, `${again.out}\n${again.err}`).toBe(1);
    const q = readHunt(join(dir, 'again.json'));
    expect(q.campaign).toBe(id);
    expect(q.complete).toBe(true);
    expect(totals(q)).toEqual(totals(local));
    // a finished campaign can be read again at any time, with artifacts that replay
    const later = await cliAsync('hunt', '--queue', redis.url, '--campaign', id, '--json', join(dir, 'later.json'), '--artifacts', workDir('later'));
    expect(later.status, describeRun(later)).toBe(1);
    const l = readHunt(join(dir, 'later.json'));
    expect(totals(l)).toEqual(totals(local));
    const replay = await cliAsync('replay', l.artifacts[0]!);
    expect(replay.stdout, describeRun(replay)).toContain(`reproduced: ${local.violations[0]!.rule}`);
    const queue = new Queue(queueName(id), { connection: bullOptions(parseQueueUrl('url', redis.url)) });
    const jobs = await queue.getJobs(['completed'], 0, -1);
    await queue.close();
    expect(jobs.filter((j) => j.stalledCounter > 0).map((j) => j.id), 'no block was abandoned by the worker stopped with SIGTERM').toEqual([]);
    await w2.end();
  });

  it('redis-server restarted mid-campaign (append-only file on): the campaign completes with the same totals', async () => {
    const w = start(workDir('w'), 'worker', '--queue', redis.url, '--jobs', '2', ...LOCK);
    const hunt = start(dir, 'hunt', '--queue', redis.url, ...CAMPAIGN, '--seeds', String(SEEDS), ...BLOCK, '--json', join(dir, 'restarted.json'), '--artifacts', workDir('restarted'));
    const id = (await hunt.waitFor(/campaign (\S+) on/))[1]!;
    await w.waitFor(new RegExp(`campaign ${id} block \\d+: seeds`), 'a block done');
    await redis.restart();
    const blocksBefore = w.out.split(`campaign ${id} block`).length - 1;
    expect(hunt.child.exitCode, 'the campaign was still running when Redis went away').toBe(null);
    expect(blocksBefore).toBeLessThan(SEEDS / BLOCK_SEEDS);
    const end = await hunt.done;
    expect(end.status, `${hunt.out}\n${hunt.err}`).toBe(1);
    const q = readHunt(join(dir, 'restarted.json'));
    expect(q.complete).toBe(true);
    expect(totals(q)).toEqual(totals(local));
    await w.end();
  });

  it('hostile blocks put on the queue by hand are failed with their reason, the worker runs the next block, and it writes no file', async () => {
    const target = parseQueueUrl('url', redis.url);
    const id = 'hostile-1';
    const config = makeConfig({ variant: 'rework', cpus: '2', pages: '64' });
    const campaign: Campaign = { schema: BLOCK_SCHEMA_VERSION, id, config, fingerprint: modelFingerprint(), firstSeed: 1, seeds: 4, blockSeeds: 4, blocks: 1, startedMs: Date.now() };
    const good = blocksOf(campaign)[0]!;
    const hostile: [string, unknown, RegExp][] = [
      ['wrong-schema', { hello: 'world' }, /schema/],
      ['huge-pages', { ...good, config: { ...config, pages: 4_000_000_000 } }, /--pages 4000000000: must be at most/],
      ['huge-memory', { ...good, config: { ...config, memoryPages: 2 ** 40 } }, /shared memory, more than the 4 GiB limit/],
      ['output-path', { ...good, config: { ...config, json: '/tmp/pwned.json' } }, /config: Unrecognized key: "json"/],
      ['module', { ...good, config: { ...config, workload: '../../../tmp/evil.js' } }, /--workload "\.\.\/\.\.\/\.\.\/tmp\/evil\.js": unknown/],
      ['other-campaign', { ...good, campaign: 'someone-else' }, /not the campaign of this queue/],
      ['other-model', { ...good, fingerprint: 'f'.repeat(64) }, /of model ffffffffffff, not its campaign's/],
      ['ten-megabytes', { ...good, pad: 'x'.repeat(10 * 1024 ** 2) }, /bytes, over the 1048576 limit/],
    ];
    const client = await connectRedis(target);
    const queue = new Queue(queueName(id), { connection: bullOptions(target) });
    await queue.addBulk([...hostile.map(([name, data]) => ({ name, data, opts: { jobId: name } })), { name: 'block', data: good, opts: { jobId: 'block-0' } }]);
    await client.set(campaignKey(id), JSON.stringify(campaign));
    await client.sadd(CAMPAIGNS_KEY, id);
    const cwd = workDir('hostile');
    const w = start(cwd, 'worker', '--queue', redis.url, '--jobs', '1');
    await w.waitFor(/campaign hostile-1 block 0: seeds 1\.\.4/, 'the good block done');
    for (const [name, , reason] of hostile) {
      const job = (await queue.getJob(name))!;
      expect(await job.getState(), name).toBe('failed');
      expect(job.failedReason, name).toMatch(reason);
      expect(job.attemptsMade, `${name}: failed for good, not retried`).toBeLessThanOrEqual(1);
    }
    expect(await (await queue.getJob('block-0'))!.getState()).toBe('completed');
    await client.srem(CAMPAIGNS_KEY, id);
    client.disconnect();
    await queue.close();
    await w.end();
    expect((await w.done).status).toBe(143);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('the password in the URL appears in no output, JSON or artifact', () => {
    const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile() && !f.parentPath.startsWith(redis.dir));
    for (const f of files) expect(readFileSync(join(f.parentPath, f.name), 'utf8'), f.name).not.toContain(PASSWORD);
    expect(printed()).not.toContain(PASSWORD);
    expect(printed()).toContain(':***@127.0.0.1');
  });

  it('a wrong password, an unreachable Redis, a bad URL: one line each, exit 1 (2 for the URL), within 10 s', async () => {
    const closed = await freePort();
    const t0 = performance.now();
    const [wrong, away, worker, url] = await Promise.all([
      cliAsync('hunt', '--queue', `redis://:nope@127.0.0.1:${redis.port}/0`, '--seeds', '4'),
      cliAsync('hunt', '--queue', `redis://127.0.0.1:${closed}/0`, '--seeds', '4'),
      cliAsync('worker', '--queue', `redis://:${PASSWORD}@127.0.0.1:${closed}/0`),
      cliAsync('worker', '--queue', 'http://127.0.0.1/'),
    ]);
    expect(performance.now() - t0).toBeLessThan(10_000 + 5_000); // 10 s, plus starting four processes on a busy host
    expect(wrong.status, describeRun(wrong)).toBe(1);
    expect(oneLine(wrong)).toMatch(/unreachable \((WRONGPASS|NOAUTH)/);
    expect(away.status, describeRun(away)).toBe(1);
    expect(oneLine(away)).toMatch(/redis redis:\/\/127\.0\.0\.1:\d+\/0: unreachable \(ECONNREFUSED\)/);
    expect(worker.status, describeRun(worker)).toBe(1);
    expect(oneLine(worker)).toContain(':***@');
    expect(worker.stderr + worker.stdout).not.toContain(PASSWORD);
    expect(url.status, describeRun(url)).toBe(2);
    expect(oneLine(url)).toContain('--queue');
  });
});

describe.skipIf(!redisServer)('a campaign over TLS (rediss://)', () => {
  let redis: RedisServer;
  let dir: string;
  beforeAll(async () => {
    redis = await startRedis(redisServer!, PASSWORD, true);
    dir = mkdtempSync(join(tmpdir(), 'shootdown-tls-'));
  });
  afterAll(async () => {
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('coordinator and worker reach a TLS-only redis-server, the certificate checked against its CA; without the CA, one line and exit 1', async () => {
    const env = { NODE_EXTRA_CA_CERTS: redis.caFile! };
    const w = new CliProcess(dir, ['worker', '--queue', redis.url, '--jobs', '1'], env);
    try {
      const r = await cliAsyncWith(env, 'hunt', '--queue', redis.url, ...CAMPAIGN, '--seeds', '8', '--block-seeds', '4', '--json', join(dir, 'tls.json'), '--artifacts', dir);
      expect([0, 1], describeRun(r)).toContain(r.status);
      const f = readHunt(join(dir, 'tls.json'));
      expect(f.complete).toBe(true);
      expect(f.seedsRun).toBe(8);
      expect(r.stdout + r.stderr + w.out + w.err).not.toContain(PASSWORD);
      const untrusted = await cliAsync('hunt', '--queue', redis.url, '--seeds', '4');
      expect(untrusted.status, describeRun(untrusted)).toBe(1);
      expect(oneLine(untrusted)).toMatch(/unreachable \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|DEPTH_ZERO_SELF_SIGNED_CERT)/);
    } finally {
      await w.end();
    }
  });
});
