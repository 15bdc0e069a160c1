// shootdown history as a user meets it: the race table for a few rows (fast
// mode in rework and not from v3.11, the nested MADV_DONTNEED miss until
// 4.15, a mutant beside its base design), its history file read back by the
// report and drawn in headless Chromium, Ctrl-C keeping what was measured,
// and bad input refused in one line. The processes run side by side and with
// small budgets: the verdicts come from the same classification at any budget.

import { launchBrowser } from './browser.ts';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VARIANTS, findVariant } from '../src/gather/variants.ts';
import { RACES, REAL_DESIGNS, baseDesignOf, cellOf, kernelRacesOf, mutantRows, mutantTrips, verdictOf } from '../src/engine/history.ts';
import type { CampaignResult } from '../src/engine/campaign.ts';
import { loadReportInputs } from '../src/report/html.ts';
import type { HistoryFile } from '../src/report/history.ts';
import { CliProcess, ROOT, cliAsync, describeRun, oneLine, type CliRun } from './cli-process.ts';
import { historyOptions } from '../src/cli/history.ts';
import { BadInput } from '../src/machine/errors.ts';

const BROWSER_TIMEOUT_MS = 60_000;

/** The cells of a race row in the terminal table, by design. */
function rowCells(stdout: string, race: string, designs: string[]): Record<string, string> {
  const line = stdout.split('\n').find((l) => l.startsWith(`${race} `));
  if (!line) throw new Error(`no row for ${race} in\n${stdout}`);
  const cells = line.trim().split(/\s{2,}/).slice(2, 2 + designs.length);
  return Object.fromEntries(designs.map((d, i) => [d, cells[i]!]));
}

const DESIGNS = ['rework', 'v3.11', 'v4.15'];

/** A history run stopped with SIGINT once its first campaign is under way (its costs take two short runs first). */
async function interrupted(file: string): Promise<{ status: number | null; out: string; err: string }> {
  const p = new CliProcess(ROOT, ['history', '--races', 'lost-write', '--designs', 'v6.18', '--seeds', '100000', '--jobs', '1', '--json', file]);
  await p.waitFor(/^shootdown history:/m);
  await new Promise((r) => setTimeout(r, INTERRUPT_AFTER_MS));
  await p.end('SIGINT');
  const { status } = await p.done;
  return { status, out: p.out, err: p.err };
}
const INTERRUPT_AFTER_MS = 4000;

describe('shootdown history', () => {
  let dir: string;
  let run: CliRun;
  let stopped: Awaited<ReturnType<typeof interrupted>>;
  let bad: CliRun[];
  const json = (): string => join(dir, 'history.json');
  const stoppedJson = (): string => join(dir, 'stopped.json');

  // the processes run side by side: the table, a run stopped by Ctrl-C, and two bad inputs
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shootdown-history-'));
    [run, stopped, ...bad] = await Promise.all([
      cliAsync('history', '--races', 'fast-mode,nested-dontneed,no-nested-flush', '--designs', DESIGNS.join(','), '--seeds', '20', '--mutant-seeds', '100', '--jobs', '2', '--json', json()),
      interrupted(stoppedJson()),
      cliAsync('history', '--seeds', '0'),
      cliAsync('history', '--designs', 'v5.0'),
    ]);
  }, 90_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('fast mode: found in rework, clean from v3.11; the nested DONTNEED miss: found in rework and v3.11, clean in v4.15; exit 0', () => {
    const why = describeRun(run);
    expect(run.status, why).toBe(0);
    const fast = rowCells(run.stdout, 'fast-mode', DESIGNS);
    expect(fast.rework, why).toMatch(/^found@\d+$/);
    expect(fast['v3.11'], why).toBe('clean/20');
    expect(fast['v4.15'], why).toBe('clean/20');
    const nested = rowCells(run.stdout, 'nested-dontneed', DESIGNS);
    expect(nested.rework, why).toMatch(/^found@\d+$/);
    expect(nested['v3.11'], why).toMatch(/^found@\d+$/);
    expect(nested['v4.15'], why).toBe('clean/20');
    expect(run.stdout).toMatch(/^no-nested-flush\s+v6\.18\s+found@\d+\s+clean\/20\s+TLB_AFTER_RETURN$/m);
    expect(run.stdout).toContain('every design matches');
    // the costs, per design and preemption model
    expect(run.stdout).toMatch(/^rework\s+none\s+\d+\.\d\d\s+\d+\.\d\d\s+[\d.]+\s+\S+/m);
  });

  it('writes a history file the report reads, with every cell classified', () => {
    const [input] = loadReportInputs([json()]);
    if (input?.kind !== 'history') throw new Error(`read as ${input?.kind}`);
    const f: HistoryFile = input.data;
    expect(f.designs).toEqual(DESIGNS);
    expect(f.matches).toBe(true);
    expect(f.mismatches).toEqual([]);
    const fast = f.races.find((r) => r.name === 'fast-mode')!;
    expect(fast.fix).toBe('29eb77825cc7');
    expect(fast.cells.map((c) => c.verdict)).toEqual(['has-it', 'clean', 'clean']);
    expect(fast.cells[0]!.rule).toBe('STALE_TLB_ACCESS');
    expect(f.races.find((r) => r.name === 'nested-dontneed')!.fix).toBe('99baac21e458');
    const mutant = f.mutants.find((m) => m.name === 'no-nested-flush')!;
    expect(mutant.baseDesign).toBe('v6.18');
    expect([mutant.mutantCell.verdict, mutant.baseCell.verdict]).toEqual(['has-it', 'clean']);
    expect(f.costs.designs.map((c) => `${c.design} ${c.preempt}`)).toEqual(DESIGNS.flatMap((d) => [`${d} full`, `${d} none`]));
  });

  it(
    'shootdown report draws it in headless Chromium: the race table, the mutants and the costs, with no errors and no network',
    async () => {
      const html = join(dir, 'report.html');
      const r = await cliAsync('report', json(), '--html', html);
      expect(r.status, describeRun(r)).toBe(0);
      const browser = await launchBrowser();
      try {
        const page = await browser.newPage();
        const problems: string[] = [];
        page.on('pageerror', (e) => problems.push(e.message));
        page.on('console', (m) => (m.type() === 'error' ? problems.push(m.text()) : undefined));
        page.on('request', (q) => (q.url().startsWith('file:') || q.url().startsWith('data:') ? undefined : problems.push(q.url())));
        await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
        const facts = await page.evaluate(() => ({
          heads: [...document.querySelectorAll('table.history thead th')].map((th) => th.textContent),
          fast: [...document.querySelectorAll('table.history tr[data-race="fast-mode"] td.cell')].map((td) => [td.textContent, td.getAttribute('data-verdict')]),
          mutant: [...document.querySelectorAll('table.history-mutants tr[data-mutant="no-nested-flush"] td.cell')].map((td) => td.getAttribute('data-verdict')),
          costs: document.querySelectorAll('table.history-costs tbody tr').length,
        }));
        expect(problems).toEqual([]);
        expect(facts.heads).toEqual(expect.arrayContaining(['race', 'fixed by', ...DESIGNS]));
        expect(facts.fast.map(([, v]) => v)).toEqual(['has-it', 'clean', 'clean']);
        expect(facts.fast[0]![0]).toMatch(/^found@\d+$/);
        expect(facts.mutant).toEqual(['has-it', 'clean']);
        expect(facts.costs).toBe(DESIGNS.length * 2);
      } finally {
        await browser.close();
      }
    },
    BROWSER_TIMEOUT_MS,
  );

  it('Ctrl-C stops the campaign under way, prints the table with what was measured, writes the file and exits 130', () => {
    expect(stopped.status, stopped.err).toBe(130);
    expect(stopped.out).toMatch(/^lost-write\s+\S+\s+stopped\/\d+/m);
    expect(stopped.out).toContain('stopped after');
    expect(existsSync(stoppedJson())).toBe(true);
    const f = JSON.parse(readFileSync(stoppedJson(), 'utf8')) as HistoryFile;
    expect(f.stopped).toBe(true);
    expect(f.matches).toBe(false);
    expect(f.races[0]!.cells[0]!.verdict).toBe('not-run');
  });

  it('bad input exits 2 with one line naming the flag', () => {
    expect(bad.map((r) => r.status)).toEqual([2, 2]);
    expect(oneLine(bad[0]!)).toContain('--seeds');
    expect(oneLine(bad[1]!)).toContain('--designs');
  });
});

describe('the flags, refused with a BadInput naming each', () => {
  const cases: [Record<string, string>, string][] = [
    [{ seeds: '1000001' }, '--seeds'],
    [{ mutantSeeds: 'x' }, '--mutant-seeds'],
    [{ designs: 'free-before-flush' }, '--designs'],
    [{ designs: 'rework,rework' }, '--designs'],
    [{ races: 'nope' }, '--races'],
    [{ races: ',' }, '--races'],
    [{ jobs: '0' }, '--jobs'],
    [{ campaignTime: 'soon' }, '--campaign-time'],
    [{ campaignTime: '0s' }, '--campaign-time'],
  ];
  for (const [flags, flag] of cases) {
    it(JSON.stringify(flags), () => {
      const o = { seeds: '200', mutantSeeds: '2000', campaignTime: '60s', ...flags };
      expect(() => historyOptions(o)).toThrow(BadInput);
      expect(() => historyOptions(o)).toThrow(flag);
    });
  }
  it('the defaults: every race and mutant on the five designs', () => {
    const o = historyOptions({ seeds: '200', mutantSeeds: '2000', campaignTime: '60s' });
    expect(o.designs).toEqual(['legacy', 'rework', 'v3.11', 'v4.15', 'v6.18']);
    expect(o.races.map((r) => r.name)).toEqual(RACES.map((r) => r.name));
    expect(o.mutants).toHaveLength(VARIANTS.filter((v) => v.mutant).length);
    expect(o.campaignMsMax).toBe(60_000);
  });
});

describe('the rows', () => {
  it('every race names its commit, rule and the designs whose kernel had it, all real designs', () => {
    for (const r of RACES) {
      expect(r.fix, r.name).not.toBe('');
      expect(r.rules.length, r.name).toBeGreaterThan(0);
      for (const d of r.had) expect(REAL_DESIGNS, r.name).toContain(d);
    }
    expect(RACES.find((r) => r.name === 'lost-write')!.had).toEqual(['legacy', 'rework', 'v3.11', 'v4.15']);
  });

  it('every mutant of the catalogue has a row, with the rules it trips and the design it was derived from', () => {
    const rows = mutantRows();
    expect(rows.map((r) => r.name)).toEqual(VARIANTS.filter((v) => v.mutant).map((v) => v.name));
    for (const v of VARIANTS.filter((x) => x.mutant)) expect(mutantTrips(v.name)?.rules.length, v.name).toBeGreaterThan(0);
    expect(baseDesignOf(findVariant('free-before-flush')!)).toBe('rework');
    expect(baseDesignOf(findVariant('legacy-preemptible')!)).toBe('legacy');
    expect(baseDesignOf(findVariant('no-nested-flush')!)).toBe('v6.18');
    expect(baseDesignOf(findVariant('rmap-before-flush')!)).toBe('v6.18');
  });

  it('verdicts: a race reached only by hand is "not reached" when random seeds miss it, never "clean"; another rule first is unexpected', () => {
    expect(verdictOf('none', true, 'by-hand')).toBe('not-reached');
    expect(verdictOf('none', true, 'random')).toBe('missed');
    expect(verdictOf('none', false, 'by-hand')).toBe('clean');
    expect(verdictOf('found', false, 'random')).toBe('unexpected');
    const campaign = (rule: string | null): CampaignResult => ({
      seedsRun: 7,
      seedsPerSec: 1,
      elapsedMs: 1,
      groups: rule ? [{ rule, location: rule, seed: 7, detail: 'd', step: 1, count: 1 }] : [],
      errors: [],
      firstFailingSeed: rule ? 7 : null,
      stoppedEarly: rule !== null,
      coverage: [],
      neverPreempted: [],
    });
    const lostWrite = { rules: ['LOST_WRITE'], expected: true, reach: 'by-hand' as const, known: [] };
    expect(cellOf('v4.15', campaign(null), 7, lostWrite, false)).toMatchObject({ outcome: 'none', verdict: 'not-reached' });
    expect(cellOf('rework', campaign('PAGE_LEAK'), 7, lostWrite, false)).toMatchObject({ outcome: 'other', rule: 'PAGE_LEAK', seed: 7, verdict: 'unexpected' });
    expect(cellOf('rework', campaign('LOST_WRITE'), 7, lostWrite, false)).toMatchObject({ outcome: 'found', seed: 7, verdict: 'has-it' });
    // a mutant's base on a scenario that also reaches a race of its own kernel: that kernel's race, not a mismatch
    const base = { rules: ['BAD_PAGE_MAP'], expected: false, reach: 'random' as const, known: kernelRacesOf('rework', 4) };
    expect(cellOf('rework', campaign('TLB_AFTER_RETURN'), 7, base, false)).toMatchObject({ outcome: 'known', knownRace: 'nested-dontneed', verdict: 'kernel-race' });
    expect(cellOf('v6.18', campaign('TLB_AFTER_RETURN'), 7, { ...base, known: kernelRacesOf('v6.18', 4) }, false)).toMatchObject({ outcome: 'other', verdict: 'unexpected' });
    // stopped by Ctrl-C before its seeds ran: not run, whatever it would have found
    expect(cellOf('v6.18', { ...campaign(null), seedsRun: 3 }, 7, base, true)).toMatchObject({ outcome: 'not-run', verdict: 'not-run' });
  });
});
