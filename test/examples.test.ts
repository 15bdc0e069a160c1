// Every example the README shows runs as it says. The file reads the README
// itself: each `npm run -s shootdown -- ...` (and `npx shootdown ...`, and
// `npm start`) line it shows, in a code block or inline, is run as the real
// CLI in a child process, in one scratch folder, in the README's order where
// a line reads a file an earlier one wrote; its exit code and verdict come
// from the EXPECTED table below, whose every row quotes the README words it
// rests on. A line with no row, and a row or a rewrite no line uses, fail
// the file, so a new example cannot go untested. Long lines run with the
// flags in REWRITES; lines that need root, Redis or minutes are SKIPPED, each
// with its reason. Then every examples/*.yaml runs through `run` under each
// real design it names, on a few seeds, and must be clean (or show only a
// race the README lists as the kernel's).

import { Command } from 'commander';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_TIMEOUT_MS, CliProcess, ROOT } from './cli-process.ts';
import { registerRun } from '../src/cli/run.ts';
import { loadScenario } from '../src/scenario/load.ts';
import { findVariant } from '../src/gather/variants.ts';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const PACKAGE_SCRIPTS = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
/** Lines at once: the machine has 2 cores, and each line is a process. */
const LINES_AT_ONCE = 2;
/** Seeds of each examples/*.yaml under each design, when the file sets none. */
const EXAMPLE_SEEDS = [1, 2];
const OUTPUT_FLAGS = ['--json', '--csv', '--trace', '--html', '--out'];
const DEFAULT_VARIANTS: Record<string, string> = { run: 'rework', hunt: 'rework', compare: 'legacy,rework', scale: 'legacy,rework' };

// ---- what the README says ----

/** A README line's words run together, so a quote may cross a line break. */
function prose(text: string): string {
  return text.replace(/\s+/g, ' ');
}

/** The scale CSV's header, as the README gives it. */
const SCALE_HEADER = /\(`(cpus,variant,[^`]+)`\)/.exec(README)?.[1] ?? 'the README gives no scale header';
const CLEAN_RUN = /^violations: none$/m;
const CLEAN_COMPARE = /^violations(\s+0)+$/m;
const REAL_DESIGNS_CLEAN = 'When an oracle fires on a real design, the model is kept as the kernel of the time was, and the race is listed here';

/** The rule an artifact file is named after: shootdown-VARIANT-WORKLOAD-RULE-seedN.json. */
function artifactRule(argv: string[]): string {
  return /-([A-Z][A-Z_]+)-(?:seed|bounded)\d/.exec(argv[1] ?? '')?.[1] ?? 'an artifact named after its rule';
}

interface Expectation {
  /** `verb variant` (the variant as the line gives it, or the command's default), or the verb alone. */
  key: string;
  /** Flags (with their values) the line must have for this row, over a row of the same key without them. */
  flags?: string[];
  exitCode: number;
  /** What stdout must hold (none when all it says goes to a file). */
  verdict?: RegExp | ((argv: string[]) => RegExp);
  /** A file the line writes, and what its text must hold. */
  file?: { flag: string; holds: RegExp };
  /** The README's own words the expectation rests on. */
  readme: string;
}

const EXPECTED: Expectation[] = [
  { key: 'list', exitCode: 0, verdict: /^ {2}free-before-flush +\[mutant\] /m, readme: 'declared with the bug it plants (`shootdown list`)' },
  { key: 'run legacy', exitCode: 0, verdict: CLEAN_RUN, readme: '`run` exits 0 when the run was clean' },
  { key: 'run rework', exitCode: 0, verdict: CLEAN_RUN, readme: '`run` exits 0 when the run was clean' },
  { key: 'run legacy', flags: ['--immap-lock', 'mutex'], exitCode: 1, verdict: /^ {2}SLEEP_IN_ATOMIC x\d+: mutex_lock/m, readme: '`--immap-lock mutex` reports `SLEEP_IN_ATOMIC` there' },
  { key: 'run free-before-flush', exitCode: 1, verdict: /^ {2}FREE_WHILE_REMOTE_TLB x\d+: /m, readme: '1 when an oracle fired' },
  { key: 'compare legacy,rework', exitCode: 0, verdict: CLEAN_COMPARE, readme: REAL_DESIGNS_CLEAN },
  { key: 'scale legacy,rework', exitCode: 0, file: { flag: '--csv', holds: new RegExp(`^${SCALE_HEADER}\n`) }, readme: `a will-it-scale-style CSV (\`${SCALE_HEADER}\`)` },
  { key: 'report', exitCode: 0, verdict: /^shootdown report: \d+ files -> \S+\.html$/m, file: { flag: '--html', holds: /^<!doctype html>/i }, readme: 'one self-contained HTML page from any mix of `run`, `compare` and `scale` JSON files' },
  { key: 'hunt no-ack-wait', exitCode: 1, verdict: /^found FREE_WHILE_REMOTE_TLB at seed \d+: /m, readme: 'a sender that does not wait for acks frees pages the target still maps' },
  { key: 'hunt free-before-flush', exitCode: 1, verdict: /^ {2}artifact: shootdown-free-before-flush-munmap-FREE_WHILE_REMOTE_TLB-seed1\.json$/m, readme: 'Every distinct violation is saved as an artifact' },
  { key: 'hunt rework', flags: ['--strategy', 'bounded'], exitCode: 0, verdict: /^\d+ schedules \(.*\) \(the space is exhausted\), .*; 0 distinct violations$/m, readme: 'says whether\nthe space was exhausted' },
  { key: 'hunt rework', flags: ['--strategy', 'bounded', '--preemptions', '2'], exitCode: 1, verdict: /^334 schedules \(.*\) \(the space is exhausted\), .*; 1 distinct violations\n {2}STALE_TLB_ACCESS /m, readme: 'munmap\'s space of 13,531 schedules is exhausted in 334 runs with `--explore-setup` (the same space), and the fast-mode race still found' },
  { key: 'history', exitCode: 0, verdict: /^fast-mode\s+29eb77825cc7\s+found@\d+\s+clean\/\d+\s+STALE_TLB_ACCESS$/m, file: { flag: '--html', holds: /^<!doctype html>/i }, readme: 'It exits 0 when every design shows the races its kernel had and no other' },
  { key: 'replay', exitCode: 1, verdict: (argv) => new RegExp(`^reproduced: ${artifactRule(argv)} at step \\d+$`, 'm'), readme: '`replay` reproduces it at the same step' },
  { key: 'shrink', exitCode: 0, verdict: (argv) => new RegExp(`^smallest: .*, ${artifactRule(argv)} at step \\d+ -> `, 'm'), readme: '`shrink` makes it smaller while the same rule fires' },
];

/** Lines this file does not run, and why. */
const SKIPPED: { match: RegExp; reason: string }[] = [
  { match: /^npm install\b/, reason: 'installs the dependencies' },
  { match: /^npm test\b/, reason: 'the whole suite, this file included' },
  { match: /\bkernel-check\b/, reason: 'needs root, tracefs, a C compiler and the host kernel (test/kernel-check.test.ts runs it where it can)' },
  { match: /--queue\b/, reason: 'needs a Redis server (test/queue.test.ts runs campaigns against one)' },
  { match: /^npm run queue-campaign\b/, reason: 'needs a Redis server, and restarts it halfway' },
  { match: /^npm run mutants\b/, reason: 'hunts every mutant with two strategies: minutes' },
  { match: /^npm run bench\b/, reason: 'measures this host natively: minutes' },
  { match: /^npm run soak\b/, reason: 'runs for the --minutes it is given' },
];

interface FlagRewrite {
  key: string;
  flag: string;
  /** The value the README gives; null when the README leaves the flag at its default. */
  from: string | null;
  to: string;
}

/** The only changes to a README line: what keeps this file within its minute. */
const REWRITES: FlagRewrite[] = [
  { key: 'compare legacy,rework', flag: '--pages', from: '4096', to: '1024' },
  { key: 'run rework', flag: '--duration', from: '10s', to: '1s' },
  { key: 'scale legacy,rework', flag: '--cpus', from: '1,2,4,8', to: '1,2' },
  { key: 'scale legacy,rework', flag: '--rounds', from: null, to: '2' },
  { key: 'hunt no-ack-wait', flag: '--seeds', from: '200', to: '10' },
  { key: 'hunt no-ack-wait', flag: '--jobs', from: null, to: '1' },
  { key: 'hunt free-before-flush', flag: '--seeds', from: '10', to: '2' },
  { key: 'hunt free-before-flush', flag: '--jobs', from: null, to: '1' },
  { key: 'shrink', flag: '--seeds', from: null, to: '10' },
  { key: 'history', flag: '--races', from: null, to: 'fast-mode' },
  { key: 'history', flag: '--designs', from: null, to: 'rework,v3.11' },
  { key: 'history', flag: '--seeds', from: null, to: '20' },
  { key: 'history', flag: '--jobs', from: null, to: '1' },
];

// ---- the README's lines ----

interface ReadmeLine {
  /** As the README shows it. */
  text: string;
  /** The shootdown command it runs, or null for an npm line of another kind. */
  argv: string[] | null;
}

/** Every npm or npx command the README shows, in order, once each. */
function readmeLines(readme: string): ReadmeLine[] {
  const texts = [...readme.matchAll(/(?:sudo )?np[mx] [^`\n]*/g)].flatMap((m) => m[0].split('&&').map((s) => s.trim()));
  return [...new Set(texts)].map((text) => ({ text, argv: shootdownArgv(text) }));
}

function shootdownArgv(text: string): string[] | null {
  const command = /^(?:sudo )?(?:npm run -s shootdown --|npx shootdown) (.*)$/.exec(text)?.[1] ?? (text === 'npm start' ? /^tsx src\/cli\.ts (.*)$/.exec(PACKAGE_SCRIPTS.start ?? '')?.[1] : undefined);
  return command === undefined ? null : command.trim().split(/\s+/);
}

/** The files a line reads: its arguments before the first flag. */
function inputsOf(argv: string[]): string[] {
  const firstFlag = argv.findIndex((a) => a.startsWith('--'));
  return argv.slice(1, firstFlag < 0 ? undefined : firstFlag);
}

/** A scenario file the checkout holds (examples/...); any other file a line reads, an earlier line writes. */
function inCheckout(file: string): boolean {
  return file.endsWith('.yaml') && existsSync(join(ROOT, file));
}

function flagValue(argv: string[], flag: string): string | undefined {
  const at = argv.indexOf(flag);
  return at < 0 ? undefined : argv[at + 1];
}

function keyOf(argv: string[]): string {
  const verb = argv[0]!;
  const scenario = inputsOf(argv).find((f) => f.endsWith('.yaml'));
  const variant = flagValue(argv, '--variant') ?? flagValue(argv, '--variants') ?? (scenario ? loadScenario(join(ROOT, scenario)).variants?.join(',') : undefined) ?? DEFAULT_VARIANTS[verb];
  return variant === undefined ? verb : `${verb} ${variant}`;
}

function hasFlags(argv: string[], flags: string[]): boolean {
  for (let i = 0; i < flags.length; i += 2) if (flagValue(argv, flags[i]!) !== flags[i + 1]) return false;
  return true;
}

/** The most specific row for a line: its key, and the most of its flags. */
function expectationFor(argv: string[]): Expectation | undefined {
  const key = keyOf(argv);
  const rows = EXPECTED.filter((e) => e.key === key && hasFlags(argv, e.flags ?? []));
  return rows.sort((a, b) => (b.flags?.length ?? 0) - (a.flags?.length ?? 0))[0];
}

function rewrite(argv: string[]): { argv: string[]; applied: FlagRewrite[] } {
  const out = [...argv];
  const applied = REWRITES.filter((r) => r.key === keyOf(argv) && flagValue(argv, r.flag) === (r.from ?? undefined));
  for (const r of applied) {
    if (r.from === null) out.push(r.flag, r.to);
    else out[out.indexOf(r.flag) + 1] = r.to;
  }
  return { argv: out, applied };
}

// ---- running them ----

interface LineOutcome {
  argv: string[];
  status: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}

/** Jobs, at most `slots` at once. */
function limiter(slots: number): <T>(job: () => Promise<T>) => Promise<T> {
  let free = slots;
  const waiting: (() => void)[] = [];
  return async (job) => {
    if (free > 0) free--;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await job();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}

async function runLine(cwd: string, argv: string[]): Promise<LineOutcome> {
  const t0 = performance.now();
  const p = new CliProcess(cwd, argv);
  const timer = setTimeout(() => void p.end('SIGKILL'), CLI_TIMEOUT_MS);
  const { status } = await p.done;
  clearTimeout(timer);
  return { argv, status, stdout: p.out, stderr: p.err, wallMs: performance.now() - t0 };
}

function describeOutcome(o: LineOutcome): string {
  return `shootdown ${o.argv.join(' ')}\nexit ${o.status} after ${(o.wallMs / 1000).toFixed(1)} s\n--- stderr ---\n${o.stderr}\n--- stdout ---\n${o.stdout}`;
}

const lines = readmeLines(README);
const runnable = lines.filter((l) => l.argv !== null && !SKIPPED.some((s) => s.match.test(l.text)));

let dir = '';
const outcomes = new Map<number, Promise<LineOutcome>>();
const slot = limiter(LINES_AT_ONCE);

/** A line's run, started once: after every earlier line when it reads a file one of them wrote. */
function outcomeOf(index: number): Promise<LineOutcome> {
  const started = outcomes.get(index);
  if (started) return started;
  const line = runnable[index]!;
  const argv = rewrite(line.argv!).argv;
  const readsWritten = inputsOf(argv).some((f) => !inCheckout(f));
  const earlier = readsWritten ? Promise.allSettled(runnable.slice(0, index).map((_, i) => outcomeOf(i))) : Promise.resolve([]);
  const outcome = earlier.then(() => {
    for (const f of inputsOf(argv)) if (!existsSync(join(dir, f))) throw new Error(`${line.text}: no line before it in the README writes ${f}`);
    return slot(() => runLine(dir, argv));
  });
  outcomes.set(index, outcome);
  return outcome;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shootdown-examples-'));
  symlinkSync(join(ROOT, 'examples'), join(dir, 'examples')); // a line names examples/ as it would in the checkout
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the README, read', () => {
  it('shows the lines this file knows: every shootdown line has an expectation or a reason to be skipped, and every row is used', () => {
    expect(runnable.length).toBeGreaterThan(15);
    const unknown = lines.filter((l) => !SKIPPED.some((s) => s.match.test(l.text)) && (l.argv === null || !expectationFor(l.argv))).map((l) => l.text);
    expect(unknown, 'README lines with no row in EXPECTED or SKIPPED').toEqual([]);
    const used = new Set(runnable.map((l) => expectationFor(l.argv!)));
    expect(EXPECTED.filter((e) => !used.has(e)).map((e) => e.key), 'EXPECTED rows no README line uses').toEqual([]);
    expect(SKIPPED.filter((s) => !lines.some((l) => s.match.test(l.text))).map((s) => s.reason), 'SKIPPED rows no README line uses').toEqual([]);
  });

  it('says what each expectation rests on, in its own words', () => {
    const missing = EXPECTED.filter((e) => !prose(README).includes(prose(e.readme))).map((e) => `${e.key}: ${e.readme}`);
    expect(missing).toEqual([]);
  });

  it('has its long lines shortened only by the flags in REWRITES, every row of it used', () => {
    const rewritten = runnable.map((l) => ({ text: l.text, ...rewrite(l.argv!) }));
    expect(REWRITES.filter((r) => !rewritten.some((l) => l.applied.includes(r))), 'REWRITES rows no README line uses').toEqual([]);
    for (const l of rewritten) {
      const changed = l.argv.filter((a, i) => a.startsWith('--') && flagValue(l.argv, a) !== flagValue(shootdownArgv(l.text)!, a) && l.argv.indexOf(a) === i);
      expect(changed.sort(), l.text).toEqual(l.applied.map((r) => r.flag).sort());
    }
  });
});

describe('each README line runs as the README says', () => {
  for (const [i, line] of runnable.entries()) {
    it.concurrent(line.text, async () => {
      const o = await outcomeOf(i);
      const why = describeOutcome(o);
      const e = expectationFor(line.argv!)!;
      console.log(`${(o.wallMs / 1000).toFixed(1).padStart(5)} s  exit ${o.status}  shootdown ${o.argv.join(' ')}`);
      expect(o.wallMs, why).toBeLessThan(CLI_TIMEOUT_MS);
      expect(o.status, why).toBe(e.exitCode);
      if (e.verdict) expect(o.stdout, why).toMatch(typeof e.verdict === 'function' ? e.verdict(o.argv) : e.verdict);
      expect(o.stderr, why).not.toContain('    at ');
      for (const flag of OUTPUT_FLAGS) {
        const file = flagValue(o.argv, flag);
        if (file !== undefined) expect(existsSync(join(dir, file)), `${flag} ${file} written\n${why}`).toBe(true);
      }
      if (e.file) expect(readFileSync(join(dir, flagValue(o.argv, e.file.flag)!), 'utf8'), why).toMatch(e.file.holds);
    }, 3 * CLI_TIMEOUT_MS);
  }
  for (const line of lines.filter((l) => !runnable.includes(l))) {
    const reason = SKIPPED.find((s) => s.match.test(line.text))?.reason ?? 'no shootdown command';
    it.skip(`${line.text} (skipped: ${reason})`, () => {});
  }
});

// ---- examples/*.yaml ----

/** Races the README lists as the kernel's that an example shows under a real design: file, design, rule. */
const EXAMPLE_KERNEL_RACES: { file: string; variant: string; rule: string; readme: string }[] = [];

/** `run` in this process (no process start per run), its lines and exit code. */
async function runInProcess(argv: string[]): Promise<{ exitCode: number; stdout: string }> {
  const printed: string[] = [];
  const program = new Command('shootdown').exitOverride();
  registerRun(program, (s) => printed.push(s));
  const before = process.exitCode;
  try {
    process.exitCode = undefined;
    await program.parseAsync(argv, { from: 'user' });
    return { exitCode: Number(process.exitCode ?? 0), stdout: printed.join('\n') };
  } finally {
    process.exitCode = before;
  }
}

describe('every examples/*.yaml runs clean under the real designs it names', () => {
  const files = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.yaml')).sort();
  it('there are examples to run, and every race the table allows is one the README lists', () => {
    expect(files.length).toBeGreaterThan(10);
    for (const race of EXAMPLE_KERNEL_RACES) {
      expect(files).toContain(race.file);
      expect(prose(README)).toContain(prose(race.readme));
    }
  });
  for (const file of files) {
    it(file, async () => {
      const path = join(ROOT, 'examples', file);
      const scenario = loadScenario(path);
      expect(scenario.options.mode ?? 'deterministic', 'an example for deterministic runs').toBe('deterministic');
      const designs = (scenario.variants ?? ['rework']).filter((v) => findVariant(v)?.mutant !== true);
      expect(designs.length, `${file} names a real design`).toBeGreaterThan(0);
      const seeds = scenario.options.seed === undefined ? EXAMPLE_SEEDS : [Number(scenario.options.seed)];
      for (const variant of designs) {
        const allowed = EXAMPLE_KERNEL_RACES.filter((r) => r.file === file && r.variant === variant).map((r) => r.rule);
        for (const seed of seeds) {
          const argv = ['run', path, '--variant', variant, ...(scenario.options.seed === undefined ? ['--seed', String(seed)] : [])];
          const r = await runInProcess(argv);
          const rules = [...r.stdout.matchAll(/^ {2}([A-Z][A-Z_]+) x\d+: /gm)].map((m) => m[1]!);
          const why = `shootdown ${argv.join(' ')}: exit ${r.exitCode}\n${r.stdout}`;
          expect(rules.filter((rule) => !allowed.includes(rule)), why).toEqual([]);
          expect(r.exitCode, why).toBe(rules.length > 0 ? 1 : 0);
          if (rules.length === 0) expect(r.stdout, why).toMatch(CLEAN_RUN);
        }
      }
    });
  }
});
