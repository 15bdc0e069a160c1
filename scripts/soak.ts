// npm run soak -- --minutes M: random scenarios (the fast-check arbitraries
// of test/arbitraries.ts) against legacy and rework, in deterministic and in
// parallel mode, until the time is up. Reports runs, operations and
// violations per variant and mode; every failure is written as a scenario
// file with the command that reproduces it. Real variants must stay at zero.
// Beside them, each seed draws a tiny scenario (tinyScenarioArb: 1 or 2
// cpus, 1 or 2 tasks each, a few pages, no kworker) and explores it
// with bounded (every schedule with at most one preemption, at most 300) on
// every real design: random schedules reach a narrow window by luck, bounded
// ones reach every single-preemption window of a small case. A violation there
// that is one of the kernel races the README lists is counted under its
// name; any other violation, a SOFT_LOCKUP or a schedule cut short at its
// step budget is a failure, written out like the others.
// Ctrl-C ends the soak early with its report.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import fc from 'fast-check';
import { makeConfig } from '../src/engine/configure.ts';
import { runOnce } from '../src/engine/run.ts';
import { parseScenario } from '../src/scenario/load.ts';
import { exploreBounded } from '../src/engine/bounded.ts';
import { kernelRacesOf } from '../src/engine/history.ts';
import { scenarioArb, scenarioYaml, tinyScenarioArb, type GeneratedScenario } from '../test/arbitraries.ts';

const VARIANTS = ['legacy', 'rework'] as const;
const MODES = ['deterministic', 'parallel'] as const;
const REAL_DESIGNS = ['legacy', 'rework', 'v3.11', 'v4.15', 'v6.18'] as const;
const BOUNDED_PREEMPTIONS = 1;
const BOUNDED_SCHEDULES_MAX = 300;

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

interface BoundedTally {
  explorations: number;
  schedules: number;
  /** Violations that are none of the listed kernel races. */
  violations: number;
  /** Violations that are a listed kernel race, by its name. */
  races: Map<string, number>;
  lockups: number;
  pastLimit: number;
}
const bounded: BoundedTally = { explorations: 0, schedules: 0, violations: 0, races: new Map(), lockups: 0, pastLimit: 0 };

/** The kernel race of the README's list (history's table) this violation is, for its design and machine; null if none. */
function listedRace(variant: string, rule: string, sc: GeneratedScenario): string | null {
  return kernelRacesOf(variant, sc.cpus).find((r) => r.rules.includes(rule))?.name ?? null;
}

function writeFailure(file: string, yaml: string, why: string, line: string): void {
  mkdirSync(opts.out, { recursive: true });
  writeFileSync(file, yaml.replace(/^name:/m, `# ${why}\nname:`));
  failures.push(line);
  process.stdout.write(`${line}\n`);
}

/** Bounded exploration of the seed's tiny scenario on every real design. */
function exploreTiny(seed: number): void {
  const [g] = fc.sample(fc.noBias(tinyScenarioArb), { seed, numRuns: 1 });
  const name = `soak-bounded-${seed}`;
  const sc = parseScenario(`${name}.yaml`, scenarioYaml(g!, name));
  for (const variant of REAL_DESIGNS) {
    if (stopping) return;
    // 2.6.38 had no i_mmap mutex, 3.0 on have no spinlock; only rework's is the scenario's choice
    const immapLock = variant === 'legacy' ? 'spinlock' : variant === 'rework' ? sc.options.immapLock : 'mutex';
    const r = exploreBounded(makeConfig({ ...sc.options, variant, immapLock, clockSkew: 'none' }), { preemptions: BOUNDED_PREEMPTIONS, maxSchedules: BOUNDED_SCHEDULES_MAX });
    bounded.explorations++;
    bounded.schedules += r.schedules;
    bounded.pastLimit += r.pastLimit;
    const bad: string[] = r.pastLimit > 0 ? [`${r.pastLimit} schedules past their step budget`] : [];
    for (const v of r.groups) {
      const race = v.rule === 'SOFT_LOCKUP' ? null : listedRace(variant, v.rule, g!);
      if (race) bounded.races.set(race, (bounded.races.get(race) ?? 0) + v.count);
      else if (v.rule === 'SOFT_LOCKUP') bounded.lockups += v.count;
      else bounded.violations += v.count;
      if (!race) bad.push(`${v.rule} in schedule ${v.seed}: ${v.detail}`);
    }
    if (bad.length === 0) continue;
    const file = join(opts.out, `${name}-${variant}.yaml`);
    const yaml = scenarioYaml(g!, name).replace(/immapLock: \w+/, `immapLock: ${immapLock}`);
    writeFailure(file, yaml, `${variant} bounded: ${bad[0]}`, `${variant} bounded seed ${seed}: ${bad[0]}\n  reproduce: npm run -s shootdown -- hunt ${file} --strategy bounded --variant ${variant} --preemptions ${BOUNDED_PREEMPTIONS} --max-schedules ${BOUNDED_SCHEDULES_MAX}`);
  }
}

function reportBounded(): void {
  process.stdout.write(`\nbounded (k = ${BOUNDED_PREEMPTIONS}, at most ${BOUNDED_SCHEDULES_MAX} schedules, tiny scenarios on ${REAL_DESIGNS.join(', ')}):\n`);
  process.stdout.write(`  explorations ${bounded.explorations}, schedules ${bounded.schedules}\n`);
  process.stdout.write(`  violations ${bounded.violations}, SOFT_LOCKUPs ${bounded.lockups}, past their step budget ${bounded.pastLimit} (each must be 0)\n`);
  process.stdout.write(`  listed kernel races: ${bounded.races.size === 0 ? 'none' : [...bounded.races].map(([race, n]) => `${race}: ${n}`).join('; ')}\n`);
}

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
  exploreTiny(seed);
  if (scenarios % 25 === 0) process.stdout.write(`soak: ${scenarios} scenarios, ${Math.round((endMs - Date.now()) / 1000)} s left\n`);
}

process.stdout.write(`\nsoak: ${scenarios} random scenarios in ${minutes} min (seeds ${firstSeed}..${firstSeed + scenarios - 1})\n`);
process.stdout.write(`${'variant, mode'.padEnd(26)}${'runs'.padStart(8)}${'ops'.padStart(10)}${'steps'.padStart(14)}${'violations'.padStart(12)}${'errors'.padStart(8)}\n`);
for (const [k, t] of tally) process.stdout.write(`${k.padEnd(26)}${String(t.runs).padStart(8)}${String(t.ops).padStart(10)}${String(t.steps).padStart(14)}${String(t.violations).padStart(12)}${String(t.errors).padStart(8)}\n`);
reportBounded();
process.stdout.write(failures.length === 0 ? 'no violations\n' : `${failures.length} failing runs; scenarios in ${opts.out}/\n`);
process.exitCode = failures.length === 0 ? (stopping ? 130 : 0) : 1;
