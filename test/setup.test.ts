// Setup run once (config.setupOnce, boot.ts): a workload's setup runs at
// boot, every run of the same config but the seed starts from a copy of
// that machine, and runs, artifacts and replays are the same from it.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { makeConfig } from '../src/engine/configure.ts';
import { bootFresh, bootMachine } from '../src/engine/boot.ts';
import { runDeterministic } from '../src/engine/deterministic.ts';
import { makeArtifact } from '../src/engine/campaign.ts';
import { withoutHostFigures } from '../src/engine/result.ts';
import { fileURLToPath } from 'node:url';
import { loadScenario } from '../src/scenario/load.ts';
import { cli, describeRun } from './cli-process.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const bytes = (m: { sab: SharedArrayBuffer }) => Buffer.from(m.sab);

describe('setup once', () => {
  for (const workload of ['munmap', 'exit']) {
    it(`${workload}: boot with the setup leaves the same machine for any seed, and a copy is that machine byte for byte`, () => {
      const config = (seed: number) => makeConfig({ variant: 'rework', workload, pages: 64, seed, setupOnce: true });
      const fresh = bootFresh(config(1)).m;
      expect(bytes(bootFresh(config(2)).m).equals(bytes(fresh))).toBe(true);
      const first = bootMachine(config(3)).m;
      const copy = bootMachine(config(4)).m;
      expect(copy.sab).not.toBe(first.sab);
      expect(bytes(copy).equals(bytes(fresh))).toBe(true);
      // the setup really ran: the pages are mapped and written before any task steps
      expect(bytes(fresh).equals(bytes(bootFresh(makeConfig({ variant: 'rework', workload, pages: 64, seed: 1 })).m))).toBe(false);
    });

    it(`${workload}: a run from the copy is the run from a fresh boot, and it skips the setup's steps but not the measured operation`, () => {
      const config = makeConfig({ variant: 'free-before-flush', workload, pages: 64, seed: 5, clockSkew: 'none', setupOnce: true });
      const a = withoutHostFigures(runDeterministic(config));
      const b = withoutHostFigures(runDeterministic(config));
      expect(JSON.stringify(b)).toBe(JSON.stringify(a));
      const explored = runDeterministic({ ...config, setupOnce: false });
      expect(a.steps).toBeLessThan(explored.steps);
      expect(a.counters.pagesFreed).toBe(explored.counters.pagesFreed);
      expect(a.violations.length).toBeGreaterThan(0);
    });
  }

  it("a scenario file's setup: boot runs it once for any seed, a task without one leaves its cpu as boot found it, and a run from it skips its steps but no measured operation", () => {
    const options = loadScenario(join(ROOT, 'examples/storm-and-readers.yaml')).options;
    const config = (seed: number, setupOnce: boolean) => makeConfig({ ...options, variant: 'rework', seed, clockSkew: 'none', setupOnce });
    const once = bytes(bootFresh(config(1, true)).m);
    expect(bytes(bootFresh(config(2, true)).m).equals(once)).toBe(true);
    expect(once.equals(bytes(bootFresh(config(1, false)).m))).toBe(false);
    const noSetup = structuredClone(options);
    for (const t of noSetup.scenario!.tasks) t.program = [...(t.setup ?? []), ...t.program];
    for (const t of noSetup.scenario!.tasks) delete t.setup;
    const plain = (setupOnce: boolean) => bytes(bootFresh(makeConfig({ ...noSetup, variant: 'rework', seed: 1, setupOnce })).m);
    expect(plain(true).equals(plain(false))).toBe(true);
    const run = runDeterministic(config(3, true));
    const explored = runDeterministic(config(3, false));
    expect(run.error).toBeNull();
    expect(run.steps).toBeLessThan(explored.steps);
    expect(run.counters.ops).toBe(explored.counters.ops);
    expect(run.violations).toEqual([]);
  });

  it('the setup takes no model time: no cpu starts behind a lock release it left, so the readers do not read on until their clocks catch up', () => {
    const config = makeConfig({ variant: 'rework', workload: 'munmap', pages: 1000, preempt: 'none', kworker: false, clockSkew: 'none', seed: 1, setupOnce: true });
    const once = runDeterministic(config);
    const explored = runDeterministic({ ...config, setupOnce: false });
    expect(once.totals.userAccesses).toBeLessThan(explored.totals.userAccesses * 1.5);
    expect(once.steps).toBeLessThan(explored.steps);
  });

  it('an artifact records setupOnce and replays to the same violation, byte-identical twice', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shootdown-setup-'));
    const json = join(dir, 'hunt.json');
    const hunt = cli('hunt', '--variant', 'free-before-flush', '--workload', 'exit', '--pages', '64', '--seeds', '4', '--jobs', '1', '--artifacts', dir, '--json', json);
    expect(hunt.status, describeRun(hunt)).toBe(1);
    expect(hunt.stdout.split('\n')[0]).toMatch(/, setup once at boot \(--explore-setup explores it\)$/);
    const h = JSON.parse(readFileSync(json, 'utf8')) as { artifacts: string[]; config: { setupOnce: boolean } };
    expect(h.config.setupOnce).toBe(true);
    const artifact = JSON.parse(readFileSync(h.artifacts[0]!, 'utf8')) as { config: { setupOnce: boolean }; rule: string; step: number };
    expect(artifact.config.setupOnce).toBe(true);
    const outs = [join(dir, 'r1.json'), join(dir, 'r2.json')];
    for (const out of outs) {
      const r = cli('replay', h.artifacts[0]!, '--json', out);
      expect(r.stdout).toContain(`reproduced: ${artifact.rule} at step ${artifact.step}`);
    }
    expect(readFileSync(outs[1]!, 'utf8')).toBe(readFileSync(outs[0]!, 'utf8'));
    const explore = cli('hunt', '--variant', 'free-before-flush', '--workload', 'exit', '--pages', '64', '--seeds', '2', '--jobs', '1', '--explore-setup', '--artifacts', dir, '--json', json);
    expect(explore.status, describeRun(explore)).toBe(1);
    expect(explore.stdout.split('\n')[0]).toMatch(/, setup explored$/);
    expect((JSON.parse(readFileSync(json, 'utf8')) as { config: { setupOnce: boolean } }).config.setupOnce).toBe(false);
  }, 60_000);

  it('makeArtifact of a setupOnce config is the run itself', () => {
    const config = makeConfig({ variant: 'free-before-flush', workload: 'munmap', pages: 64, seed: 2, clockSkew: 'none', setupOnce: true });
    const { artifact, result } = makeArtifact(config, 'FREE_WHILE_REMOTE_TLB');
    expect(artifact.config.setupOnce).toBe(true);
    const again = runDeterministic(config, { replay: artifact });
    expect(again.violations[0]?.step).toBe(result.violations[0]?.step);
  });
});
