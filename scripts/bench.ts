// Speed of the model, measured here rather than asserted in tests: steps per
// second of the deterministic engine, and wall time of a parallel run, for
// each real design on the munmap workload. Ratios within one run are what to
// compare; the machine is shared and noisy.

import { makeConfig } from '../src/engine/configure.ts';
import { runOnce } from '../src/engine/run.ts';

const rows: string[] = [];
for (const variant of ['legacy', 'rework']) {
  for (const [pages, preempt] of [[4096, 'none'], [4096, 'full'], [100000, 'none']] as const) {
    const r = await runOnce(makeConfig({ variant, workload: 'munmap', pages, preempt, cpus: 4, readerAccesses: 2000 }));
    rows.push(`deterministic ${variant.padEnd(7)} munmap --pages ${String(pages).padEnd(6)} --preempt ${preempt.padEnd(4)}: ${r.steps} steps in ${r.elapsedMs.toFixed(0)} ms = ${Math.round(r.steps / (r.elapsedMs / 1000)).toLocaleString('en-US')} steps/s`);
  }
  for (const cpus of [2, 4]) {
    const r = await runOnce(makeConfig({ variant, workload: 'munmap', pages: 4096, cpus, mode: 'parallel' }));
    rows.push(`parallel      ${variant.padEnd(7)} munmap --pages 4096 --cpus ${cpus}: ${r.elapsedMs.toFixed(0)} ms wall, ${r.steps} steps, ${r.threads} threads`);
  }
}
console.log(rows.join('\n'));
