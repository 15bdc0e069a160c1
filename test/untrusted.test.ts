// Data from elsewhere (a queued block, its result, an artifact, a result
// file) is checked before anything runs: the same config checks as flags,
// size limits, and results that must answer the block they claim to. Block
// results merge to exactly what one local campaign over the same seeds gives.

import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadInput } from '../src/machine/errors.ts';
import { makeConfig } from '../src/engine/configure.ts';
import { campaignPool, makeArtifact, runCampaign } from '../src/engine/campaign.ts';
import { modelFingerprint } from '../src/engine/fingerprint.ts';
import type { Piscina } from 'piscina';
import { checkRunConfig } from '../src/scenario/trust.ts';
import { loadScenario } from '../src/scenario/load.ts';
import { checkArtifact } from '../src/report/artifact.ts';
import { loadReportInputs } from '../src/report/html.ts';
import { BLOCK_SCHEMA_VERSION, CampaignTally, OtherModel, blocksOf, checkBlock, checkBlockResult, type BlockResult, type Campaign } from '../src/queue/blocks.ts';
import { cliAsync, describeRun, oneLine } from './cli-process.ts';
import { redactUrl, parseQueueUrl } from '../src/queue/redis.ts';

const config = makeConfig({ variant: 'no-ack-wait', cpus: '2', pages: '64' });
const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof BadInput) return e.message;
    throw e;
  }
  throw new Error('not refused');
};

describe('checkRunConfig: a config from elsewhere meets the checks flags meet', () => {
  it('a config made from flags, and the config of every example scenario file, pass unchanged', () => {
    expect(checkRunConfig('x', structuredClone(config))).toEqual(config);
    for (const file of readdirSync('examples').filter((f) => f.endsWith('.yaml'))) {
      const scenarioConfig = makeConfig(loadScenario(join('examples', file)).options);
      expect(checkRunConfig(file, structuredClone(scenarioConfig)), file).toEqual(scenarioConfig);
    }
  });

  it.each([
    ['an unknown field (a path to write)', { ...config, json: '/tmp/out.json' }, /x: config: Unrecognized key: "json"/],
    ['pages past the limit', { ...config, pages: 4_000_000_000 }, /x: config: --pages 4000000000: must be at most 4000000/],
    ['memory past the machine limit', { ...config, memoryPages: 2 ** 40 }, /more than the 4 GiB limit/],
    ['a workload that names a module', { ...config, workload: './evil.js' }, /--workload "\.\/evil\.js": unknown/],
    ['a field of the wrong type', { ...config, cpus: '2' }, /x: config\.cpus: /],
    ['fields that do not agree (memory below what the workload needs)', { ...config, memoryPages: 10 }, /--memory 40960: 10 pages cannot hold/],
    ['a program for a built-in workload', { ...config, scenario: { name: 'p', tasks: [] } }, /config\.scenario: must be null/],
  ])('refuses %s', (_what, bad, message) => {
    expect(refusal(() => checkRunConfig('x', bad))).toMatch(message);
  });

  it('refuses a field a scenario program decides, given otherwise', () => {
    const s = makeConfig(loadScenario('examples/storm-and-readers.yaml').options);
    expect(refusal(() => checkRunConfig('x', { ...s, mms: s.mms + 1 }))).toBe(`x: config.mms: ${s.mms + 1} is not what a run of these flags has`);
  });

  it('refuses a scenario program the file loader would refuse, and one deeper than repeats may nest', () => {
    const s = makeConfig(loadScenario('examples/storm-and-readers.yaml').options);
    const overlapping = structuredClone(s);
    overlapping.scenario!.tasks[0]!.program.unshift({ op: 'mmap', start: 0, pages: 1, file: false, measure: false });
    expect(refusal(() => checkRunConfig('x', overlapping))).toMatch(/^x: config\.scenario: tasks\[0\]\.program/);
    const unmapsInSetup = structuredClone(s);
    unmapsInSetup.scenario!.tasks[1]!.setup!.push({ op: 'munmap', start: 64, pages: 64, measure: false });
    expect(refusal(() => checkRunConfig('x', unmapsInSetup))).toMatch(/^x: config\.scenario: tasks\[1\]\.setup\[2\]: munmap in a setup/);
    let deep: unknown = { op: 'barrier' };
    for (let i = 0; i < 10_000; i++) deep = { op: 'repeat', times: 1, ops: [deep] };
    const nested = structuredClone(s);
    nested.scenario!.tasks[0]!.program = [deep as never];
    expect(refusal(() => checkRunConfig('x', nested))).toMatch(/repeats nest at most 8 deep/);
  });
});

describe('blocks and their results', () => {
  const campaign: Campaign = { schema: BLOCK_SCHEMA_VERSION, id: 'c-1', config, fingerprint: modelFingerprint(), firstSeed: 1, seeds: 20, blockSeeds: 10, blocks: 2, startedMs: 0 };
  const [b0, b1] = blocksOf(campaign) as [ReturnType<typeof blocksOf>[0], ReturnType<typeof blocksOf>[0]];
  let pool: Piscina;
  let results: BlockResult[];
  const resultOf = async (b: typeof b0): Promise<BlockResult> => {
    const r = await runCampaign({ base: b.config, firstSeed: b.firstSeed, seeds: b.count, timeMs: Infinity, jobs: 2, stopOnFirst: false, shard: null }, undefined, pool);
    return { schema: BLOCK_SCHEMA_VERSION, campaign: b.campaign, index: b.index, fingerprint: modelFingerprint(), seedsRun: r.seedsRun, groups: r.groups, errors: r.errors, coverage: r.coverage, artifacts: r.groups.map((g) => makeArtifact({ ...b.config, seed: g.seed }, g.rule).artifact) };
  };
  beforeAll(async () => {
    pool = campaignPool(2);
    results = [await resultOf(b0), await resultOf(b1)];
  });
  afterAll(() => pool.destroy());

  it('blocks split the seeds in order, and each checks as a block', () => {
    expect([b0.firstSeed, b0.count, b1.firstSeed, b1.count]).toEqual([1, 10, 11, 10]);
    expect(checkBlock('b', JSON.parse(JSON.stringify(b1)), 'c-1')).toEqual(b1);
    expect(refusal(() => checkBlock('b', { ...b1, pad: 'x'.repeat(10 * 1024 ** 2) }, 'c-1'))).toMatch(/^b: \d+ bytes, over the 1048576 limit$/);
    expect(refusal(() => checkBlock('b', { ...b1, count: 0 }, 'c-1'))).toMatch(/^b: count: /);
  });

  it('merged by block, the results equal one local campaign over all the seeds; a block counted twice counts once', async () => {
    const tally = new CampaignTally();
    // the later block first: the group's first seed must still come out lowest
    for (const r of [results[1]!, results[0]!, results[1]!]) tally.add(checkBlockResult('r', JSON.parse(JSON.stringify(r)), r.index === 0 ? b0 : b1));
    const local = await runCampaign({ base: config, firstSeed: 1, seeds: 20, timeMs: Infinity, jobs: 2, stopOnFirst: false, shard: null }, undefined, pool);
    const merged = tally.result(1000, false);
    expect(merged.seedsRun).toBe(20);
    expect(merged.groups).toEqual(local.groups);
    expect(merged.errors).toEqual(local.errors);
    expect(merged.firstFailingSeed).toBe(local.firstFailingSeed);
    expect(merged.coverage).toEqual(local.coverage);
    expect(merged.neverPreempted).toEqual(local.neverPreempted);
    expect(merged.coverage.length, 'the campaign passed preemption points').toBeGreaterThan(0);
    expect(local.groups.length, 'the mutant fires within 20 seeds').toBeGreaterThan(0);
    for (const g of merged.groups) expect(tally.artifacts.get(g.location)!.config.seed).toBe(g.seed);
  });

  it('refuses a result that does not answer its block', () => {
    const r = results.find((x) => x.groups.length > 0)!;
    const b = r.index === 0 ? b0 : b1;
    const other = r.index === 0 ? b1 : b0;
    expect(refusal(() => checkBlockResult('r', r, other))).toMatch(/answers block/);
    expect(refusal(() => checkBlockResult('r', { ...r, seedsRun: 9 }, b))).toMatch(/seedsRun: 9, but the block has 10 seeds/);
    expect(refusal(() => checkBlockResult('r', { ...r, groups: [{ ...r.groups[0]!, seed: 99 }] }, b))).toMatch(/seed 99 is outside the block's seeds/);
    const alien = { ...r.artifacts[0]!, config: { ...r.artifacts[0]!.config, seed: r.groups[0]!.seed + 1 } };
    expect(refusal(() => checkBlockResult('r', { ...r, artifacts: [alien, ...r.artifacts.slice(1)] }, b))).toMatch(/its config is not the campaign's/);
    expect(refusal(() => checkBlockResult('r', { ...r, artifacts: [] }, b))).toBe(`r: artifacts: 0 for ${r.groups.length} groups`);
  });

  it('a result of another model is not counted: OtherModel, told apart from a malformed result, and its artifacts must be of its model', () => {
    const r = results.find((x) => x.groups.length > 0)!;
    const b = r.index === 0 ? b0 : b1;
    const other = 'f'.repeat(64);
    expect(b.fingerprint).toBe(modelFingerprint());
    const foreign = JSON.parse(JSON.stringify({ ...r, fingerprint: other, artifacts: r.artifacts.map((a) => ({ ...a, fingerprint: other })) })) as unknown;
    expect(() => checkBlockResult('r', foreign, b)).toThrow(OtherModel);
    expect(() => checkBlockResult('r', foreign, b)).toThrow(`r: made by model ffffffffffff, but the campaign's model is ${modelFingerprint().slice(0, 12)}; not counted`);
    expect(new OtherModel('x')).not.toBeInstanceOf(BadInput); // the coordinator puts its block back rather than failing it
    const tally = new CampaignTally();
    for (const value of [foreign, r]) {
      try {
        tally.add(checkBlockResult('r', value, b));
      } catch (e) {
        if (!(e instanceof OtherModel)) throw e;
      }
    }
    expect(tally.result(1, false).groups).toEqual(r.groups);
    expect(tally.seedsRun).toBe(b.count);
    expect(refusal(() => checkBlockResult('r', { ...r, artifacts: r.artifacts.map((a) => ({ ...a, fingerprint: other })) }, b))).toMatch(/artifacts\.0: not made by the model that made the result/);
    expect(refusal(() => checkBlockResult('r', { ...r, fingerprint: 'F'.repeat(64) }, b))).toMatch(/fingerprint: a model fingerprint is 64 lower-case hex digits/);
    expect(refusal(() => checkBlock('b', { ...b, fingerprint: 'x'.repeat(10_000) }, b.campaign))).toMatch(/fingerprint/);
  });

  it('an artifact with a config that fails the checks is refused', () => {
    const a = results.flatMap((r) => r.artifacts)[0]!;
    expect(checkArtifact('a', JSON.parse(JSON.stringify(a)))).toEqual(a);
    expect(refusal(() => checkArtifact('a', { ...a, config: { ...a.config, mode: 'parallel' } }))).toMatch(/an artifact replays a deterministic run/);
    expect(refusal(() => checkArtifact('a', { ...a, extra: 1 }))).toMatch(/not a shootdown artifact/);
  });
});

describe('files from elsewhere', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'shootdown-untrusted-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('replay refuses an artifact whose config names an output path: one line, exit 2, nothing written', async () => {
    const { artifact } = makeArtifact({ ...config, seed: 3 }, 'FREE_WHILE_REMOTE_TLB');
    const file = join(dir, 'hostile.json');
    writeFileSync(file, JSON.stringify({ ...artifact, config: { ...artifact.config, json: join(dir, 'pwned.json') } }));
    const r = await cliAsync('replay', file);
    expect(r.status, describeRun(r)).toBe(2);
    expect(oneLine(r)).toContain('Unrecognized key: "json"');
  });

  it('report refuses a result file past the size limit before reading it', () => {
    const file = join(dir, 'huge.json');
    writeFileSync(file, '');
    truncateSync(file, 200 * 1024 ** 2); // sparse: no disk used
    expect(refusal(() => loadReportInputs([file]))).toMatch(/larger than the 128 MiB a result file may be/);
  });

  it('a Redis URL: explicit parts only, the password blanked wherever it is shown', () => {
    expect(redactUrl('redis://:s3cret@host:6380/2')).toBe('redis://:***@host:6380/2');
    const t = parseQueueUrl('--queue', 'rediss://user:p%40ss@example.org:6390/3');
    expect(t.options).toMatchObject({ host: 'example.org', port: 6390, db: 3, username: 'user', password: 'p@ss', tls: { servername: 'example.org' } });
    expect(t.shown).not.toContain('p%40ss');
    expect(parseQueueUrl('--queue', 'redis://h', { REDISCLI_AUTH: 'from-env' }).options.password).toBe('from-env');
    expect(parseQueueUrl('--queue', 'redis://:in-url@h', { REDISCLI_AUTH: 'from-env' }).options.password).toBe('in-url');
    expect(refusal(() => parseQueueUrl('--queue', 'redis://h/0?path=/tmp/sock'))).toMatch(/takes no query/);
    expect(refusal(() => parseQueueUrl('--queue', 'redis://:pw@h/99'))).toBe('--queue redis://:***@h/99: the database after the host must be 0 to 15');
  });
});
