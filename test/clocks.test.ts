// Model time: the main job shows the seed's claim, the two modes agree on the
// figures a user reads, the cost table moves exactly the figures it should,
// and a bad cost file is one line.
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliAsync, describeRun, ROOT } from './cli-process.ts';
import { run } from './helpers.ts';
import type { RunResult } from '../src/engine/result.ts';
import type { CompareFile } from '../src/report/formats.ts';

/** The flags of `npm start`, read from package.json, so the test runs exactly the main job. */
function startFlags(): string[] {
  const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const words = start.split(/\s+/);
  expect(words.slice(0, 3)).toEqual(['tsx', 'src/cli.ts', 'compare']);
  return words.slice(3);
}

const dir = mkdtempSync(join(tmpdir(), 'shootdown-clocks-'));

async function compareJson(name: string, flags: string[]): Promise<RunResult[]> {
  const json = join(dir, `${name}.json`);
  const r = await cliAsync('compare', ...flags, '--json', json);
  expect(r.status, describeRun(r)).toBe(0);
  return (JSON.parse(readFileSync(json, 'utf8')) as CompareFile).results;
}

const pick = (rs: RunResult[], variant: string, preempt: string): RunResult => rs.find((r) => r.variant === variant && r.config.preempt === preempt)!;
const flushesPerOp = (r: RunResult): number => r.counters.gatherFlushes / r.counters.ops;

describe('npm start: the seed claim in model time', () => {
  let parallel: RunResult[] = [];
  let deterministic: RunResult[] = [];
  beforeAll(async () => {
    const flags = startFlags();
    expect(flags).toContain('parallel');
    [parallel, deterministic] = await Promise.all([
      compareJson('start', flags),
      compareJson('start-deterministic', flags.map((f) => (f === 'parallel' ? 'deterministic' : f === 'none,full' ? 'none' : f))),
    ]);
  }, 120_000);

  it('under none legacy has the longer non-preemptible section; under full legacy flushes more per op', () => {
    expect(parallel.map((r) => `${r.variant} ${r.config.preempt}`)).toEqual(['legacy none', 'rework none', 'legacy full', 'rework full']);
    for (const r of parallel) {
      expect(r.mode).toBe('parallel');
      expect(r.clock).toBe('model');
      expect(r.violations).toEqual([]);
      expect(r.latency.summaries.probeWakeup.count).toBeGreaterThan(0);
    }
    expect(pick(parallel, 'legacy', 'none').latency.preemptOffMax!.ns).toBeGreaterThan(pick(parallel, 'rework', 'none').latency.preemptOffMax!.ns);
    expect(flushesPerOp(pick(parallel, 'legacy', 'full'))).toBeGreaterThan(flushesPerOp(pick(parallel, 'rework', 'full')));
  });

  it('deterministic and parallel mode agree within 2x on the longest section, pte-lock hold p99 and probe p99', () => {
    const figures = (r: RunResult): Record<string, number> => ({
      preemptOffMaxNs: r.latency.preemptOffMax!.ns,
      pteLockHoldP99Ns: r.latency.summaries.pteLockHold.p99Ns,
      probeP99Ns: r.latency.summaries.probeWakeup.p99Ns,
    });
    for (const variant of ['legacy', 'rework']) {
      const a = figures(pick(deterministic, variant, 'none'));
      const b = figures(pick(parallel, variant, 'none'));
      for (const k of Object.keys(a)) {
        const ratio = Math.max(a[k]!, b[k]!) / Math.min(a[k]!, b[k]!);
        expect(ratio, `${variant} ${k}: deterministic ${a[k]} ns, parallel ${b[k]} ns`).toBeLessThanOrEqual(2);
      }
    }
  });
});

describe('the cost table', () => {
  const o = { variant: 'rework', workload: 'madvise', cpus: 3, pages: 64, seed: 7 };

  it('an IPI ack wait is at least delivery + handler + the ack line, less the send already counted; a dearer delivery adds exactly its difference', async () => {
    const base = await run(o);
    const c = base.config.costs;
    const ack = base.latency.summaries.ipiAckWait;
    expect(ack.count).toBeGreaterThan(0);
    expect(ack.minNs).toBeGreaterThanOrEqual(c.ipiDeliveryNs + c.ipiHandlerNs + c.cacheLineTransferNs - c.ipiNs);
    const dearer = await run({ ...o, costs: { ...c, ipiDeliveryNs: c.ipiDeliveryNs + 10_000 } });
    expect(dearer.counters.gatherFlushes).toBe(base.counters.gatherFlushes);
    // histogram values are exact to 3 significant digits
    expect(dearer.latency.summaries.ipiAckWait.minNs - ack.minNs).toBeGreaterThan(9_900);
    expect(dearer.latency.summaries.ipiAckWait.minNs - ack.minNs).toBeLessThan(10_100);
  });

  it('spinning costs no model time: with the model clocks off every step costs 1 µs and the figures change', async () => {
    const flat = await run({ ...o, modelClocks: false });
    const model = await run(o);
    expect(flat.steps).toBeGreaterThan(0);
    expect(flat.latency.summaries.ipiAckWait.minNs).not.toBe(model.latency.summaries.ipiAckWait.minNs);
  });

  it('--costs FILE: known names override the defaults; an unknown name, a negative cost or a missing file is one line and exit 2', async () => {
    const good = join(dir, 'costs.yaml');
    writeFileSync(good, 'ipiDeliveryNs: 1500\ncontextSwitchNs: { ns: 1200, source: "bare metal" }\n');
    const bad: [string, string, RegExp][] = [
      ['unknown.yaml', 'ipiDelivery: 1500\n', /ipiDelivery: not a cost/],
      ['negative.yaml', 'pteNs: -5\n', /pteNs: -5 must be a whole number/],
      ['missing.yaml', '', /ENOENT/],
    ];
    for (const [name, text] of bad) if (text) writeFileSync(join(dir, name), text);
    const json = join(dir, 'costs-run.json');
    const ok = await cliAsync('run', '--variant', 'rework', '--pages', '64', '--cpus', '2', '--costs', good, '--json', json);
    expect(ok.status, describeRun(ok)).toBe(0);
    const costs = (JSON.parse(readFileSync(json, 'utf8')) as RunResult).config.costs;
    expect(costs.ipiDeliveryNs).toBe(1500);
    expect(costs.contextSwitchNs).toBe(1200);
    expect(costs.pteNs).toBeGreaterThan(0);
    for (const [name, , msg] of bad) {
      const r = await cliAsync('run', '--pages', '64', '--costs', join(dir, name));
      expect(r.status, describeRun(r)).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
  }, 60_000);

  it('parallel mode on more cpus than host cores: one warning line, and the host figures apart from the model ones', async () => {
    const cpus = availableParallelism() + 1;
    const json = join(dir, 'over.json');
    const r = await cliAsync('run', '--mode', 'parallel', '--cpus', String(cpus), '--pages', '64', '--json', json);
    expect(r.status, describeRun(r)).toBe(0);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('warning:'))).toEqual([`warning: ${cpus} simulated cpus on ${availableParallelism()} host cores: cpus wait for each other's clocks while the host runs others, so host figures (elapsed, host ops/s, steal) are the host's; model times are not affected`]);
    const res = JSON.parse(readFileSync(json, 'utf8')) as RunResult;
    expect(res.clock).toBe('model');
    expect(res.host.cores).toBe(availableParallelism());
    expect(res.host.stealMs).toBeGreaterThanOrEqual(0);
    expect(res.host.elapsedMs).toBeGreaterThan(0);
    expect(res.host.blocks, 'more cpus than cores: waiting cpus give their core away (pv_wait)').toBeGreaterThan(0);
    expect(res.host.opTimeMs).toBeGreaterThan(0);
    expect(res.host.ipiAckWait).not.toBeNull();
    expect(r.stdout).toMatch(/^  host: \d+ ms elapsed, [\d.]+ ops per host second, \d+ ms lost to host descheduling \(steal\), \d+ waits blocked their thread, \d+ host cores$/m);
  }, 60_000);
});
