// The HTML report as a reader meets it: real deterministic runs written as
// run, compare and scale files, read back with loadReportInputs, written with
// writeHtmlReport, and opened in headless Chromium, where every plot must have
// drawn, nothing may fail, and nothing may be fetched. Bad files are refused
// with one BadInput line naming the file.

import { launchBrowser } from './browser.ts';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfig } from '../src/engine/configure.ts';
import { runOnce } from '../src/engine/run.ts';
import { RESULT_SCHEMA, type RunResult } from '../src/engine/result.ts';
import { BadInput } from '../src/machine/errors.ts';
import type { CompareFile, ScaleFile } from '../src/report/formats.ts';
import { loadReportInputs, renderHtmlReport, writeHtmlReport } from '../src/report/html.ts';
import { writeJsonAtomic } from '../src/report/json.ts';
import { scaleRows } from '../src/report/scale.ts';

const BROWSER_TIMEOUT_MS = 60_000;

function munmapRun(variant: string, cpus: number): Promise<RunResult> {
  return runOnce(makeConfig({ variant, workload: 'munmap', pages: 512, cpus, probe: true }));
}

/** The BadInput that loading `files` throws; fails the test when loading succeeds or throws anything else. */
function refusal(files: string[]): BadInput {
  try {
    loadReportInputs(files);
  } catch (e) {
    expect(e).toBeInstanceOf(BadInput);
    return e as BadInput;
  }
  throw new Error(`loadReportInputs accepted ${files.join(', ')}`);
}

/** What the page reports about itself once loaded. */
interface PageFacts {
  plotsRendered: unknown;
  canvases: { plot: string; width: number; height: number; blank: boolean }[];
  compareRows: { variant: string; files: string }[];
  scaleRows: number;
  violationsText: string;
  lockClasses: string[];
}

describe('html report', () => {
  let dir: string;
  let files: { compare: string; legacy: string; rework: string; scale: string };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shootdown-report-'));
    const legacy2 = await munmapRun('legacy', 2);
    const rework2 = await munmapRun('rework', 2);
    const legacy1 = await munmapRun('legacy', 1);
    const rework1 = await munmapRun('rework', 1);
    files = { compare: join(dir, 'compare.json'), legacy: join(dir, 'legacy.json'), rework: join(dir, 'rework.json'), scale: join(dir, 'scale.json') };
    const compare: CompareFile = { schema: RESULT_SCHEMA, command: 'compare', results: [legacy2, rework2] };
    const scaleResults = [legacy1, rework1, legacy2, rework2];
    const scale: ScaleFile = { schema: RESULT_SCHEMA, command: 'scale', workload: 'munmap', rows: scaleRows(scaleResults), results: scaleResults };
    writeJsonAtomic(files.compare, compare);
    writeJsonAtomic(files.legacy, legacy2);
    writeJsonAtomic(files.rework, rework2);
    writeJsonAtomic(files.scale, scale);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    'draws every plot in headless Chromium, with no errors and no network',
    async () => {
      const inputs = loadReportInputs([files.compare, files.legacy, files.rework, files.scale]);
      expect(inputs.map((i) => i.kind)).toEqual(['compare', 'run', 'run', 'scale']);
      const html = join(dir, 'report.html');
      writeHtmlReport(html, inputs);
      expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);

      const browser = await launchBrowser();
      try {
        const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
        const consoleErrors: string[] = [];
        const pageErrors: string[] = [];
        const fetched: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') consoleErrors.push(m.text());
        });
        page.on('pageerror', (e) => pageErrors.push(e.message));
        page.on('request', (r) => {
          if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) fetched.push(r.url());
        });
        await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });

        const facts: PageFacts = await page.evaluate(() => {
          const canvases = [...document.querySelectorAll<HTMLCanvasElement>('canvas[data-plot]')].map((c) => {
            const blank = document.createElement('canvas');
            blank.width = c.width;
            blank.height = c.height;
            return { plot: c.getAttribute('data-plot') ?? '', width: c.width, height: c.height, blank: c.toDataURL() === blank.toDataURL() };
          });
          const compareRows = [...document.querySelectorAll('table.compare tbody tr')].map((tr) => ({
            variant: tr.querySelector('.variant')?.textContent ?? '',
            files: [...tr.querySelectorAll('.files')].map((f) => f.textContent ?? '').join(' '),
          }));
          const scaleRows = document.querySelectorAll('table.scale tbody tr').length;
          const violationsText = [...document.querySelectorAll('h2')].find((h) => h.textContent?.includes('Violations'))?.parentElement?.textContent ?? '';
          const lockClasses = [...document.querySelectorAll('table.lockstat tr.class')].map((tr) => tr.children[0]?.textContent ?? '');
          return { plotsRendered: (window as unknown as { __plotsRendered?: unknown }).__plotsRendered, canvases, compareRows, scaleRows, violationsText, lockClasses };
        });

        expect(pageErrors).toEqual([]);
        expect(consoleErrors).toEqual([]);
        expect(fetched).toEqual([]);
        expect(facts.canvases.length).toBeGreaterThan(0);
        expect(facts.plotsRendered).toBe(facts.canvases.length);
        for (const c of facts.canvases) {
          expect(c.width, c.plot).toBeGreaterThan(0);
          expect(c.height, c.plot).toBeGreaterThan(0);
          expect(c.blank, `${c.plot} is blank`).toBe(false);
        }
        // The two run files hold the same runs as the compare file: each is shown once, naming both files.
        expect(facts.compareRows.map((r) => r.variant).sort()).toEqual(['legacy', 'rework']);
        for (const row of facts.compareRows) expect(row.files).toContain('compare.json');
        // Two variants at 1 and 2 cpus; every run is clean.
        expect(facts.scaleRows).toBe(4);
        expect(facts.violationsText).toMatch(/\bnone\b/);

        const shot = join(dir, 'report.png');
        await page.screenshot({ path: shot, fullPage: true });
        expect(statSync(shot).size).toBeGreaterThan(0);

        // Last: lock_stat on results is still being wired into every run path.
        expect(facts.lockClasses).toContain('ptlock_ptr(page)');
      } finally {
        await browser.close();
      }
    },
    BROWSER_TIMEOUT_MS,
  );

  it('merges the shards of a hunt campaign: seeds add up, each violation keeps its lowest first seed', () => {
    const shard = (index: number, seed: number, count: number) => {
      const file = join(dir, `hunt-${index}.json`);
      writeJsonAtomic(file, {
        schema: RESULT_SCHEMA,
        command: 'hunt',
        variant: 'no-ack-wait',
        workload: 'munmap',
        strategy: { kind: 'random' },
        shard: { index, count: 2 },
        seedsRun: 500,
        found: true,
        violations: [{ rule: 'FREE_WHILE_REMOTE_TLB', location: 'FREE_WHILE_REMOTE_TLB frame # freed', seed, count, detail: `frame ${seed} freed` }],
      });
      return file;
    };
    const html = renderHtmlReport(loadReportInputs([shard(1, 7, 3), shard(2, 4, 5)]));
    const row = /<tr data-hunt="no-ack-wait \/ munmap \/ random"><td>[^<]*<\/td><td class="num">(\d+)<\/td><td>([^<]*)<\/td>/.exec(html)!;
    expect(row[1]).toBe('1000');
    expect(row[2]).toBe('1/2, 2/2');
    expect(html).toContain('<td class="num">8</td><td>first seed 4</td><td>FREE_WHILE_REMOTE_TLB</td>');
  });

  it('escapes text taken from the inputs', () => {
    const [input] = loadReportInputs([files.legacy]);
    if (input?.kind !== 'run') throw new Error('legacy.json was not read as a run');
    const hostile = '</script><b id="injected">x</b>';
    const result: RunResult = { ...input.result, variant: hostile, violations: [{ rule: 'PAGE_LEAK', cpu: 0, task: 0, mm: 0, address: -1, frame: -1, variant: hostile, seed: 1, step: 3, detail: hostile }] };
    const page = renderHtmlReport([{ kind: 'run', file: 'evil<i>.json', result }]);
    expect(page).not.toContain('<b id="injected">');
    expect(page).not.toContain('<i>.json');
    expect(page).toContain('&lt;b id=&quot;injected&quot;&gt;');
    expect(page).toContain('PAGE_LEAK');
  });

  it('reads a run without lock statistics and says so', () => {
    const run = JSON.parse(readFileSync(files.legacy, 'utf8')) as Record<string, unknown>;
    delete run.lockStat;
    const file = join(dir, 'no-lockstat.json');
    writeFileSync(file, JSON.stringify(run));
    const [input] = loadReportInputs([file]);
    if (input?.kind !== 'run') throw new Error('no-lockstat.json was not read as a run');
    expect(input.result.lockStat).toEqual([]);
    expect(renderHtmlReport([input])).toContain('no lock statistics');
  });

  it('refuses a missing file, a file that is not JSON, and JSON that is not a result, naming the file', () => {
    const missing = join(dir, 'missing.json');
    const notJson = join(dir, 'not-json.json');
    const notResult = join(dir, 'not-result.json');
    const brokenRun = join(dir, 'broken-run.json');
    writeFileSync(notJson, 'hello, {world\n');
    writeFileSync(notResult, JSON.stringify({ hello: 'world' }));
    const run = JSON.parse(readFileSync(files.legacy, 'utf8')) as Record<string, unknown>;
    delete run.latency;
    writeFileSync(brokenRun, JSON.stringify(run));

    const cases: [string, RegExp][] = [
      [missing, /cannot read/],
      [notJson, /not JSON/],
      [notResult, /not a shootdown run, compare, scale, hunt or history file/],
      [brokenRun, /not a valid run result: latency/],
    ];
    for (const [file, what] of cases) {
      const e = refusal([files.legacy, file]);
      expect(e.message).toContain(`report: ${file}: `);
      expect(e.message).toMatch(what);
      expect(e.message).not.toContain('\n');
    }
    expect(refusal([]).message).toMatch(/no result files/);
  });
});
