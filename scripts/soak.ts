// npm run soak -- --minutes M: random scenarios (the fast-check arbitraries
// of test/arbitraries.ts) against legacy and rework, in deterministic and in
// parallel mode, until the time is up. Reports runs, operations and
// violations per variant and mode; every failure is written as a scenario
// file with the command that reproduces it. Real variants must stay at zero.
// Ctrl-C ends the soak early with its report.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import fc from 'fast-check';
import { makeConfig } from '../src/engine/configure.ts';
import { runOnce } from '../src/engine/run.ts';
import { parseScenario } from '../src/scenario/load.ts';
import { scenarioArb, scenarioYaml } from '../test/arbitraries.ts';

const VARIANTS = ['legacy', 'rework'] as const;
const MODES = ['deterministic', 'parallel'] as const;

const cli = new Command('soak')
  .option('--minutes <m>', 'how long to soak', '10')
  .option('--seed <n>', 'the first scenario seed', '1')
  .option('--out <dir>', 'where failing scenarios go', 'soak-failures')
  .exitOverride();
let opts: { minutes: string; seed: string; out: string };
try {
  opts = cli.parse(process.argv.slice(2), { from: 'user' }).opts();
} catch {
  process.exit(2);
}
const minutes = Number(opts.minutes);
const firstSeed = Number(opts.seed);
if (!(minutes > 0) || !Number.isInteger(firstSeed) || firstSeed < 1) {
  process.stderr.write(`soak: --minutes must be a positive number and --seed a positive integer\n`);
  process.exit(2);
}

interface Tally {
  runs: number;
  ops: number;
  steps: number;
  violations: number;
  errors: number;
}
const tally = new Map<string, Tally>();
for (const v of VARIANTS) for (const m of MODES) tally.set(`${v} ${m}`, { runs: 0, ops: 0, steps: 0, violations: 0, errors: 0 });
const failures: string[] = [];
let stopping = false;
process.on('SIGINT', () => {
  if (stopping) process.exit(130);
  stopping = true;
  process.stderr.write('soak: stopping after this run (Ctrl-C again quits at once)\n');
});

const endMs = Date.now() + minutes * 60_000;
let scenarios = 0;
for (let seed = firstSeed; Date.now() < endMs && !stopping; seed++) {
  const [g] = fc.sample(fc.noBias(scenarioArb), { seed, numRuns: 1 });
  const yaml = scenarioYaml(g!, `soak-${seed}`);
  const sc = parseScenario(`soak-${seed}.yaml`, yaml);
  scenarios++;
  for (const mode of MODES) {
    for (const variant of VARIANTS) {
      if (stopping) break;
      // 2.6.38 never had the i_mmap mutex: its non-preemptible gather would sleep in atomic context (a known, modelled fact)
      const immapLock = variant === 'legacy' ? 'spinlock' : sc.options.immapLock;
      const r = await runOnce(makeConfig({ ...sc.options, variant, mode, seed, immapLock, lockupMs: 10_000 }));
      const t = tally.get(`${variant} ${mode}`)!;
      t.runs++;
      t.ops += r.counters.ops;
      t.steps += r.steps;
      t.violations += r.violations.length;
      if (r.error && r.error.name !== 'Interrupted') t.errors++;
      if (r.violations.length > 0 || (r.error && r.error.name !== 'Interrupted')) {
        mkdirSync(opts.out, { recursive: true });
        const file = join(opts.out, `soak-${seed}-${variant}-${mode}.yaml`);
        const asRun = yaml.replace(/immapLock: \w+/, `immapLock: ${immapLock}`).replace(/^name:/m, `# ${variant} ${mode}: ${r.violations[0]?.rule ?? r.error?.name}: ${r.violations[0]?.detail ?? r.error?.message}\nname:`);
        writeFileSync(file, asRun);
        const line = `${variant} ${mode} seed ${seed}: ${r.violations[0]?.rule ?? r.error?.name}: ${r.violations[0]?.detail ?? r.error?.message}\n  reproduce: npm run -s shootdown -- run ${file} --variant ${variant} --mode ${mode} --seed ${seed}`;
        failures.push(line);
        process.stdout.write(`${line}\n`);
      }
    }
  }
  if (scenarios % 25 === 0) process.stdout.write(`soak: ${scenarios} scenarios, ${Math.round((endMs - Date.now()) / 1000)} s left\n`);
}

process.stdout.write(`\nsoak: ${scenarios} random scenarios in ${minutes} min (seeds ${firstSeed}..${firstSeed + scenarios - 1})\n`);
process.stdout.write(`${'variant, mode'.padEnd(26)}${'runs'.padStart(8)}${'ops'.padStart(10)}${'steps'.padStart(14)}${'violations'.padStart(12)}${'errors'.padStart(8)}\n`);
for (const [k, t] of tally) process.stdout.write(`${k.padEnd(26)}${String(t.runs).padStart(8)}${String(t.ops).padStart(10)}${String(t.steps).padStart(14)}${String(t.violations).padStart(12)}${String(t.errors).padStart(8)}\n`);
process.stdout.write(failures.length === 0 ? 'no violations\n' : `${failures.length} failing runs; scenarios in ${opts.out}/\n`);
process.exitCode = failures.length === 0 ? (stopping ? 130 : 0) : 1;
