// npm run mutants: hunt every mutant in the catalogue with a fixed budget, in
// the scenario its declaration names, five campaigns each over disjoint seed
// ranges, once with the random strategy and once with PCT, and print per
// mutant: caught, the median seeds to the first catch under each strategy
// side by side (with the five values), seconds, rules. A campaign stops at its
// first failing seed, at the seed budget, or at its time budget. A mutant
// that random scheduling does not catch in every campaign is a hole in the
// oracles. Exits 1 if any mutant escapes.

import { availableParallelism } from 'node:os';
import { VARIANTS } from '../src/gather/variants.ts';
import { makeConfig, type RunOptions } from '../src/engine/configure.ts';
import { campaignPool, pctHorizonSteps, runCampaign } from '../src/engine/campaign.ts';
import type { Piscina } from 'piscina';
import type { RunConfig } from '../src/machine/config.ts';
import { destroyPool } from '../src/engine/worker-env.ts';

const BUDGET = 10_000;
const CAMPAIGN_MS_MAX = 60_000;
const CAMPAIGNS = 5;
const STRATEGIES = ['random', 'pct'] as const;
const jobs = availableParallelism();
const pool = campaignPool(jobs);

interface Catches {
  firsts: number[];
  rules: Set<string>;
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

function median(c: Catches): string {
  const m = c.firsts.length ? String(c.firsts[Math.floor(c.firsts.length / 2)]) : '-';
  return `${m} [${c.firsts.join(', ')}]`;
}

const rows: string[] = [];
let escaped = 0;
try {
  rows.push(`${'mutant'.padEnd(22)}${'caught'.padEnd(8)}${'random: seeds to first catch'.padEnd(32)}${'pct: seeds to first catch'.padEnd(36)}${'seconds'.padStart(8)}  rules`);
  for (const v of VARIANTS.filter((x) => x.mutant)) {
    const t0 = performance.now();
    const by: Catches[] = [];
    for (const strategy of STRATEGIES) {
      const base = makeConfig({ ...(v.huntWith as RunOptions), variant: v.name, strategy, clockSkew: 'none' });
      if (base.strategy.kind === 'pct') base.strategy.steps = pctHorizonSteps(base, 1);
      by.push(await hunt(base, pool));
    }
    const [random, pct] = by as [Catches, Catches];
    const caught = random.firsts.length === CAMPAIGNS;
    if (!caught) escaped++;
    const rules = [...new Set([...random.rules, ...pct.rules])].sort().join(', ');
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    rows.push(`${v.name.padEnd(22)}${(caught ? 'yes' : `no (${random.firsts.length}/5)`).padEnd(8)}${median(random).padEnd(32)}${median(pct).padEnd(36)}${secs.padStart(8)}  ${rules}`);
    console.log(rows[rows.length - 1]);
  }
} finally {
  await destroyPool(pool);
}
console.log(`\n${rows.join('\n')}\n\nbudget ${BUDGET} seeds or ${CAMPAIGN_MS_MAX / 1000} s per campaign, ${CAMPAIGNS} campaigns per mutant and strategy, ${jobs} jobs; caught: random catches it in every campaign`);
process.exitCode = escaped > 0 ? 1 : 0;
