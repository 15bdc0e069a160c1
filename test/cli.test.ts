// The command line as a user meets it: the real CLI in a child process.
// Exit codes: 0 clean, 1 violation, 2 bad input with one `shootdown: ` line
// naming the flag on stderr and never a stack trace.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ARGV, ROOT, cli, cliAsync, describeRun } from './cli-process.ts';

interface BadCase {
  name: string;
  args: string[];
  /** What the one stderr line must name: the flag, or the unknown command. */
  names: string | RegExp;
}

const BAD_INPUT: BadCase[] = [
  { name: 'unknown variant', args: ['run', '--variant', 'nope'], names: '--variant' },
  { name: 'unknown workload', args: ['run', '--workload', 'nope'], names: '--workload' },
  { name: '--cpus 0', args: ['run', '--cpus', '0'], names: '--cpus' },
  { name: '--cpus 99 (more than the machine allows)', args: ['run', '--cpus', '99'], names: '--cpus' },
  { name: '--pages -1', args: ['run', '--pages', '-1'], names: '--pages' },
  { name: '--pages 0', args: ['run', '--pages', '0'], names: '--pages' },
  { name: '--pages abc', args: ['run', '--pages', 'abc'], names: '--pages' },
  { name: 'non-numeric --seed', args: ['run', '--seed', 'x1'], names: '--seed' },
  { name: '--memory too small to hold the workload', args: ['run', '--memory', '1M', '--pages', '4096'], names: '--memory' },
  { name: '--memory banana', args: ['run', '--memory', 'banana'], names: '--memory' },
  { name: '--preempt sometimes', args: ['run', '--preempt', 'sometimes'], names: '--preempt' },
  { name: '--mode turbo', args: ['run', '--mode', 'turbo'], names: '--mode' },
  { name: '--alloc-fail 1.5', args: ['run', '--alloc-fail', '1.5'], names: '--alloc-fail' },
  { name: '--tlb-entries 6 (not a multiple of the ways)', args: ['run', '--tlb-entries', '6'], names: '--tlb-entries' },
  { name: '--json into a missing folder', args: ['run', '--json', '/nonexistent-dir/x.json'], names: '--json' },
  { name: 'unknown flag', args: ['run', '--bogus'], names: '--bogus' },
  { name: '--tasks-per-cpu 0', args: ['run', '--tasks-per-cpu', '0'], names: '--tasks-per-cpu' },
  { name: '--mms more than there are tasks', args: ['run', '--cpus', '2', '--mms', '3'], names: '--mms' },
  { name: '--immap-lock rwlock', args: ['run', '--immap-lock', 'rwlock'], names: '--immap-lock' },
  { name: '--duration soon', args: ['run', '--duration', 'soon'], names: '--duration' },
  { name: 'mix with more tasks in one mm than it has mappings', args: ['run', '--workload', 'mix', '--cpus', '8', '--tasks-per-cpu', '3'], names: '--tasks-per-cpu' },
  { name: 'unknown command', args: ['frobnicate'], names: 'frobnicate' },
  { name: '--trace into a missing folder', args: ['run', '--trace', '/nonexistent-dir/t.json'], names: '--trace' },
  { name: 'conflicting flags: a PCT schedule in parallel mode', args: ['run', '--strategy', 'pct', '--mode', 'parallel'], names: '--strategy' },
  { name: 'the scenario workload without a file', args: ['run', '--workload', 'scenario'], names: '--workload' },
  { name: 'pressure over two address spaces', args: ['run', '--workload', 'pressure', '--cpus', '2', '--mms', '2'], names: '--mms' },
  // The flag the user typed is --variants; accept the message naming it or its singular.
  { name: 'compare with an unknown variant', args: ['compare', '--variants', 'nope'], names: /--variants?\b/ },
  { name: 'a queue campaign with --shard (the queue splits the seeds)', args: ['hunt', '--queue', 'redis://127.0.0.1:1/0', '--shard', '1/2'], names: '--shard' },
  { name: '--campaign without --queue', args: ['hunt', '--campaign', 'x-1'], names: '--campaign' },
  { name: 'a queue URL that is not redis://', args: ['hunt', '--queue', 'ftp://127.0.0.1/'], names: '--queue' },
  { name: 'a queue URL with a query string', args: ['worker', '--queue', 'redis://127.0.0.1/0?tls=1'], names: '--queue' },
  { name: 'worker --lock-ms below what a lock can be renewed in', args: ['worker', '--queue', 'redis://127.0.0.1:1/0', '--lock-ms', '10'], names: '--lock-ms' },
  { name: 'worker without --queue', args: ['worker'], names: '--queue' },
];

describe('bad input: exit 2, one line naming the flag, no stack trace', () => {
  for (const c of BAD_INPUT) {
    it.concurrent(`${c.name}: shootdown ${c.args.join(' ')}`, async () => {
      const r = await cliAsync(...c.args);
      const why = describeRun(r);
      expect(r.status, why).toBe(2);
      expect(r.stderr.endsWith('\n'), why).toBe(true);
      const lines = r.stderr.replace(/\n$/, '').split('\n');
      expect(lines, why).toHaveLength(1);
      const line = lines[0]!;
      expect(line.trim(), why).not.toBe('');
      expect(line.startsWith('shootdown: '), why).toBe(true);
      if (typeof c.names === 'string') expect(line, why).toContain(c.names);
      else expect(line, why).toMatch(c.names);
      expect(r.stderr, why).not.toContain('    at ');
      expect(r.stdout, why).not.toContain('    at ');
    });
  }
});

describe('list', () => {
  it('exits 0 and names every variant, workload and oracle rule', () => {
    const r = cli('list');
    const why = describeRun(r);
    expect(r.status, why).toBe(0);
    const words = new Set(r.stdout.split(/\s+/));
    for (const variant of ['legacy', 'rework', 'rework-seed', 'free-before-flush', 'no-ack-wait']) {
      expect(words.has(variant), `variant ${variant}\n${why}`).toBe(true);
    }
    for (const workload of ['munmap', 'exit', 'madvise']) {
      expect(words.has(workload), `workload ${workload}\n${why}`).toBe(true);
    }
    for (const rule of [
      'STALE_TLB_ACCESS',
      'FREE_WHILE_REMOTE_TLB',
      'TLB_AFTER_RETURN',
      'DOUBLE_FREE',
      'PAGE_LEAK',
      'RSS_MISMATCH',
      'SLEEP_IN_ATOMIC',
      'LOCK_NOT_OWNER',
      'SOFT_LOCKUP',
      'mix',
    ]) {
      expect(words.has(rule), `rule ${rule}\n${why}`).toBe(true);
    }
  });
});

/** Resolves once process `pid` has used `cpuMs` of cpu time (utime + stime in /proc, 100 Hz ticks), within 60 s of wall time: progress, not a guess at how slow the host is. */
async function usedCpu(pid: number, cpuMs: number): Promise<void> {
  for (let waitedMs = 0; waitedMs < 60_000; waitedMs += 100) {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    if ((Number(fields[11]) + Number(fields[12])) * 10 >= cpuMs) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`process ${pid} used less than ${cpuMs} ms of cpu in a minute`);
}

describe('run', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'shootdown-cli-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('rework on 2 cpus is clean and writes a JSON result', () => {
    const file = join(dir, 'rework.json');
    const r = cli('run', '--variant', 'rework', '--pages', '100', '--cpus', '2', '--json', file);
    const why = describeRun(r);
    expect(r.status, why).toBe(0);
    const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(json.schema).toBe(3);
    expect(json.variant).toBe('rework');
    expect(json.mode).toBe('deterministic');
    expect(json).toHaveProperty('seed');
    expect(json).toHaveProperty('config');
    expect(json.violations).toEqual([]);
    const counters = json.counters as Record<string, unknown>;
    expect(counters).toBeTypeOf('object');
    for (const key of [
      'gatherFlushes',
      'ipisSent',
      'pagesFreed',
      'pageTablesFreed',
      'pteLockAcquisitions',
      'flushesUnderPteLock',
      'pagesFreedUnderPteLock',
      'maxPagesFreedInOnePteLockHold',
      'batchAllocFailures',
      'rssBefore',
      'rssAfter',
    ]) {
      expect(counters, `counters.${key}`).toHaveProperty(key);
      expect(counters[key], `counters.${key}`).toBeTypeOf('number');
    }
    expect(counters.pagesFreed).toBe(100);
    expect((counters.rssBefore as number) - (counters.rssAfter as number)).toBe(100);
  });

  it('a cpu that throws ends a parallel run with exit 1, the error, and what the other cpus measured', () => {
    const file = join(dir, 'crash.json');
    const t0 = performance.now();
    const r = cli('run', '--workload', 'mix', '--mode', 'parallel', '--cpus', '4', '--crash', '1:2000', '--json', file);
    const wallMs = performance.now() - t0;
    const why = describeRun(r);
    expect(r.status, why).toBe(1);
    expect(r.stdout, why).toContain('error: Error: injected crash on cpu 1 at its step 2000');
    const json = JSON.parse(readFileSync(file, 'utf8')) as { error: { message: string }; totals: { userAccesses: number }; threads: number };
    expect(json.error.message).toBe('injected crash on cpu 1 at its step 2000');
    expect(json.totals.userAccesses).toBeGreaterThan(0); // partial results from every cpu, the crashed one included
    expect(json.threads).toBe(Math.min(4, availableParallelism()));
    console.log(`crashed run ended after ${wallMs.toFixed(0)} ms of wall time, process start included`);
  });

  it('scale writes a will-it-scale CSV: a row per cpu count and variant, linear from the smallest count; no progress bar off a terminal', () => {
    const file = join(dir, 'scale.csv');
    const r = cli('scale', '--cpus', '1,2', '--workload', 'mix', '--rounds', '2', '--csv', file);
    const why = describeRun(r);
    expect(r.status, why).toBe(0);
    expect(r.stderr, why).toBe(''); // not a terminal: no bar, nothing extra
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('cpus,variant,ops_per_sec,linear,pte_lock_wait_p99_us,ipis_per_op,preempt_off_max_us');
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.map((x) => `${x[0]} ${x[1]}`)).toEqual(['1 legacy', '1 rework', '2 legacy', '2 rework']);
    for (const variant of ['legacy', 'rework']) {
      const [one, two] = rows.filter((x) => x[1] === variant);
      expect(Number(one![3])).toBe(Number(one![2])); // linear at the smallest count is the measurement
      expect(Number(two![3])).toBeCloseTo(2 * Number(one![2]), 1);
      expect(Number(two![2])).toBeGreaterThan(0);
    }
  });

  it('compare --lock-stat prints the kernel columns and --trace writes one trace per variant', () => {
    const trace = join(dir, 'cmp.json');
    const r = cli('compare', '--pages', '300', '--cpus', '2', '--lock-stat', '--trace', trace);
    const why = describeRun(r);
    expect(r.status, why).toBe(0);
    expect(r.stdout).toContain('con-bounces    contentions   waittime-min');
    expect(r.stdout).toMatch(/ptlock_ptr\(page\)/);
    for (const variant of ['legacy', 'rework']) {
      const t = JSON.parse(readFileSync(join(dir, `cmp.${variant}.json`), 'utf8')) as { traceEvents: unknown[]; otherData: { variant: string } };
      expect(t.otherData.variant).toBe(variant);
      expect(t.traceEvents.length).toBeGreaterThan(10);
    }
  });

  for (const [mode, sig, code] of [['parallel', 'SIGINT', 130], ['deterministic', 'SIGTERM', 143]] as const) {
    it(`${sig} during a ${mode} run stops it, writes the partial JSON and exits ${code}, leaving no process behind`, async () => {
      const file = join(dir, `interrupted-${mode}.json`);
      const args = mode === 'parallel' ? ['--mode', 'parallel', '--workload', 'mix', '--tasks-per-cpu', '2', '--duration', '60s', '--rounds', '1000000000'] : ['--workload', 'munmap', '--pages', '2000000', '--memory', '9G'];
      const child = spawn(process.execPath, [...CLI_ARGV, 'run', ...args, '--json', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      // a loaded host may take seconds of wall time to start tsx: the signal goes once the process has done as much as 4 s did on an idle one
      await usedCpu(child.pid!, 3000);
      child.kill(sig);
      const t0 = performance.now();
      const status = await exited;
      expect(status, stdout).toBe(code);
      const json = JSON.parse(readFileSync(file, 'utf8')) as { error: { name: string }; steps: number };
      expect(json.error.name).toBe('Interrupted');
      expect(json.steps).toBeGreaterThan(0);
      expect(stdout).toContain('error: Interrupted');
      expect(child.exitCode).toBe(code); // the process, and with it every worker thread, is gone
      console.log(`${sig}: the ${mode} run ended ${(performance.now() - t0).toFixed(0)} ms after the signal`);
    }, 60_000);
  }

  it('SIGINT during a hunt campaign stops its workers, writes the seeds finished so far and the artifacts found, and exits 130', async () => {
    const file = join(dir, 'interrupted-hunt.json');
    const args = ['hunt', '--variant', 'free-before-flush', '--workload', 'munmap', '--pages', '600', '--cpus', '2', '--seeds', '1000000', '--jobs', '2', '--json', file];
    const child = spawn(process.execPath, [...CLI_ARGV, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    // wait for the first violation, so the campaign has something to keep
    for (let i = 0; i < 600 && !stdout.includes('found FREE_WHILE_REMOTE_TLB'); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    child.kill('SIGINT');
    const status = await exited;
    expect(status, stdout).toBe(130);
    const json = JSON.parse(readFileSync(file, 'utf8')) as { seedsRun: number; found: boolean; violations: { rule: string }[]; artifacts: string[] };
    expect(json.seedsRun).toBeGreaterThan(0);
    expect(json.seedsRun).toBeLessThan(1_000_000);
    expect(json.found).toBe(true);
    expect(json.violations.map((v) => v.rule)).toContain('FREE_WHILE_REMOTE_TLB');
    expect(json.artifacts.length).toBeGreaterThan(0);
    for (const a of json.artifacts) expect(JSON.parse(readFileSync(a, 'utf8')).kind).toBe('artifact');
    expect(child.exitCode).toBe(130);
  }, 90_000);

  it('free-before-flush exits 1 and reports FREE_WHILE_REMOTE_TLB', () => {
    const r = cli('run', '--variant', 'free-before-flush', '--pages', '100', '--cpus', '2');
    const why = describeRun(r);
    expect(r.status, why).toBe(1);
    expect(r.stdout, why).toContain('FREE_WHILE_REMOTE_TLB');
  });
});
