// The deterministic engine observes only the cpus whose view changed: the
// one it stepped and those another cpu kicked (src/sync/pv.ts). Checked by
// observing every cpu at every step anyway (checkViews) over every workload;
// and the check is shown to fire when the kicks of a wake-up or an IPI are
// dropped.
import { describe, expect, it, vi } from 'vitest';
import { makeConfig, type RunOptions } from '../src/engine/configure.ts';
import { runDeterministic } from '../src/engine/deterministic.ts';
import { WORKLOADS } from '../src/workloads/index.ts';

const dropKicks = vi.hoisted(() => ({ on: false }));
vi.mock('../src/sync/pv.ts', async (original) => {
  const pv = await original<typeof import('../src/sync/pv.ts')>();
  return { ...pv, kickCpu: (m: Parameters<typeof pv.kickCpu>[0], cpu: number) => (dropKicks.on ? undefined : pv.kickCpu(m, cpu)) };
});

function checked(o: RunOptions): { error: string | null; steps: number; uncheckedSteps: number } {
  const config = makeConfig({ cpus: 3, pages: 64, rounds: 2, ...o });
  const withCheck = runDeterministic(config, { checkViews: true });
  const without = runDeterministic(config);
  return { error: withCheck.error ? `${withCheck.error.name}: ${withCheck.error.message}` : null, steps: withCheck.steps, uncheckedSteps: without.steps };
}

describe('views the deterministic engine keeps', () => {
  it('are the views every cpu would observe, on every workload and both designs', () => {
    const bad: string[] = [];
    for (const w of WORKLOADS) {
      for (const variant of ['legacy', 'rework']) {
        const seed = w.name.length; // a different interleaving per workload
        const r = checked({ variant, workload: w.name, seed, preempt: seed % 2 === 0 ? 'full' : 'none', probe: seed % 3 === 0 });
        if (r.error !== null || r.steps !== r.uncheckedSteps) bad.push(`${w.name} ${variant}: ${r.error ?? `${r.steps} steps checked, ${r.uncheckedSteps} not`}`);
      }
    }
    expect(bad).toEqual([]);
  }, 120_000);

  it('go stale when a wake-up or an IPI does not kick its cpu, and the check says so', () => {
    dropKicks.on = true;
    try {
      const r = checked({ variant: 'rework', workload: 'mix', seed: 1 });
      expect(r.error).toMatch(/a cpu changed by another without a kick/);
    } finally {
      dropKicks.on = false;
    }
  });
});
