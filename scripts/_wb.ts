import { makeConfig } from '../src/engine/configure.ts';
import { runOnce } from '../src/engine/run.ts';
const variant = process.argv[2] ?? 'rework';
const seeds = Number(process.argv[3] ?? 20);
const extra = JSON.parse(process.argv[4] ?? '{}');
const counts = new Map<string, number>();
let first: string | null = null;
const t0 = performance.now();
let c: any = null;
for (let seed = 1; seed <= seeds; seed++) {
  const r = await runOnce(makeConfig({ workload: 'writeback', variant, seed, ...extra }));
  c = r.totals;
  const key = r.error ? `error ${r.error.name}: ${r.error.message}` : r.violations.length ? r.violations[0]!.rule : 'clean';
  counts.set(key, (counts.get(key) ?? 0) + 1);
  if (key !== 'clean' && first === null) first = `seed ${seed}: ${key} ${r.violations[0]?.detail ?? ''}`;
}
console.log(variant, Object.fromEntries(counts), first, ((performance.now() - t0) / seeds).toFixed(1), 'ms/run');
console.log(JSON.stringify({ wp: c.wpFaults, mk: c.mkcleanPtes, wb: c.pagesWrittenBack, fs: c.fsyncs, fl: c.flusherRuns, dw: c.tlbDirtyWalks, segv: c.segfaults, ipis: c.ipisSent }));
