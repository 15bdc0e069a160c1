// npm run bench: the model's speed, measured in one run so the ratios mean
// something on a shared, noisy machine. Never asserted in tests. Writes
// bench/results.json and prints a table.
//   (a) deterministic engine: steps per second; hunt seeds per second of
//       tlb_flush1 and page_fault1 at their defaults, 1 job, and of munmap
//       and exit with their setup run once against explored;
//   (b) parallel zap: ptes zapped per model second per cpu (the cost table's
//       rate, whatever the host), and host ns per pte zapped (the host time
//       inside the munmap, with the skew bound and without), against the
//       native munmap and a plain loop clearing as many Int32 entries;
//   (c) IPI round trip (send to last ack) in model µs and in host µs, 2 cpus
//       on the host's cores, with the model clocks on and off, against a raw
//       Atomics ping-pong between two workers in host µs;
//   (d) measured operations per model second and per host second at 1, 2,
//       4 and 8 simulated cpus, with the host time each run took, and 8
//       cpus' host ops/s against 2 cpus', for mix and for page_fault1 with
//       an mm per task (the same work per op at any cpu count);
//   (e) the slowdown from latency statistics and lock_stat, on against off;
//   (f) the slowdown from tracing, on against off;
//   (g) a hunt campaign's seeds per second with 2 jobs against 1, once every
//       worker has compiled its hot paths (a real campaign runs thousands of
//       seeds, so its first few seconds on a cold worker do not count);
//   (h) PCT's seeds per second against random's on the same campaign;
//   (i) the (g) campaign through Redis with 2 worker processes of 1 job
//       each against a local pool of 2 jobs, 1,000 seeds, both warm;
//   (j) model time: the model's ns per page of a munmap against the native
//       munmap's; what keeping the model clocks costs (on against off,
//       alternating); npm start's comparison run five times in parallel mode
//       (max/min of its figures per column: host independence); the same
//       comparison under --preempt none in deterministic mode beside it
//       (mode agreement).
//   (k) bounded exploration with partial-order reduction against without:
//       runs, steps and seconds to exhaust the one-cpu munmap space at two
//       preemptions (with --reader-accesses 20 and without), and the
//       two-cpu exit space at one preemption.
//   (l) shared steps (dependence.ts): of one run's steps, those whose order
//       against another thread's could change the outcome, for tlb_flush1
//       and page_fault1 (one round) and munmap: how much random and pct could
//       save by deciding only there.
// Native anchors (bench/native/anchors.c, built with the host's C compiler
// when there is one) are measured first, in the same run: munmap and
// MADV_DONTNEED ns per page, an mprotect's TLB shootdown of another core, and
// a cache line bounced between two cores. (b) and (c) print their ratio.

import { buildNative } from '../src/cli/native.ts';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { makeConfig, type RunOptions } from '../src/engine/configure.ts';
import { runOnce } from '../src/engine/run.ts';
import type { RunResult } from '../src/engine/result.ts';
import { campaignPool, pctHorizonSteps, runCampaign } from '../src/engine/campaign.ts';
import { exploreBounded } from '../src/engine/bounded.ts';
import { runSharing, type Sharing } from '../src/engine/dependence.ts';
import { benchQueue } from './queue-bench.ts';
import { destroyPool } from '../src/engine/worker-env.ts';

const run = (o: RunOptions): Promise<RunResult> => runOnce(makeConfig(o));
const rows: string[] = [];
const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version };

// native anchors
interface Anchors {
  munmap_ns_per_page: number;
  madvise_ns_per_page: number;
  shootdown_ns: number;
  pingpong_ns: number;
  fault_ns_per_page: number;
  switch_ns: number;
}
function nativeAnchors(): Anchors | null {
  const program = buildNative('anchors');
  if (!program) return null;
  return JSON.parse(execFileSync(program, { encoding: 'utf8', timeout: 120_000 })) as Anchors;
}
const anchors = nativeAnchors();
rows.push(anchors ? `native: munmap ${anchors.munmap_ns_per_page.toFixed(0)} ns/page, MADV_DONTNEED ${anchors.madvise_ns_per_page.toFixed(0)} ns/page, mprotect shootdown of another core ${anchors.shootdown_ns.toFixed(0)} ns, cache-line ping-pong ${anchors.pingpong_ns.toFixed(0)} ns per round trip, page fault ${anchors.fault_ns_per_page.toFixed(0)} ns, context switch ${anchors.switch_ns.toFixed(0)} ns` : 'native anchors skipped: no C compiler (cc, gcc or clang) on this host');
results.native = anchors;

// (a)
const steps: Record<string, number> = {};
const runMs: Record<string, number> = {};
for (const variant of ['legacy', 'rework']) {
  const r = await run({ variant, workload: 'munmap', pages: 100000, preempt: 'none', cpus: 4, readerAccesses: 2000 });
  steps[variant] = Math.round(r.steps / (r.host.elapsedMs / 1000));
  runMs[variant] = r.host.elapsedMs;
  // a cpu whose spin can only fail again is not stepped (DESIGN 4), so steps/s alone no longer measures the same work: the run's time does
  rows.push(`(a) deterministic ${variant.padEnd(7)} munmap 100000 pages: ${steps[variant]!.toLocaleString('en-US')} steps/s, ${r.steps.toLocaleString('en-US')} steps in ${r.host.elapsedMs.toFixed(0)} ms`);
}
results.deterministicStepsPerSec = steps;
results.deterministicMunmapRunMs = runMs;
const huntPerSec: Record<string, number> = {};
const huntPerSecSetup: Record<string, { exploreSetup: number; setupOnce: number }> = {};
const HUNT_SEEDS = 40;
/** A hunt campaign's seeds/s at the workload's defaults, 1 job, on a warm worker. */
async function huntSeedsPerSec(workload: string, setupOnce: boolean): Promise<number> {
  const pool = campaignPool(1);
  try {
    const base = makeConfig({ variant: 'rework', workload, clockSkew: 'none', setupOnce });
    await runCampaign({ base, firstSeed: 1_000_001, seeds: 3, timeMs: Infinity, jobs: 1, stopOnFirst: false, shard: null }, undefined, pool); // warm the worker
    return (await runCampaign({ base, firstSeed: 1, seeds: HUNT_SEEDS, timeMs: Infinity, jobs: 1, stopOnFirst: false, shard: null }, undefined, pool)).seedsPerSec;
  } finally {
    await destroyPool(pool);
  }
}
for (const workload of ['tlb_flush1', 'page_fault1']) {
  huntPerSec[workload] = await huntSeedsPerSec(workload, true);
  rows.push(`(a) hunt ${workload.padEnd(11)} at its defaults, ${HUNT_SEEDS} seeds, 1 job: ${huntPerSec[workload]!.toFixed(2)} seeds/s (no setup declared: the same with --explore-setup)`);
}
// the workloads that declare a setup: seeds/s with it run once at boot (a hunt's default) against explored in every seed
for (const workload of ['munmap', 'exit']) {
  const explored = await huntSeedsPerSec(workload, false);
  const once = await huntSeedsPerSec(workload, true);
  huntPerSecSetup[workload] = { exploreSetup: explored, setupOnce: once };
  rows.push(`(a) hunt ${workload.padEnd(11)} at its defaults, ${HUNT_SEEDS} seeds, 1 job: ${once.toFixed(2)} seeds/s with the setup once, ${explored.toFixed(2)} with --explore-setup: ${(once / explored).toFixed(2)}x`);
}
results.huntSeedsPerSec = huntPerSec;
results.huntSeedsPerSecSetup = huntPerSecSetup;

// (b)
const PTES = 100000;
const zap: Record<string, number> = {};
const zapHostNs: Record<string, { bounded: number; unbounded: number }> = {};
for (const variant of ['legacy', 'rework']) {
  const hostNs = { bounded: 0, unbounded: 0 };
  for (const clockSkew of [undefined, 'none']) {
    const r = await run({ variant, workload: 'munmap', pages: PTES, preempt: 'none', cpus: 2, mode: 'parallel', clockSkew });
    if (clockSkew === undefined) zap[variant] = Math.round(r.counters.pagesFreed / (r.counters.opTimeUs / 1e6));
    hostNs[clockSkew === undefined ? 'bounded' : 'unbounded'] = (r.host.opTimeMs! * 1e6) / r.counters.pagesFreed;
  }
  zapHostNs[variant] = hostNs;
}
const plain = new Int32Array(PTES).fill(1);
let best = Infinity;
for (let i = 0; i < 20; i++) {
  plain.fill(1);
  const t0 = performance.now();
  for (let j = 0; j < PTES; j++) plain[j] = 0;
  best = Math.min(best, performance.now() - t0);
}
const plainPerSec = Math.round(PTES / (best / 1000));
const plainNs = 1e9 / plainPerSec;
for (const [v, n] of Object.entries(zap)) {
  const h = zapHostNs[v]!;
  const vsNative = (ns: number): string => (anchors ? ` (${(ns / anchors.munmap_ns_per_page).toFixed(1)}x native munmap)` : '');
  rows.push(`(b) parallel zap ${v.padEnd(7)}: ${(1e9 / n).toFixed(0)} model ns per pte${vsNative(1e9 / n)}; host ${h.bounded.toFixed(0)} ns per pte with the skew bound${vsNative(h.bounded)}, ${h.unbounded.toFixed(0)} without${vsNative(h.unbounded)}; plain Int32 clear ${plainNs.toFixed(2)} ns per entry`);
}
results.zap = { ptesPerModelSecPerWorker: zap, hostNsPerPte: zapHostNs, plainClearPerSec: plainPerSec };

// (c)
// two cpus, one worker each, so no worker waits for a host core; mix's storms and madvises shoot down often.
// 200 rounds: a worker's first few hundred ms run code the JIT has not optimised yet, and they would be most of a short run.
// With the model clocks on, a target that runs a task takes the IPI only when its clock reaches the arrival
// (ipiDeliveryNs, 6 model µs, after the send: DESIGN 4a), so the host time has that floor; off, what is left is
// the engine's own: the kick, the target's next look, the ack, the sender's next look.
const IPI_ROUNDS = 200;
const ipi = await run({ variant: 'rework', workload: 'mix', cpus: 2, mode: 'parallel', rounds: IPI_ROUNDS });
const ipiNoClocks = await run({ variant: 'rework', workload: 'mix', cpus: 2, mode: 'parallel', rounds: IPI_ROUNDS, modelClocks: false });
const ipiP50Us = ipi.latency.summaries.ipiAckWait.p50Ns / 1000;
const ipiHostP50Us = ipi.host.ipiAckWait!.p50Ns / 1000;
const ipiNoClocksHostP50Us = ipiNoClocks.host.ipiAckWait!.p50Ns / 1000;
const pingPongUs = await atomicsPingPong(20000);
const ipiVsNative = anchors ? `; native shootdown ${(anchors.shootdown_ns / 1000).toFixed(2)} µs (model ${(ipiP50Us / (anchors.shootdown_ns / 1000)).toFixed(1)}x), native ping-pong ${(anchors.pingpong_ns / 1000).toFixed(3)} µs` : '';
rows.push(`(c) IPI send to ack p50 over ${ipi.latency.summaries.ipiAckWait.count} shootdowns: ${ipiP50Us.toFixed(2)} model µs, ${ipiHostP50Us.toFixed(2)} host µs; model clocks off ${ipiNoClocksHostP50Us.toFixed(2)} host µs; raw Atomics ping-pong ${pingPongUs.toFixed(3)} µs per round trip (host ${(ipiHostP50Us / pingPongUs).toFixed(0)}x, clocks off ${(ipiNoClocksHostP50Us / pingPongUs).toFixed(0)}x)${ipiVsNative}`);
results.ipi = { sendToAckP50Us: ipiP50Us, sendToAckHostP50Us: ipiHostP50Us, sendToAckHostP50UsClocksOff: ipiNoClocksHostP50Us, shootdowns: ipi.latency.summaries.ipiAckWait.count, rawPingPongUs: pingPongUs };

// (d)
const scaling: Record<string, Record<number, number>> = {};
const hostScaling: Record<string, Record<number, number>> = {};
for (const variant of ['legacy', 'rework']) {
  scaling[variant] = {};
  hostScaling[variant] = {};
  for (const cpus of [1, 2, 4, 8]) {
    const r = await run({ variant, workload: 'mix', cpus, mode: 'parallel', rounds: 5 });
    scaling[variant]![cpus] = r.opsPerSec;
    hostScaling[variant]![cpus] = r.host.opsPerSec;
    rows.push(`(d) parallel mix ${variant.padEnd(7)} ${cpus} cpus: ${r.opsPerSec} ops per model second, ${r.host.opsPerSec} per host second (${r.counters.ops} ops, ${r.host.elapsedMs.toFixed(0)} host ms)`);
  }
  rows.push(`(d) parallel mix ${variant.padEnd(7)} 8 cpus against 2 on ${availableParallelism()} host cores: ${(hostScaling[variant]![8]! / hostScaling[variant]![2]!).toFixed(2)}x host ops/s`);
}
results.opsPerSecByCpus = scaling;
results.hostOpsPerSecByCpus = hostScaling;
// mix does more per op with more cpus (each flush reaches more of them); page_fault1 with an mm per task does the same work per op at any count
const perMm: Record<string, number> = {};
for (const variant of ['legacy', 'rework']) {
  const at = async (cpus: number): Promise<number> => (await run({ variant, workload: 'page_fault1', cpus, mms: cpus, mode: 'parallel', rounds: 3 })).host.opsPerSec;
  const two = await at(2);
  const eight = await at(8);
  perMm[variant] = eight / two;
  rows.push(`(d) parallel page_fault1 ${variant.padEnd(7)} (an mm per task) 8 cpus against 2 on ${availableParallelism()} host cores: ${perMm[variant]!.toFixed(2)}x host ops/s (${eight.toFixed(0)} / ${two.toFixed(0)})`);
}
results.pageFault1HostScaling8Over2 = perMm;

// (e)
// runs of about a second each, on and off alternating, so a burst of host load hits both alike
const cost: Record<string, number> = { on: 0, off: 0 };
const STATS_ROUNDS = 5;
const STATS_MIX_ROUNDS = 100;
const mix = { variant: 'rework', workload: 'mix', cpus: 4, rounds: STATS_MIX_ROUNDS };
await run(mix); // warm up the JIT before either is timed
for (let i = 0; i < STATS_ROUNDS; i++) {
  for (const latencyStats of [true, false]) cost[latencyStats ? 'on' : 'off']! += (await run({ ...mix, latencyStats })).host.elapsedMs / STATS_ROUNDS;
}
const traced = { on: 0, off: 0 };
for (let i = 0; i < STATS_ROUNDS; i++) {
  for (const trace of [true, false]) traced[trace ? 'on' : 'off'] += (await run({ ...mix, trace, traceLimit: 10_000_000 })).host.elapsedMs / STATS_ROUNDS;
}
rows.push(`(f) tracing: ${traced.on.toFixed(0)} ms on, ${traced.off.toFixed(0)} ms off (deterministic mix): ${(traced.on / traced.off).toFixed(2)}x`);
results.traceCost = { msOn: traced.on, msOff: traced.off, slowdown: traced.on / traced.off };
rows.push(`(e) latency statistics: ${cost.on!.toFixed(0)} ms on, ${cost.off!.toFixed(0)} ms off (deterministic mix): ${((cost.on! / cost.off! - 1) * 100).toFixed(1)}% slower`);
results.statsCost = { msOn: cost.on, msOff: cost.off, slowdown: cost.on! / cost.off! };

// (g)
const perSec: Record<number, number[]> = { 1: [], 2: [] };
const CAMPAIGN_SEEDS = 300;
const WARM_SEEDS_PER_JOB = 10;
const campaignBase = makeConfig({ variant: 'rework', workload: 'munmap', pages: 300, clockSkew: 'none' });
for (const jobs of [1, 2, 1, 2]) {
  const pool = campaignPool(jobs);
  try {
    await runCampaign({ base: campaignBase, firstSeed: 1_000_001, seeds: WARM_SEEDS_PER_JOB * jobs, timeMs: Infinity, jobs, stopOnFirst: false, shard: null }, undefined, pool); // start and warm the workers
    perSec[jobs]!.push((await runCampaign({ base: campaignBase, firstSeed: 1, seeds: CAMPAIGN_SEEDS, timeMs: Infinity, jobs, stopOnFirst: false, shard: null }, undefined, pool)).seedsPerSec);
  } finally {
    await destroyPool(pool);
  }
}
const meanOf = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const jobs1 = meanOf(perSec[1]!);
const jobs2 = meanOf(perSec[2]!);
rows.push(`(g) hunt campaign (munmap, 300 pages, ${CAMPAIGN_SEEDS} seeds twice each): ${jobs1.toFixed(1)} seeds/s with 1 job, ${jobs2.toFixed(1)} with 2: ${(jobs2 / jobs1).toFixed(2)}x`);
results.campaignSeedsPerSec = { jobs1, jobs2, ratio: jobs2 / jobs1, rounds: perSec };

// (h)
const STRATEGY_SEEDS = 200;
const byStrategy: Record<string, number[]> = { random: [], pct: [] };
const strategyPool = campaignPool(2);
try {
  for (const strategy of ['random', 'pct', 'random', 'pct']) {
    const base = makeConfig({ variant: 'rework', workload: 'munmap', pages: 64, cpus: 3, strategy, clockSkew: 'none' });
    if (base.strategy.kind === 'pct') base.strategy.steps = pctHorizonSteps(base, 1);
    await runCampaign({ base, firstSeed: 1_000_001, seeds: 20, timeMs: Infinity, jobs: 2, stopOnFirst: false, shard: null }, undefined, strategyPool);
    byStrategy[strategy]!.push((await runCampaign({ base, firstSeed: 1, seeds: STRATEGY_SEEDS, timeMs: Infinity, jobs: 2, stopOnFirst: false, shard: null }, undefined, strategyPool)).seedsPerSec);
  }
} finally {
  await destroyPool(strategyPool);
}
const randomPerSec = meanOf(byStrategy.random!);
const pctPerSec = meanOf(byStrategy.pct!);
rows.push(`(h) hunt strategies (munmap, 64 pages, 3 cpus, ${STRATEGY_SEEDS} seeds twice each, 2 jobs): random ${randomPerSec.toFixed(1)} seeds/s, pct ${pctPerSec.toFixed(1)}: pct at ${(pctPerSec / randomPerSec).toFixed(2)}x`);
results.strategySeedsPerSec = { random: randomPerSec, pct: pctPerSec, ratio: pctPerSec / randomPerSec, rounds: byStrategy };

// (i)
const QUEUE_SEEDS = 1000;
const queue = await benchQueue(campaignBase, QUEUE_SEEDS);
rows.push(
  queue
    ? `(i) hunt campaign through Redis (munmap, 300 pages, ${QUEUE_SEEDS} seeds): 2 worker processes x 1 job ${queue.queueSeedsPerSec.toFixed(1)} seeds/s, local --jobs 2 ${queue.localSeedsPerSec.toFixed(1)}: ${queue.ratio.toFixed(2)}x`
    : '(i) hunt campaign through Redis: skipped, no redis-server on this machine',
);
results.queueCampaign = queue;

// (j)
results.modelTime = await modelTimeRows();

// (k)
const reduction: Record<string, unknown> = {};
const boundedScenarios: [string, RunOptions, number][] = [
  ['munmap, 1 cpu x 2 tasks, 16 pages, --reader-accesses 20, k=2', { workload: 'munmap', cpus: 1, tasksPerCpu: 2, pages: 16, readerAccesses: 20 }, 2],
  ['munmap, 1 cpu x 2 tasks, 16 pages, k=2', { workload: 'munmap', cpus: 1, tasksPerCpu: 2, pages: 16 }, 2],
  ['exit, 2 cpus, 4 pages, k=1', { workload: 'exit', cpus: 2, pages: 4 }, 1],
];
for (const [name, o, preemptions] of boundedScenarios) {
  const config = makeConfig({ variant: 'rework', kworker: false, ...o });
  const row: Record<string, { runs: number; cut: number; skipped: number; steps: number; seconds: number; violations: string[] }> = {};
  for (const reduce of [false, true]) {
    const t0 = performance.now();
    const r = exploreBounded(config, { preemptions, maxSchedules: 100_000, reduce });
    row[reduce ? 'reduced' : 'full'] = { runs: r.schedules, cut: r.redundant, skipped: r.skipped, steps: r.steps, seconds: (performance.now() - t0) / 1000, violations: r.groups.map((g) => g.rule) };
  }
  reduction[name] = row;
  const f = row.full!;
  const d = row.reduced!;
  rows.push(`(k) bounded rework ${name}: ${f.runs.toLocaleString('en-US')} runs, ${f.steps.toLocaleString('en-US')} steps, ${f.seconds.toFixed(1)} s without reduction; ${d.runs.toLocaleString('en-US')} runs (${d.cut} cut short, ${d.skipped} not run), ${d.steps.toLocaleString('en-US')} steps, ${d.seconds.toFixed(1)} s with it: ${(f.runs / d.runs).toFixed(1)}x fewer runs; found ${d.violations.join(', ') || 'nothing'} (without: ${f.violations.join(', ') || 'nothing'})`);
}
results.boundedReduction = reduction;

// (l)
const sharing: Record<string, Sharing> = {};
for (const [workload, o] of [['tlb_flush1', { rounds: 1 }], ['page_fault1', { rounds: 1 }], ['munmap', {}]] as const) {
  const s = runSharing(makeConfig({ variant: 'rework', workload, clockSkew: 'none', setupOnce: true, seed: 1, ...o }));
  sharing[workload] = s;
  const pct = (n: number, of: number): string => `${((100 * n) / of).toFixed(1)}%`;
  rows.push(`(l) shared steps, rework ${workload}${'rounds' in o ? ', 1 round' : ''}, seed 1, ${s.steps.toLocaleString('en-US')} steps: ${pct(s.taskShared, s.taskSteps)} of the tasks' steps touch a word another thread's step changes or change one it touches (${pct(s.taskSharedWithTasks, s.taskSteps)} with another task), and ${pct(s.schedShared, s.schedSteps)} of the cpus' interrupt and scheduler parts`);
}
results.sharedSteps = sharing;

mkdirSync('bench', { recursive: true });
writeFileSync('bench/results.json', JSON.stringify(results, null, 2) + '\n');
console.log(rows.join('\n'));
console.log('wrote bench/results.json');

/** (j): model figures against the machine, what the clocks cost, and how little the host moves them. */
async function modelTimeRows(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  // a munmap alone on one cpu: the op's model time is its zap, flushes and frees
  const PAGES = 4096;
  const alone = await run({ variant: 'rework', workload: 'munmap', pages: PAGES, cpus: 1, preempt: 'none', kworker: false });
  const modelNsPerPage = (alone.counters.opTimeUs * 1000) / PAGES;
  out.modelMunmapNsPerPage = modelNsPerPage;
  rows.push(`(j) model munmap of ${PAGES} pages on 1 cpu: ${modelNsPerPage.toFixed(0)} model ns/page${anchors ? ` against native ${anchors.munmap_ns_per_page.toFixed(0)} ns/page (${(modelNsPerPage / anchors.munmap_ns_per_page).toFixed(2)}x)` : ''}`);

  // the clocks on against off, alternating, deterministic and parallel
  const clockRuns = 3;
  const det = { variant: 'rework', workload: 'munmap', pages: 20000, preempt: 'none', cpus: 4, readerAccesses: 2000 };
  const par = { variant: 'rework', workload: 'mix', cpus: 2, mode: 'parallel', rounds: 20 };
  const spent = { detOn: 0, detOff: 0, parOn: 0, parOff: 0 };
  await run(det);
  for (let i = 0; i < clockRuns; i++) {
    for (const modelClocks of [true, false]) {
      const d = await run({ ...det, modelClocks });
      spent[modelClocks ? 'detOn' : 'detOff'] += d.host.runMs / d.steps; // per step: the runs' schedules differ with the clocks
      const p = await run({ ...par, modelClocks });
      spent[modelClocks ? 'parOn' : 'parOff'] += p.host.runMs / p.counters.ops;
    }
  }
  out.clocksCost = { deterministicPerStep: spent.detOn / spent.detOff, parallelPerOp: spent.parOn / spent.parOff };
  rows.push(`(j) model clocks on against off: deterministic ${(spent.detOn / spent.detOff).toFixed(2)}x host time per step (munmap 20000 pages, 4 cpus), parallel ${(spent.parOn / spent.parOff).toFixed(2)}x host time per op (mix, 2 cpus)`);

  // npm start's comparison, five times: its figures must not move with the host
  const start = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } }).scripts.start.split(/\s+/).slice(3);
  const flag = (name: string): string => start[start.indexOf(name) + 1]!;
  const startOptions: RunOptions = { mode: 'parallel', workload: flag('--workload'), pages: flag('--pages'), cpus: flag('--cpus'), tasksPerCpu: flag('--tasks-per-cpu'), probe: true };
  const FIGURES = { preemptOffMaxUs: (r: RunResult) => (r.latency.preemptOffMax?.ns ?? 0) / 1000, pteLockHoldP99Us: (r: RunResult) => r.latency.summaries.pteLockHold.p99Ns / 1000, probeP99Us: (r: RunResult) => r.latency.summaries.probeWakeup.p99Ns / 1000 };
  const spread: Record<string, Record<string, number[]>> = {};
  for (let i = 0; i < 5; i++) {
    for (const preempt of flag('--preempt').split(',')) {
      for (const variant of ['legacy', 'rework']) {
        const r = await run({ ...startOptions, preempt, variant });
        const col = (spread[`${variant} ${preempt}`] ??= {});
        for (const [k, f] of Object.entries(FIGURES)) (col[k] ??= []).push(f(r));
      }
    }
  }
  out.hostIndependence = spread;
  for (const [col, figs] of Object.entries(spread)) {
    rows.push(`(j) npm start x5, ${col.padEnd(12)}: ${Object.entries(figs).map(([k, v]) => `${k} ${Math.min(...v).toFixed(1)}-${Math.max(...v).toFixed(1)} (${(Math.max(...v) / Math.min(...v)).toFixed(2)}x)`).join(', ')}`);
  }

  // the same comparison under none in deterministic mode
  const agree: Record<string, Record<string, number>> = {};
  for (const variant of ['legacy', 'rework']) {
    const d = await run({ ...startOptions, mode: 'deterministic', preempt: 'none', variant });
    const p = spread[`${variant} none`]!;
    agree[variant] = Object.fromEntries(Object.entries(FIGURES).map(([k, f]) => [k, f(d) / p[k]![0]!]));
    rows.push(`(j) deterministic against parallel, ${variant} none: ${Object.entries(FIGURES).map(([k, f]) => `${k} ${f(d).toFixed(1)} against ${p[k]![0]!.toFixed(1)}`).join(', ')}`);
  }
  out.modeAgreement = agree;
  return out;
}

/** Two workers bounce a word through Atomics (spinning, no waits); returns µs per round trip. */
async function atomicsPingPong(rounds: number): Promise<number> {
  const sab = new SharedArrayBuffer(8);
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    const a = new Int32Array(workerData.sab);
    const me = workerData.me, rounds = workerData.rounds;
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) {
      const want = 2 * i + me;
      let spins = 0;
      while (Atomics.load(a, 0) !== want) { if (++spins > 1e9) throw new Error('ping-pong stuck'); }
      Atomics.store(a, 0, want + 1);
    }
    parentPort.postMessage(performance.now() - t0);`;
  const workers = [0, 1].map((me) => new Worker(code, { eval: true, workerData: { sab, me, rounds } }));
  const times = await Promise.all(workers.map((w) => new Promise<number>((resolve, reject) => w.once('message', resolve).once('error', reject))));
  await Promise.all(workers.map((w) => w.terminate()));
  return (Math.max(...times) * 1000) / rounds;
}
