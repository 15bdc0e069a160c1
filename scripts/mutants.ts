// npm run mutants: hunt every mutant in the catalogue with a fixed budget, in
// the scenario its declaration names, five campaigns each over disjoint seed
// ranges, and print: mutant, caught, seeds to the first catch (median of the
// five), seconds. A mutant no oracle catches within the budget is a hole in
// the oracles. Exits 1 if any mutant escapes.

import { availableParallelism } from 'node:os';
import { VARIANTS } from '../src/gather/variants.ts';
import { makeConfig, type RunOptions } from '../src/engine/configure.ts';
import { campaignPool, runCampaign } from '../src/engine/campaign.ts';

const BUDGET = 10_000;
const CAMPAIGNS = 5;
const jobs = availableParallelism();
const pool = campaignPool(jobs);
const rows: string[] = [];
let escaped = 0;
try {
  rows.push(`${'mutant'.padEnd(22)}${'caught'.padEnd(8)}${'seeds to first catch (median of 5)'.padEnd(38)}${'seconds'.padStart(8)}  rules`);
  for (const v of VARIANTS.filter((x) => x.mutant)) {
    const base = makeConfig({ ...(v.huntWith as RunOptions), variant: v.name });
    const t0 = performance.now();
    const firsts: number[] = [];
    const rules = new Set<string>();
    for (let c = 0; c < CAMPAIGNS; c++) {
      const firstSeed = 1 + c * BUDGET;
      const r = await runCampaign({ base, firstSeed, seeds: BUDGET, timeMs: Infinity, jobs, stopOnFirst: true, shard: null }, undefined, pool);
      for (const g of r.groups) rules.add(g.rule);
      if (r.firstFailingSeed !== null) firsts.push(r.firstFailingSeed - firstSeed + 1);
    }
    const caught = firsts.length === CAMPAIGNS;
    if (!caught) escaped++;
    firsts.sort((a, b) => a - b);
    const median = firsts.length ? String(firsts[Math.floor(firsts.length / 2)]) : '-';
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    rows.push(`${v.name.padEnd(22)}${(caught ? 'yes' : `no (${firsts.length}/5)`).padEnd(8)}${`${median}  [${firsts.join(', ')}]`.padEnd(38)}${secs.padStart(8)}  ${[...rules].sort().join(', ')}`);
    console.log(rows[rows.length - 1]);
  }
} finally {
  await pool.destroy();
}
console.log(`\n${rows.join('\n')}\n\nbudget ${BUDGET} seeds per campaign, ${CAMPAIGNS} campaigns per mutant, ${jobs} jobs`);
process.exitCode = escaped > 0 ? 1 : 0;
