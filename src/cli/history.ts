// shootdown history: each race of the README's list on each design, and each
// mutant beside the design it came from, hunted with random seeds; with the
// costs of every design beside them. Exit 0 when every cell agrees with the
// kernel's history and every mutant is caught, 1 when one does not; Ctrl-C
// prints and writes what was measured.

import { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { BadInput } from '../machine/errors.ts';
import { campaignPool } from '../engine/campaign.ts';
import { parseDuration } from '../engine/configure.ts';
import { destroyPool } from '../engine/worker-env.ts';
import { RACES, REAL_DESIGNS, cellsPlanned, findDesign, mutantRows, runHistory, type HistoryOptions, type MutantRow, type RaceRow } from '../engine/history.ts';
import { cellText, historyFile, historyText } from '../report/history.ts';
import { writeHtmlReport } from '../report/html.ts';
import { checkOutputPath, writeJsonAtomic } from '../report/json.ts';
import { startProgress } from '../report/progress.ts';
import { interrupts, positiveInt, type Out } from './common.ts';

/** Enough for the races random seeds reach (each within a few dozen) while the default run stays a few minutes on two cores. */
const SEEDS_DEFAULT = 200;
/** A mutant stops at its first catch; the slowest random catch in the catalogue takes about 1,300 seeds. */
const MUTANT_SEEDS_DEFAULT = 2000;
const SEEDS_MAX = 100_000;
/** One campaign's clean seeds can be slow (a 4096-page munmap is over a second a seed): the cap keeps the default run to a few minutes, and a cut campaign shows the seeds it ran. */
const CAMPAIGN_TIME_DEFAULT = '60s';

function listFlag(flag: string, text: string): string[] {
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new BadInput(`${flag}: empty list`);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new BadInput(`${flag}: ${twice} is named twice`);
  return names;
}

function pickDesigns(text: string | undefined): string[] {
  if (text === undefined) return [...REAL_DESIGNS];
  const names = listFlag('--designs', text);
  const bad = names.find((n) => !findDesign(n));
  if (bad) throw new BadInput(`--designs: ${JSON.stringify(bad)} is not a real design (${REAL_DESIGNS.join(', ')})`);
  return names;
}

function pickRows(text: string | undefined): { races: RaceRow[]; mutants: MutantRow[] } {
  const mutants = mutantRows();
  if (text === undefined) return { races: [...RACES], mutants };
  const names = listFlag('--races', text);
  const known = [...RACES.map((r) => r.name), ...mutants.map((m) => m.name)];
  const bad = names.find((n) => !known.includes(n));
  if (bad) throw new BadInput(`--races: ${JSON.stringify(bad)} is neither a race (${RACES.map((r) => r.name).join(', ')}) nor a mutant (see list)`);
  return { races: RACES.filter((r) => names.includes(r.name)), mutants: mutants.filter((m) => names.includes(m.name)) };
}

function campaignMs(text: string): number {
  const ms = parseDuration('--campaign-time', text);
  if (ms < 1) throw new BadInput(`--campaign-time ${JSON.stringify(text)}: must be longer than 0`);
  return ms;
}

/** The command's flags as hunt options; bad input throws BadInput naming the flag. */
export function historyOptions(o: Record<string, string | undefined>): HistoryOptions {
  const { races, mutants } = pickRows(o.races);
  return {
    races,
    mutants,
    designs: pickDesigns(o.designs),
    seedsMax: o.seeds === undefined ? SEEDS_DEFAULT : positiveInt('--seeds', o.seeds, SEEDS_MAX),
    mutantSeedsMax: o.mutantSeeds === undefined ? MUTANT_SEEDS_DEFAULT : positiveInt('--mutant-seeds', o.mutantSeeds, SEEDS_MAX),
    jobs: o.jobs === undefined ? availableParallelism() : positiveInt('--jobs', o.jobs, 256),
    campaignMsMax: campaignMs(o.campaignTime!),
  };
}

export function registerHistory(program: Command, out: Out): void {
  program
    .command('history')
    .description("each race of the kernel's history on legacy, rework, v3.11, v4.15 and v6.18, and each mutant beside its design, with the costs of each design")
    .option('--seeds <n>', `random seeds per race and design, and for a mutant's base design (at most ${SEEDS_MAX})`, String(SEEDS_DEFAULT))
    .option('--mutant-seeds <n>', `random seeds for a mutant, which stops at its first catch (at most ${SEEDS_MAX})`, String(MUTANT_SEEDS_DEFAULT))
    .option('--campaign-time <duration>', 'the most one (row, design) campaign may take; a campaign cut short shows the seeds it ran', CAMPAIGN_TIME_DEFAULT)
    .option('--jobs <n>', 'worker threads (default: every core)')
    .option('--races <list>', `rows to run: races (${RACES.map((r) => r.name).join(', ')}) and mutants by name (default: all)`)
    .option('--designs <list>', `the designs the races run on (default: ${REAL_DESIGNS.join(',')}); mutants run on themselves and their base`)
    .option('--json <file>', 'write the tables and costs as JSON (shootdown report reads it)')
    .option('--html <file>', 'write the HTML report of the tables and costs')
    .action(async (o: Record<string, string | undefined>) => {
      const opts = historyOptions(o);
      if (o.json) checkOutputPath('--json', o.json);
      if (o.html) checkOutputPath('--html', o.html);
      out(`shootdown history: ${opts.races.length} races on ${opts.designs.join(', ')} (${opts.seedsMax} seeds each), ${opts.mutants.length} mutants (${opts.mutantSeedsMax} seeds) beside their designs, ${opts.jobs} jobs, random strategy`);
      const pool = campaignPool(opts.jobs);
      const progress = startProgress('history', cellsPlanned(opts));
      let result;
      try {
        result = await runHistory(opts, pool, interrupts.signal, (what, cell) => progress.tick(`${what} ${cellText(cell)}`));
      } finally {
        progress.stop();
        await destroyPool(pool);
      }
      const file = historyFile(result, opts);
      out(historyText(file));
      if (o.json) writeJsonAtomic(o.json, file);
      if (o.html) writeHtmlReport(o.html, [{ kind: 'history', file: o.json ?? 'history', data: file }]);
      process.exitCode = file.matches ? 0 : 1;
    });
}
