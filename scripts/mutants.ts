// npm run mutants: hunt every mutant in the catalogue with three strategies
// and print per mutant whether each caught it, side by side:
// - random and pct: five campaigns each over disjoint seed ranges in the
//   scenario the mutant's declaration names (`huntWith`), each stopping at its
//   first failing seed, at the seed budget or at its time budget; the median
//   seeds to the first catch (with the five values). Caught: every campaign
//   caught it.
// - bounded: every schedule with at most k preemptions of a small scenario
//   (`huntWith` changed by the declaration's `boundedWith`, or the scenario
//   file it names, the kworker off),
//   for k = 0, 1, 2 in turn until one catches it; a k whose estimated space is
//   over the schedule budget is not run, since the bound would cut it short
//   anyway. Prints the k and the schedule of the first catch.
// A mutant some strategy does not catch is a hole in the oracles or in that
// strategy's reach. Exits 1 if any mutant escapes any strategy run.
//
// Flags (after `npm run mutants --`): --only a,b hunts only these mutants;
// --strategies random,pct,bounded runs only these strategies (bounded alone
// takes a minute or two, the campaigns most of an hour); --explore-setup
// explores the workloads' setup too, as hunt does with it.

import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import type { Piscina } from 'piscina';
import { VARIANTS } from '../src/gather/variants.ts';
import { makeConfig, type RunOptions } from '../src/engine/configure.ts';
import { campaignPool, pctHorizonSteps, runCampaign } from '../src/engine/campaign.ts';
import { estimateBoundedSpace, exploreBounded } from '../src/engine/bounded.ts';
import type { RunConfig, VariantTraits } from '../src/machine/config.ts';
import { destroyPool } from '../src/engine/worker-env.ts';
import { loadScenario } from '../src/scenario/load.ts';

const BUDGET = 10_000;
const CAMPAIGN_MS_MAX = 60_000;
const CAMPAIGNS = 5;
const PREEMPTIONS_MAX = 2;
const SCHEDULES_MAX = 20_000;
const STRATEGIES = ['random', 'pct', 'bounded'] as const;
type Strategy = (typeof STRATEGIES)[number];

const cli = new Command('mutants')
  .option('--only <names>', 'hunt only these mutants (comma-separated)')
  .option('--strategies <names>', 'run only these strategies (comma-separated)', STRATEGIES.join(','))
  .option('--explore-setup', "explore the workloads' setup in every seed and schedule, as hunt --explore-setup does (by default it runs once, at boot)")
  .exitOverride();
let opts: { only?: string; strategies: string; exploreSetup?: boolean };
try {
  opts = cli.parse(process.argv.slice(2), { from: 'user' }).opts();
} catch {
  process.exit(2);
}
const only = opts.only?.split(',').map((s) => s.trim()) ?? null;
const strategies = opts.strategies.split(',').map((s) => s.trim()) as Strategy[];
const mutants = VARIANTS.filter((v) => v.mutant && (only === null || only.includes(v.name)));
const unknown = [...(only ?? []).filter((n) => !mutants.some((v) => v.name === n)), ...strategies.filter((s) => !STRATEGIES.includes(s))];
if (unknown.length > 0 || mutants.length === 0) {
  process.stderr.write(`mutants: unknown mutant or strategy: ${unknown.join(', ') || '(none selected)'}\n`);
  process.exit(2);
}

const jobs = availableParallelism();
const setupOnce = opts.exploreSetup !== true;

interface Catches {
  firsts: number[];
  rules: Set<string>;
}

interface BoundedCatch {
  /** The bound and the schedule (counted from 1 at that bound) that first caught it, or null. */
  first: { preemptions: number; schedule: number } | null;
  schedules: number;
  rules: Set<string>;
  /** Why the search ended without a catch. */
  ending: string;
}

/** Five campaigns of `base` over disjoint seed ranges: the seeds to each first catch. */
async function hunt(base: RunConfig, p: Piscina): Promise<Catches> {
  const firsts: number[] = [];
  const rules = new Set<string>();
  for (let c = 0; c < CAMPAIGNS; c++) {
    const firstSeed = 1 + c * BUDGET;
    const r = await runCampaign({ base, firstSeed, seeds: BUDGET, timeMs: CAMPAIGN_MS_MAX, jobs, stopOnFirst: true, shard: null }, undefined, p);
    for (const g of r.groups) rules.add(g.rule);
    if (r.firstFailingSeed !== null) firsts.push(r.firstFailingSeed - firstSeed + 1);
  }
  firsts.sort((a, b) => a - b);
  return { firsts, rules };
}

async function huntCampaigns(v: VariantTraits, strategy: 'random' | 'pct', p: Piscina): Promise<Catches> {
  const base = makeConfig({ ...(v.huntWith as RunOptions), variant: v.name, strategy, clockSkew: 'none', setupOnce });
  if (base.strategy.kind === 'pct') base.strategy.steps = pctHorizonSteps(base, 1);
  return hunt(base, p);
}

/** Schedules of every k up to `preemptions`, stopping at the first that catches the mutant. */
function exploreUntilCaught(config: RunConfig, preemptions: number): { schedules: number; exhausted: boolean; caught: { schedule: number; rule: string } | null } {
  let caught: { schedule: number; rule: string } | null = null;
  const r = exploreBounded(config, { preemptions, maxSchedules: SCHEDULES_MAX, onViolation: (g, schedule) => {
    caught = { schedule, rule: g.rule };
    return true;
  } });
  return { schedules: r.schedules, exhausted: r.exhausted, caught };
}

/** The mutant's small scenario: `huntWith` changed by `boundedWith`, or the scenario file `boundedWith.scenario` names (from the project's root). */
function boundedScenario(v: VariantTraits): RunConfig {
  const { scenario, ...flags } = v.boundedWith;
  const options = typeof scenario === 'string' ? loadScenario(fileURLToPath(new URL(`../${scenario}`, import.meta.url))).options : { ...(v.huntWith as RunOptions), ...(flags as RunOptions) };
  return makeConfig({ kworker: false, setupOnce, ...options, variant: v.name, clockSkew: 'none' }); // a declaration may ask for its setup explored
}

/** Bounded exploration of the mutant's small scenario, k = 0, 1, 2 until a catch. */
function huntBounded(v: VariantTraits): BoundedCatch {
  const config = boundedScenario(v);
  let schedules = 0;
  let ending = `exhausted k <= ${PREEMPTIONS_MAX}`;
  for (let k = 0; k <= PREEMPTIONS_MAX; k++) {
    const space = estimateBoundedSpace(config, k);
    if (space.schedules > SCHEDULES_MAX) {
      ending = `k = ${k}: about ${Math.round(space.schedules)} schedules`;
      break;
    }
    const r = exploreUntilCaught(config, k);
    schedules += r.schedules;
    if (r.caught) return { first: { preemptions: k, schedule: r.caught.schedule }, schedules, rules: new Set([r.caught.rule]), ending: '' };
    if (!r.exhausted) ending = `k = ${k} not exhausted`;
  }
  return { first: null, schedules, rules: new Set(), ending };
}

function median(c: Catches | undefined): string {
  if (!c) return 'not run';
  const m = c.firsts.length ? String(c.firsts[Math.floor(c.firsts.length / 2)]) : '-';
  return `${m} [${c.firsts.join(', ')}]`;
}

function caughtText(c: Catches | BoundedCatch | undefined): string {
  if (!c) return '.';
  if ('firsts' in c) return c.firsts.length === CAMPAIGNS ? 'yes' : `no(${c.firsts.length}/${CAMPAIGNS})`;
  return c.first ? 'yes' : 'no';
}

function boundedText(b: BoundedCatch | undefined): string {
  if (!b) return 'not run';
  return b.first ? `k=${b.first.preemptions} schedule ${b.first.schedule} (${b.schedules} run)` : `- (${b.schedules} run; ${b.ending})`;
}

const HEAD = `${'mutant'.padEnd(24)}${'caught r/p/b'.padEnd(22)}${'random: seeds to first catch'.padEnd(36)}${'pct: seeds to first catch'.padEnd(36)}${'bounded: first catch'.padEnd(44)}${'seconds'.padStart(8)}  rules`;

/** One mutant under the chosen strategies: its row, and whether some strategy let it escape. */
async function huntMutant(v: VariantTraits, p: Piscina): Promise<{ row: string; escaped: boolean }> {
  const t0 = performance.now();
  const random = strategies.includes('random') ? await huntCampaigns(v, 'random', p) : undefined;
  const pct = strategies.includes('pct') ? await huntCampaigns(v, 'pct', p) : undefined;
  const bounded = strategies.includes('bounded') ? huntBounded(v) : undefined;
  const caught = [random, pct, bounded].map(caughtText);
  const rules = [...new Set([random, pct, bounded].flatMap((c) => [...(c?.rules ?? [])]))].sort().join(', ');
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  const row = `${v.name.padEnd(24)}${caught.join('/').padEnd(22)}${median(random).padEnd(36)}${median(pct).padEnd(36)}${boundedText(bounded).padEnd(44)}${secs.padStart(8)}  ${rules}`;
  return { row, escaped: caught.some((c) => c.startsWith('no')) };
}

const pool = campaignPool(jobs);
const rows: string[] = [HEAD];
const escapes: string[] = [];
try {
  console.log(HEAD);
  for (const v of mutants) {
    const { row, escaped } = await huntMutant(v, pool);
    rows.push(row);
    if (escaped) escapes.push(v.name);
    console.log(row);
  }
} finally {
  await destroyPool(pool);
}
console.log(`\n${rows.join('\n')}\n`);
console.log(`random, pct: budget ${BUDGET} seeds or ${CAMPAIGN_MS_MAX / 1000} s per campaign, ${CAMPAIGNS} campaigns per mutant and strategy, ${jobs} jobs; caught: every campaign caught it`);
console.log(`bounded: k = 0..${PREEMPTIONS_MAX} preemptions, at most ${SCHEDULES_MAX} schedules per k, a k over that estimated not run; the schedule counts from 1 at its k`);
console.log(escapes.length === 0 ? 'every mutant caught by every strategy run' : `escaped some strategy: ${escapes.join(', ')}`);
process.exitCode = escapes.length > 0 ? 1 : 0;
