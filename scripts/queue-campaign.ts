// npm run queue-campaign [-- SEEDS]: one campaign (no-ack-wait on munmap,
// 2,000 seeds by default) run locally with --jobs 2 and then three times
// through a real redis-server with 2 worker processes of 1 job each, with a
// fault halfway through each: a worker killed with SIGKILL, the coordinator
// killed and re-attached, redis-server restarted. Prints each run's totals
// (seeds run, violation groups with first seeds and counts, failed runs,
// preemption coverage) and
// whether they equal the local run's; exits 1 if any differs. Too long for
// npm test, which runs the same faults on a smaller campaign.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { CliProcess } from '../test/cli-process.ts';
import { startRedis } from '../test/redis-server.ts';

const SEEDS = Number(process.argv[2] ?? 2000);
const CAMPAIGN = ['--variant', 'no-ack-wait', '--workload', 'munmap', '--seeds', String(SEEDS)];
const LOCK = ['--lock-ms', '3000'];
const dir = mkdtempSync(join(tmpdir(), 'shootdown-queue-campaign-'));
const redis = await startRedis('redis-server', `pw-${process.pid}`);
const procs: CliProcess[] = [];
const start = (...args: string[]): CliProcess => {
  const p = new CliProcess(dir, args);
  procs.push(p);
  return p;
};

interface HuntFile {
  seedsRun: number;
  seedsPerSec: number;
  violations: { rule: string; seed: number; count: number; location: string; detail: string }[];
  errors: unknown[];
  firstFailingSeed: number | null;
  coverage: unknown[];
  neverPreempted: string[];
}
const read = (name: string): HuntFile => JSON.parse(readFileSync(join(dir, name), 'utf8')) as HuntFile;
const totals = (f: HuntFile): unknown => ({ seedsRun: f.seedsRun, violations: f.violations, errors: f.errors, firstFailingSeed: f.firstFailingSeed, coverage: f.coverage, neverPreempted: f.neverPreempted });
const text = (f: HuntFile): string => `${f.seedsRun} seeds; ${f.violations.map((v) => `${v.rule} x${v.count} first at seed ${v.seed}`).join(', ') || 'no violations'}; ${f.errors.length} failed runs`;

/** Blocks done so far by the workers, from their logs. */
const blocksDone = (workers: CliProcess[]): number => workers.reduce((n, w) => n + (w.out.match(/ block \d+: seeds/g)?.length ?? 0), 0);
async function halfway(workers: CliProcess[], blocks: number): Promise<void> {
  while (blocksDone(workers) < blocks / 2) await new Promise((r) => setTimeout(r, 100));
}

const lines: string[] = [];
let failed = false;
try {
  let t0 = performance.now();
  const local = await start('hunt', ...CAMPAIGN, '--jobs', '2', '--json', 'local.json', '--artifacts', dir).done;
  const reference = read('local.json');
  lines.push(`local --jobs 2 (exit ${local.status}, ${((performance.now() - t0) / 1000).toFixed(0)} s): ${text(reference)}`);

  for (const fault of ['a worker killed with SIGKILL', 'the coordinator killed and re-attached', 'redis-server restarted'] as const) {
    const workers = [start('worker', '--queue', redis.url, '--jobs', '1', ...LOCK), start('worker', '--queue', redis.url, '--jobs', '1', ...LOCK)];
    const file = `queue-${procs.length}.json`;
    t0 = performance.now();
    let hunt = start('hunt', '--queue', redis.url, ...CAMPAIGN, '--json', file, '--artifacts', dir);
    const [, id, blocks] = await hunt.waitFor(/campaign (\S+) on .* in (\d+) blocks/);
    await halfway(workers, Number(blocks));
    if (fault === 'a worker killed with SIGKILL') workers[0]!.child.kill('SIGKILL');
    if (fault === 'redis-server restarted') await redis.restart();
    if (fault === 'the coordinator killed and re-attached') {
      hunt.child.kill('SIGKILL');
      await hunt.done;
      hunt = start('hunt', '--queue', redis.url, '--campaign', id!, '--json', file, '--artifacts', dir);
    }
    const end = await hunt.done;
    const q = read(file);
    const same = isDeepStrictEqual(totals(q), totals(reference));
    failed ||= !same;
    lines.push(`queue, ${fault} halfway (exit ${end.status}, ${((performance.now() - t0) / 1000).toFixed(0)} s): ${text(q)}: ${same ? 'identical to local' : 'DIFFERS from local'}`);
    await Promise.all(workers.map((w) => w.end()));
  }
} finally {
  await Promise.all(procs.map((p) => p.end('SIGKILL')));
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
console.log(lines.join('\n'));
process.exitCode = failed ? 1 : 0;
