// Race hunting as a user drives it: hunt finds a mutant's race and saves an
// artifact, replay reproduces it byte for byte, shrink makes it small, shards
// split the seed space, and bounded exploration exhausts small spaces.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_ARGV } from './cli-process.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { huntSeed } from '../src/engine/campaign.ts';
import { makeConfig } from '../src/engine/configure.ts';
import { runDeterministic } from '../src/engine/deterministic.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [...CLI_ARGV, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, why: `exit ${r.status}\n${r.stderr}\n${r.stdout}` };
}

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shootdown-hunt-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('hunt, replay, shrink', () => {
  it('hunt finds free-before-flush at once, groups it, writes an artifact; replay reproduces it byte for byte; shrink gets to 2 cpus and 16 pages or fewer', () => {
    const json = join(dir, 'hunt.json');
    const h = cli('hunt', '--variant', 'free-before-flush', '--cpus', '4', '--pages', '1000', '--seeds', '6', '--jobs', '2', '--json', json);
    expect(h.status, h.why).toBe(1);
    expect(h.stdout).toMatch(/^found FREE_WHILE_REMOTE_TLB at seed \d+:/m); // as soon as a seed shows it
    expect(h.stdout).toMatch(/^  FREE_WHILE_REMOTE_TLB x6, first at seed 1:/m); // grouped: every seed, the lowest first
    expect(h.stdout).toMatch(/seeds\/s/);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { schema: number; seedsRun: number; found: boolean; firstFailingSeed: number; violations: { rule: string; seed: number; count: number }[]; artifacts: string[] };
    expect(report.schema).toBe(3);
    expect(report.seedsRun).toBe(6);
    expect(report.found).toBe(true);
    expect(report.firstFailingSeed).toBe(1);
    const free = report.violations.find((v) => v.rule === 'FREE_WHILE_REMOTE_TLB')!;
    expect(free.seed).toBe(1);
    expect(free.count).toBe(6);
    const artifact = report.artifacts.find((f) => f.includes('FREE_WHILE_REMOTE_TLB'))!;
    expect(readdirSync(dir)).toContain(artifact.split('/').pop());

    const told = cli('replay', artifact, '--explain');
    // the story names the frame, the reader's TLB fill of it, the pte clear and the early free
    const frame = /how FREE_WHILE_REMOTE_TLB came about \(frame (\d+)/.exec(told.stdout)?.[1];
    expect(frame, told.why).toBeDefined();
    for (const what of [`tlb fill vpn=`, `pte clear vpn=`, `free page frame=${frame}`]) expect(told.stdout).toContain(what);
    const one = cli('replay', artifact, '--json', join(dir, 'r1.json'));
    const two = cli('replay', artifact, '--json', join(dir, 'r2.json'));
    expect(one.status, one.why).toBe(1);
    expect(one.stdout).toMatch(/^reproduced: FREE_WHILE_REMOTE_TLB at step \d+$/m);
    expect(readFileSync(join(dir, 'r1.json'), 'utf8')).toBe(readFileSync(join(dir, 'r2.json'), 'utf8'));
    expect(two.stdout).toBe(one.stdout);

    const small = join(dir, 'small.json');
    const s = cli('shrink', artifact, '--seeds', '10', '--out', small);
    expect(s.status, s.why).toBe(0);
    const shrunk = JSON.parse(readFileSync(small, 'utf8')) as { rule: string; config: { cpus: number; pages: number } };
    expect(shrunk.rule).toBe('FREE_WHILE_REMOTE_TLB');
    expect(shrunk.config.cpus).toBeLessThanOrEqual(2);
    expect(shrunk.config.pages).toBeLessThanOrEqual(16);
    const again = cli('replay', small);
    expect(again.stdout).toMatch(/^reproduced: FREE_WHILE_REMOTE_TLB/m);
  }, 180_000);

  it('rework is clean: exit 0, found false', () => {
    const json = join(dir, 'clean.json');
    const h = cli('hunt', '--variant', 'rework', '--pages', '100', '--seeds', '8', '--jobs', '2', '--json', json);
    expect(h.status, h.why).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { found: boolean; violations: unknown[]; firstFailingSeed: number | null; seedsRun: number };
    expect(report).toMatchObject({ found: false, violations: [], firstFailingSeed: null, seedsRun: 8 });
  }, 60_000);

  it('shards split the seed space with no seed run twice', () => {
    const seeds = (shard: string) => {
      const json = join(dir, `shard-${shard.replace('/', '-')}.json`);
      const h = cli('hunt', '--variant', 'free-before-flush', '--pages', '50', '--cpus', '2', '--seeds', '9', '--jobs', '1', '--shard', shard, '--json', json);
      expect(h.status, h.why).toBe(1);
      return JSON.parse(readFileSync(json, 'utf8')) as { seedsRun: number; firstFailingSeed: number };
    };
    const [a, b, c] = [seeds('1/3'), seeds('2/3'), seeds('3/3')];
    expect([a.seedsRun, b.seedsRun, c.seedsRun]).toEqual([3, 3, 3]);
    expect([a.firstFailingSeed, b.firstFailingSeed, c.firstFailingSeed]).toEqual([1, 2, 3]);
  }, 60_000);

  it('bad input: a shard out of range, zero jobs, a file that is not an artifact', () => {
    const notArtifact = join(dir, 'not.json');
    writeFileSync(notArtifact, '{"schema": 2}');
    const oldArtifact = join(dir, 'old.json');
    writeFileSync(oldArtifact, '{"schema": 2, "kind": "artifact", "decisions": [0, 5]}');
    for (const [args, names] of [
      [['hunt', '--shard', '3/2'], '--shard'],
      [['hunt', '--jobs', '0'], '--jobs'],
      [['hunt', '--mode', 'parallel'], '--mode'],
      [['replay', notArtifact], 'not a shootdown artifact'],
      [['replay', oldArtifact], 'an artifact of schema 2, from an older shootdown'],
    ] as const) {
      const r = cli(...args);
      expect(r.status, r.why).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(names);
    }
  }, 60_000);
});

describe('bounded exploration', () => {
  it('enumerates every schedule with at most 1 preemption: rework exhausts the space clean, free-before-flush fails and replays', () => {
    // the README's own command: the reader polls for the unmapper, and fairness lets the unmapper run
    const tiny = ['--cpus', '2', '--pages', '4', '--no-kworker', '--strategy', 'bounded', '--preemptions', '1'];
    const cleanJson = join(dir, 'bounded-clean.json');
    const clean = cli('hunt', '--variant', 'rework', ...tiny, '--json', cleanJson);
    expect(clean.status, clean.why).toBe(0);
    const c = JSON.parse(readFileSync(cleanJson, 'utf8')) as { schedules: number; exhausted: boolean; found: boolean };
    expect(c.exhausted).toBe(true);
    expect(c.found).toBe(false);
    expect(c.schedules).toBeGreaterThan(1);
    // with no preemption allowed only the free choices (a cpu going idle) branch: fewer schedules, also exhausted
    const noneJson = join(dir, 'bounded-0.json');
    cli('hunt', '--variant', 'rework', ...tiny.slice(0, -2), '--preemptions', '0', '--json', noneJson);
    const n = JSON.parse(readFileSync(noneJson, 'utf8')) as { schedules: number; exhausted: boolean };
    expect(n.exhausted).toBe(true);
    expect(n.schedules).toBeGreaterThanOrEqual(1);
    expect(n.schedules).toBeLessThan(c.schedules);
    const badJson = join(dir, 'bounded-bad.json');
    const bad = cli('hunt', '--variant', 'free-before-flush', ...tiny, '--json', badJson);
    expect(bad.status, bad.why).toBe(1);
    const b = JSON.parse(readFileSync(badJson, 'utf8')) as { artifacts: string[] };
    expect(cli('replay', b.artifacts[0]!).stdout).toMatch(/^reproduced: FREE_WHILE_REMOTE_TLB/m);
  }, 120_000);

  it('on one cpu: the rework shows only its fast-mode race, legacy is clean, legacy-preemptible is found; no lockup, nothing cut short', () => {
    const oneCpu = ['--cpus', '1', '--tasks-per-cpu', '2', '--pages', '16', '--no-kworker', '--strategy', 'bounded', '--preemptions', '1', '--artifacts', dir];
    const found = (variant: string) => {
      const json = join(dir, `bounded-1cpu-${variant}.json`);
      const r = cli('hunt', '--variant', variant, ...oneCpu, '--json', json);
      const f = JSON.parse(readFileSync(json, 'utf8')) as { exhausted: boolean; pastLimit: number; violations: { rule: string }[] };
      expect(f.exhausted, r.why).toBe(true);
      expect(f.pastLimit, r.why).toBe(0);
      return { status: r.status, rules: [...new Set(f.violations.map((v) => v.rule))] };
    };
    expect(found('rework')).toEqual({ status: 1, rules: ['STALE_TLB_ACCESS'] });
    expect(found('legacy')).toEqual({ status: 0, rules: [] });
    expect(found('legacy-preemptible').status).toBe(1);
  }, 120_000);

  it('says how big its space is, and without the reduction refuses one over --max-schedules in one line (exit 2)', () => {
    const r = cli('hunt', '--variant', 'rework', '--cpus', '3', '--pages', '16', '--no-kworker', '--strategy', 'bounded', '--preemptions', '2', '--max-schedules', '1000', '--no-reduction');
    expect(r.status, r.why).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--preemptions 2: about \d+ schedules .* over --max-schedules 1000/);
    const ok = cli('hunt', '--variant', 'rework', '--cpus', '2', '--pages', '4', '--no-kworker', '--strategy', 'bounded', '--preemptions', '0', '--artifacts', dir);
    expect(ok.stdout).toMatch(/every schedule with at most 0 preemptions: about 1 \(/);
  }, 120_000);
});

describe('a hunted seed', () => {
  it('runs without statistics and takes the same steps, with the same violations and preemption points, as the run with all of them on', () => {
    for (const variant of ['free-before-flush', 'flush-preemptible', 'rework']) {
      for (const seed of [1, 2]) {
        const config = makeConfig({ variant, workload: 'munmap', cpus: 3, pages: 64, preempt: 'full', clockSkew: 'none', seed });
        expect(config.latencyStats).toBe(true);
        const full = runDeterministic(config);
        const hunted = huntSeed({ config });
        expect(hunted.steps).toBe(full.steps);
        expect(hunted.violationCount).toBe(full.violations.length + full.violationsDropped);
        expect(hunted.violations).toEqual(full.violations.slice(0, hunted.violations.length).map((v) => ({ rule: v.rule, detail: v.detail, step: v.step })));
        expect(hunted.points).toEqual((full.preemptionPoints ?? []).map((p) => ({ point: p.point, preempted: p.preempted > 0 })));
        expect(full.latency.summaries.pteLockHold!.count).toBeGreaterThan(0);
      }
    }
    expect(huntSeed({ config: makeConfig({ variant: 'free-before-flush', workload: 'munmap', cpus: 3, pages: 64, clockSkew: 'none', seed: 1 }) }).violationCount).toBeGreaterThan(0);
  });
});
