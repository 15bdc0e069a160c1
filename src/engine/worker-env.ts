// How worker threads start: as one plain JavaScript module per entry point,
// bundled once per process from the TypeScript sources by esbuild and kept
// under node_modules/.cache/shootdown by the hash of its text. A worker that
// loaded tsx instead spent about a second of cpu compiling the model before
// its first step, in every pool of every run, and tsx's disk cache leaked
// descriptors in threads that were terminated. Packages stay external, so the
// bundle resolves them from the project's node_modules like the sources do.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import type { Piscina } from 'piscina';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'shootdown');

export type WorkerEntry = 'cpu' | 'hunt';

const bundled = new Map<WorkerEntry, string>();

/** The file a pool of this kind of worker loads. */
export function workerFile(entry: WorkerEntry): string {
  const known = bundled.get(entry);
  if (known) return known;
  const file = bundleEntry(join(ROOT, 'workers', `${entry}.ts`), entry, CACHE_DIR);
  bundled.set(entry, file);
  return file;
}

/**
 * `entry` and everything it imports from the sources, as one module written
 * in `dir` under `name` and the hash of its text. Code that finds files from
 * its own place (`new URL('../..', import.meta.url)` is the checkout) finds
 * them from a bundle two folders below the checkout as it does from src/.
 */
export function bundleEntry(entry: string, name: string, dir: string): string {
  const out = buildSync({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    write: false,
    logLevel: 'silent',
  }).outputFiles[0]!.contents;
  const file = join(dir, `${name}-${createHash('sha256').update(out).digest('hex').slice(0, 16)}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    // written aside and renamed, so a process starting at the same moment never loads half a file
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, out);
    renameSync(partial, file);
  }
  return file;
}

/** Source maps on, so a stack from inside a worker names the TypeScript line. */
export const WORKER_EXEC_ARGV = ['--enable-source-maps'];

/**
 * How long a pool's workers sit idle before it is destroyed. Node 20 takes a
 * terminated worker's isolate off its platform before it disposes of it, and
 * a TurboFan job still compiling for that worker in the gap aborts the whole
 * process (`NodePlatform::ForIsolate`: `(data.first) != nullptr`): two of four
 * 3-minute soaks, about one teardown in 3,000. A worker's last hot loop is
 * compiled in the background as its work ends; idle for this long, those
 * jobs are done before the isolate goes.
 */
export const TEARDOWN_SETTLE_MS = 50;

/** Destroy a pool of these workers once their background compiles are done (TEARDOWN_SETTLE_MS). */
export async function destroyPool(pool: Piscina): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, TEARDOWN_SETTLE_MS));
  await pool.destroy();
}
